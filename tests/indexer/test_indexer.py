"""Indexer against a real node: rebuild + alias swap, sync, verify, rollback."""

from __future__ import annotations

from indexer.inspect import verify
from indexer.rebuild import current_indices, rebuild, rollback
from indexer.sync import sync_all
from registry.db import transaction
from registry.models import Innovation
from registry.records import delete, import_jsonl, record_to_dict, upsert
from tests.conftest import DATA_FILE, read_data
from tests.helpers import assert_failed_cleanly, run_module


def ids_in(client, alias: str) -> set[str]:
    client.indices.refresh(index=alias)
    response = client.search(index=alias, body={"size": 1000, "_source": False})
    return {hit["_id"] for hit in response["hits"]["hits"]}


def edit(factory, record_id: str, **changes) -> None:
    with transaction(factory) as session:
        data = record_to_dict(session.get(Innovation, record_id))
        data.pop("version")
        for key in ("last_verified", "created"):
            if data[key]:
                import datetime as dt

                data[key] = dt.date.fromisoformat(data[key])
        data.update(changes)
        upsert(session, data)


def test_rebuild_fills_both_aliases_with_the_visible_records(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    result = rebuild(client, factory, names)
    data = read_data()
    public = {r["id"] for r in data if r["status"] == "published"}
    members = {r["id"] for r in data if r["status"] in ("published", "archived")}
    assert ids_in(client, names.alias("public")) == public
    assert ids_in(client, names.alias("members")) == members
    assert result.counts == {"public": len(public), "members": len(members)}


def test_public_index_holds_no_member_or_editor_field(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    mapping = client.indices.get_mapping(index=names.alias("public"))
    fields = set(next(iter(mapping.values()))["mappings"]["properties"])
    assert not fields & {"contact", "budget_eur", "lessons_learned", "internal_notes"}
    members_mapping = client.indices.get_mapping(index=names.alias("members"))
    member_fields = set(next(iter(members_mapping.values()))["mappings"]["properties"])
    assert {"contact", "budget_eur", "lessons_learned"} <= member_fields
    assert "internal_notes" not in member_fields
    doc = client.get(index=names.alias("members"), id="walk-and-talk")["_source"]
    assert "internal_notes" not in doc and doc["contact"]["name"]


def test_second_rebuild_swaps_aliases_keeps_previous_and_rollback_returns(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    first = rebuild(client, factory, names)
    second = rebuild(client, factory, names)
    assert current_indices(client, names) == {
        "public": [second.indices["public"]],
        "members": [second.indices["members"]],
    }
    assert client.indices.exists(index=first.indices["public"])
    third = rebuild(client, factory, names)
    assert not client.indices.exists(index=first.indices["public"]), "older than previous kept"
    back = rollback(client, factory, names)
    assert back == second.indices
    assert current_indices(client, names)["public"] == [second.indices["public"]]
    assert third.indices["public"] != second.indices["public"]


def test_sync_applies_edits_unpublish_archive_and_delete(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    published = [r["id"] for r in read_data() if r["status"] == "published"]
    a, b, c = published[:3]

    edit(factory, a, title="Bijgewerkte titel zeldzaamwoord")
    edit(factory, b, status="archived")
    with transaction(factory) as session:
        delete(session, c)
    result = sync_all(client, factory, names)
    assert result.changes == 3 and not result.failed

    public = ids_in(client, names.alias("public"))
    members = ids_in(client, names.alias("members"))
    assert a in public and b not in public and c not in public
    assert b in members and c not in members
    hit = client.search(
        index=names.alias("public"), body={"query": {"match": {"title": "zeldzaamwoord"}}}
    )["hits"]["hits"]
    assert [h["_id"] for h in hit] == [a]
    drift = verify(client, factory, names)
    assert all(d.clean for d in drift.values()), drift


def test_replayed_older_change_never_overwrites_newer_document(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    record_id = read_data()[0]["id"]
    stale_version = client.get(index=names.alias("public"), id=record_id)["_version"]
    edit(factory, record_id, title="Versie twee")
    sync_all(client, factory, names)
    stored = client.get(index=names.alias("public"), id=record_id)
    assert stored["_version"] > stale_version
    response = client.index(
        index=names.alias("public"),
        id=record_id,
        body={**stored["_source"], "title": "oud"},
        params={"version": stale_version, "version_type": "external_gte"},
        ignore=409,
    )
    assert response.get("status") == 409
    assert client.get(index=names.alias("public"), id=record_id)["_source"]["title"] == (
        "Versie twee"
    )


def test_verify_reports_drift(client, registry, names):
    _, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    record_id = next(r["id"] for r in read_data() if r["status"] == "published")
    client.delete(index=names.alias("public"), id=record_id, refresh=True)
    edit(factory, read_data()[1]["id"], summary="Gewijzigd zonder sync")
    drift = verify(client, factory, names)
    assert drift["public"].missing == [record_id]
    assert read_data()[1]["id"] in drift["members"].stale


def test_cli_rebuild_status_verify_as_real_processes(opensearch_url, registry, names):
    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    env = {"DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url, "INDEX_PREFIX": names.prefix}

    def run(*args):
        return run_module("indexer", *args, env=env, timeout=300)

    sync_first = run("sync")
    assert sync_first.returncode == 1 and "rebuild" in sync_first.stderr
    built = run("rebuild")
    assert built.returncode == 0, built.stderr
    published = sum(1 for r in read_data() if r["status"] == "published")
    assert f"({published} docs)" in built.stdout
    checked = run("verify")
    assert checked.returncode == 0 and "no drift" in checked.stdout
    state = run("status")
    assert state.returncode == 0 and "lag 0 event(s)" in state.stdout
    usage = run("frobnicate")
    assert usage.returncode == 2


def test_cli_reports_unreachable_opensearch_without_traceback(registry, names):
    url, _ = registry
    unreachable = "http://127.0.0.1:9"
    env = {"DATABASE_URL": url, "OPENSEARCH_URL": unreachable, "INDEX_PREFIX": names.prefix}
    assert_failed_cleanly(run_module("indexer", "sync", env=env), "not reachable")
