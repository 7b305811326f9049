"""Community operations on the real data: merge, split, rename, retire,
undo; facet counts, notices and old URLs compared with a recount from the data file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select

from indexer.inspect import verify
from indexer.rebuild import rebuild
from indexer.sync import sync_all
from registry.db import make_session_factory, transaction
from registry.models import Change, Innovation
from registry.records import import_jsonl
from registry.taxonomy_ops import Operation, TaxonomyError, apply, preview, undo
from tests.conftest import DATA_FILE, ROOT, TAXONOMY_FILE, published_records, read_data

SEED = {t["id"]: t for t in json.loads(TAXONOMY_FILE.read_text("utf-8"))["communities"]}


def seed_current(community_id: str) -> str:
    term = SEED[community_id]
    while term["status"] != "active":
        term = SEED[term.get("merged_into") or term.get("renamed_to")]
    return term["id"]


def recount(mapping) -> Counter:
    """Published innovations per community after ``mapping(record, seed id) -> ids``."""
    counts: Counter = Counter()
    for record in published_records():
        ids: list[str] = []
        for entered in record["communities"]:
            for current in mapping(record, seed_current(entered)):
                if current not in ids:
                    ids.append(current)
        counts.update(ids)
    return counts


def facet_counts(http, **params) -> dict[str, int]:
    result = http.get("/api/v1/search", query_string=params).get_json()
    return {item["value"]: item["count"] for item in result["facets"]["community"]}


@pytest.fixture
def world(client, registry, names, opensearch_url):
    """A registry with the real data, its index, and a portal on both."""
    from portal import create_app

    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url,
                      "INDEX_PREFIX": names.prefix, "WTF_CSRF_ENABLED": False,
                      "COMMUNITY_FORMERLY_DAYS": 36500, "TAXONOMY_CHECK_S": 0})  # fmt: skip
    return {"factory": factory, "names": names, "http": app.test_client(), "url": url}


def run_op(client, world, op: Operation) -> int:
    with transaction(world["factory"]) as session:
        event = apply(session, op, "test")
        affected = event.payload["affected"]
    sync(client, world)
    return affected


def sync(client, world) -> None:
    """Apply the change feed and make it visible (the index refreshes every second)."""
    assert not sync_all(client, world["factory"], world["names"]).failed
    client.indices.refresh(index=f"{world['names'].prefix}*")


def assert_clean(client, world) -> None:
    drift = verify(client, world["factory"], world["names"])
    assert all(d.clean for d in drift.values())


def test_seed_history_counts_under_current_communities(world):
    assert facet_counts(world["http"]) == dict(recount(lambda r, c: [c]))


def test_merge_counts_notice_and_old_urls(client, world):
    merged = {"mediawijsheid", "digitale-bibliotheek"}
    with world["factory"]() as session:
        shown = preview(session, Operation("merge", sorted(merged), "digitaal-mediawijs",
                                           labels={"nl": "Digitaal en mediawijs"}))  # fmt: skip
    expected = recount(lambda r, c: ["digitaal-mediawijs"] if c in merged else [c])
    assert shown.counts_after == dict(expected)
    with world["factory"]() as session:
        feed_before = session.scalar(select(func.count()).select_from(Change))
    affected = run_op(client, world, shown.operation)
    assert affected == len(shown.affected)
    with world["factory"]() as session:
        feed_after = session.scalar(select(func.count()).select_from(Change))
    assert feed_after - feed_before == affected, "only the affected innovations are re-fed"

    http = world["http"]
    assert facet_counts(http) == dict(expected)
    old = http.get("/api/v1/search?community=mediawijsheid&size=100").get_json()
    assert old["total"] == expected["digitaal-mediawijs"]
    assert any("Digitaal en mediawijs" in notice for notice in old["notices"])
    label = next(i["label"] for i in old["facets"]["community"]
                 if i["value"] == "digitaal-mediawijs")  # fmt: skip
    assert label.startswith("Digitaal en mediawijs (voorheen")
    assert "Mediawijsheid" in label
    assert_clean(client, world)


def test_rename_id_keeps_old_id_working(client, world):
    run_op(client, world, Operation("rename", ["marketing"], "marketing-communicatie",
                                    labels={"nl": "Marketing en communicatie"}))  # fmt: skip
    expected = recount(lambda r, c: ["marketing-communicatie"] if c == "marketing" else [c])
    http = world["http"]
    assert facet_counts(http) == dict(expected)
    result = http.get("/zoeken?community=marketing").get_data(as_text=True)
    assert "heet nu" in result and "Marketing en communicatie" in result


def test_label_only_rename_touches_no_innovation(client, world):
    affected = run_op(client, world, Operation("rename", ["effectmeting"],
                                               labels={"nl": "Impact meten"}))  # fmt: skip
    assert affected == 0
    result = world["http"].get("/api/v1/search?community=effectmeting").get_json()
    item = next(i for i in result["facets"]["community"] if i["value"] == "effectmeting")
    assert item["label"] == "Impact meten"


def test_split_with_per_innovation_assignment_then_undo(client, world):
    before = facet_counts(world["http"])
    members = sorted(r["id"] for r in published_records()
                     if "werkplaats" in [seed_current(c) for c in r["communities"]])  # fmt: skip
    to_makers, unassigned = members[: len(members) // 2], members[len(members) // 2 :]
    op = Operation("split", ["werkplaats"], parts=["makerplaats", "digitaal-lab"],
                   labels={"makerplaats": {"nl": "Makerplaats"},
                           "digitaal-lab": {"nl": "Digitaal lab"}},
                   assignments={rid: ["makerplaats"] for rid in to_makers})  # fmt: skip
    run_op(client, world, op)

    def mapping(record, current):
        if current != "werkplaats":
            return [current]
        return ["makerplaats"] if record["id"] in to_makers else ["makerplaats", "digitaal-lab"]

    expected = recount(mapping)
    assert facet_counts(world["http"]) == dict(expected)
    assert expected["digitaal-lab"] == len(unassigned)
    assert_clean(client, world)

    with transaction(world["factory"]) as session:
        undo(session, "test")
    sync(client, world)
    assert facet_counts(world["http"]) == before
    assert_clean(client, world)


def test_retire_with_and_without_successor(client, world):
    run_op(client, world, Operation("retire", ["vakdeskundigheid"], "kennisdeling"))
    expected = recount(lambda r, c: ["kennisdeling"] if c == "vakdeskundigheid" else [c])
    assert facet_counts(world["http"]) == dict(expected)
    run_op(client, world, Operation("retire", ["marketing"]))
    expected = recount(lambda r, c: [] if c == "marketing" else
                       ["kennisdeling"] if c == "vakdeskundigheid" else [c])  # fmt: skip
    assert facet_counts(world["http"]) == dict(expected)
    gone = world["http"].get("/api/v1/search?community=marketing").get_json()
    assert gone["total"] == 0 and gone["notices"]


@pytest.mark.parametrize(
    "op, message",
    [
        (Operation("merge", ["mediawijsheid"], "x"), "two or more"),
        (Operation("merge", ["basisvaardigheden", "marketing"], "x"), "not active"),
        (Operation("rename", ["bestaat-niet"], "y"), "unknown community"),
        (Operation("rename", ["marketing"], "werkplaats"), "exists already"),
        (Operation("split", ["marketing"], parts=["alleen-een"]), "two or more parts"),
        (Operation("create", [], "Geen Slug"), "not a valid id"),
        (Operation("retire", ["marketing"], "marketing"), "must differ"),
        (Operation("split", ["marketing"], parts=["marketing", "kennisdeling"]), "must differ"),
        (Operation("merge", ["marketing", "marketing"], "x"), "named twice"),
        (Operation("create", [], "x" * 130, labels={"nl": "X"}), "120 characters"),
        (Operation("create", [], "nieuw", labels={"nl": "N"}, group="verzonnen"), "unknown group"),
    ],
)
def test_invalid_operations_are_refused_and_change_nothing(world, op, message):
    with world["factory"]() as session, pytest.raises(TaxonomyError, match=message):
        preview(session, op)


@pytest.mark.parametrize(
    "raw",
    [
        "niet-json",
        '{"op": "merge", "sources": ["a", "b"], "target": "c", "labels": "oops"}',
        '{"op": "merge", "sources": ["a", "b"], "target": "c", "labels": {"nl": 5}}',
        '{"op": "split", "sources": ["marketing"], "parts": "ab"}',
        '{"op": "create", "target": "nieuw-a", "labels": {"nl": "A"}, "group": ["x"]}',
        '["geen", "object"]',
    ],
)
def test_forged_operations_are_refused_with_400(world, raw):
    from registry.users import create_user

    with transaction(world["factory"]) as session:
        create_user(session, "vals@bieb.example", "admin", "een-lang-wachtwoord")
    http = world["http"]
    http.post("/login", data={"email": "vals@bieb.example", "password": "een-lang-wachtwoord"})
    response = http.post("/beheer/communities/toepassen", data={"operation": raw})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert http.get("/beheer/communities").status_code == 200


def test_searches_keep_answering_during_a_merge(client, world, opensearch_url):
    from portal import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": world["url"],
            "OPENSEARCH_URL": opensearch_url,
            "INDEX_PREFIX": world["names"].prefix,
        }
    )
    statuses: list[int] = []
    stop = threading.Event()

    def search_loop():
        http = app.test_client()
        while not stop.is_set() and len(statuses) < 2000:
            statuses.append(http.get("/api/v1/search?community=mediawijsheid").status_code)

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        run_op(
            client,
            world,
            Operation(
                "merge",
                ["mediawijsheid", "digitale-bibliotheek"],
                "digitaal-mediawijs",
                labels={"nl": "Digitaal"},
            ),
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert statuses and set(statuses) == {200}


def test_admin_previews_and_applies_a_merge_over_http(client, world):
    from registry.users import create_user

    with transaction(world["factory"]) as session:
        create_user(session, "beheer@bieb.example", "admin", "een-lang-wachtwoord")
        create_user(session, "lid@bieb.example", "member", "een-lang-wachtwoord")
    http = world["http"]
    member = http.application.test_client()
    member.post("/login", data={"email": "lid@bieb.example", "password": "een-lang-wachtwoord"})
    assert member.get("/beheer/communities").status_code == 403
    assert http.get("/beheer/communities").status_code == 302
    http.post("/login", data={"email": "beheer@bieb.example", "password": "een-lang-wachtwoord"})
    page = http.post("/beheer/communities/voorbeeld", data={
        "op": "merge", "sources": ["marketing", "kennisdeling"], "target": "delen-en-vertellen",
        "label_nl": "Delen en vertellen"}).get_data(as_text=True)  # fmt: skip
    expected = recount(lambda r, c: ["delen-en-vertellen"] if c in ("marketing", "kennisdeling")
                       else [c])  # fmt: skip
    assert f'<td class="num">{expected["delen-en-vertellen"]}</td>' in page
    operation = page.split('name="operation" value="')[1].split('"')[0]
    import html as htmllib

    applied = http.post("/beheer/communities/toepassen",
                        data={"operation": htmllib.unescape(operation)})  # fmt: skip
    assert applied.status_code == 302
    sync(client, world)
    assert facet_counts(http.application.test_client()) == dict(expected)  # public counts
    overview = http.get(applied.headers["Location"]).get_data(as_text=True)
    assert "admin:beheer@bieb.example" in overview
    assert "/beheer/communities/ongedaan" in overview


def test_cli_merge_history_undo(world):
    env = {**os.environ, "DATABASE_URL": world["url"]}

    def flask(*args):
        command = [sys.executable, "-m", "flask", "--app", "portal", "taxonomy", *args]
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    dry = flask("merge", "marketing", "kennisdeling", "--into", "samen", "--label-nl", "Samen",
                "--dry-run")  # fmt: skip
    assert dry.returncode == 0 and "innovation(s) change" in dry.stdout
    assert "samen: 0 ->" in dry.stdout
    done = flask("merge", "marketing", "kennisdeling", "--into", "samen", "--label-nl", "Samen",
                 "--yes")  # fmt: skip
    assert done.returncode == 0 and "applied as #4" in done.stdout
    bad = flask("merge", "marketing", "werkplaats", "--into", "x", "--yes")
    assert bad.returncode == 1 and "not active" in bad.stderr and "Traceback" not in bad.stderr
    history = flask("history").stdout.splitlines()
    assert history[-1].startswith("#4") and "merge" in history[-1]
    undone = flask("undo", "--yes")
    assert undone.returncode == 0 and "undo of #4" in undone.stdout
    assert "(undone by #5)" in flask("history").stdout


def test_admin_errors_are_in_dutch(world):
    from registry.users import create_user

    with transaction(world["factory"]) as session:
        create_user(session, "nl@bieb.example", "admin", "een-lang-wachtwoord")
    http = world["http"]
    http.post("/login", data={"email": "nl@bieb.example", "password": "een-lang-wachtwoord"})
    form = {"op": "merge", "sources": ["mediawijsheid"], "target": "x"}
    page = http.post("/beheer/communities/voorbeeld", data=form).get_data(as_text=True)
    assert "Kies twee of meer communities" in page
    page = http.post("/beheer/communities/ongedaan").get_data(as_text=True)
    assert "Er is geen bewerking om ongedaan te maken." in page


def test_an_open_merge_and_import_block_no_search_log_write_or_login(world, database, tmp_path):
    """While a merge and an import sit uncommitted, other sessions log searches, log in
    and read (PostgreSQL: row locks and MVCC; SQLite has one writer at a time)."""
    if database.name == "sqlite":
        pytest.skip("SQLite serialises writers: any other write waits for the open transactions")
    from registry.records import upsert
    from registry.schemas import InnovationSchema
    from registry.search_log import log_search
    from registry.taxonomy import load_taxonomy
    from registry.users import authenticate, create_user, open_login

    factory = world["factory"]
    with transaction(factory) as session:
        create_user(session, "lezer@bieb.example", "member", "een-lang-wachtwoord")
        schema = InnovationSchema(load_taxonomy(session))
    record = {k: v for k, v in read_data()[0].items() if k != "id"}
    merge, imported = factory(), factory()
    merge.begin()
    imported.begin()
    apply(merge, Operation("merge", ["mediawijsheid", "digitale-bibliotheek"], "dm",
                           labels={"nl": "Digitaal en mediawijs"}), "test")  # fmt: skip
    for number in range(50):
        upsert(imported, schema.load({**record, "id": f"import-{number}"}))
    merge.flush()
    imported.flush()
    # a blocked statement fails after 2 s instead of hanging the test
    probe = create_engine(world["url"], connect_args={"options": "-c lock_timeout=2000"})
    try:
        started = time.monotonic()
        with make_session_factory(probe)() as session, session.begin():
            log_search(session, "leesclub", {"phase": ["idee"]}, total=3)
            user = authenticate(session, "lezer@bieb.example", "een-lang-wachtwoord")
            assert user is not None
            open_login(session, user, 3600)
            assert session.get(Innovation, "import-0") is None  # not committed yet
        assert time.monotonic() - started < 2
    finally:
        probe.dispose()
        merge.rollback()
        imported.rollback()
        merge.close()
        imported.close()
