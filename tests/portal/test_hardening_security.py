"""Hardening against outside attacks, against a real node, SQLite and gunicorn:
cursors tied to their caller, concurrent submissions, CSV formulas, logout that
revokes, login limits, the Host header, and inputs that used to answer 5xx.

Uses its own small registry: a few published records (enough for a cursor walk), an
archived record with a canary word, a record whose text starts like a spreadsheet
formula, and one user per role.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree as ET

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from indexer.client import IndexNames
from indexer.rebuild import rebuild
from registry.db import transaction
from registry.models import Innovation, User
from registry.records import import_jsonl
from registry.users import create_user
from tests.conftest import RUN_ID, make_registry, serve_portal
from tests.helpers import assert_failed_cleanly, create_role_users, run_flask, site_config
from tests.portal.test_access import BASE

SECRET = "hardening-test"
PASSWORD = "een-lang-wachtwoord"
ARCHIVED_CANARY = "hardarchief9z"
PUBLIC_BASE = "https://innovatiebieb.example"
FORMULAS = {
    "title": '=HYPERLINK("http://formule.example","klik")',
    "summary": "+31 6 1234 5678 belt u terug",
    "organisation": "@SUM(1+1)",
    "keywords": ["-2+3", "\tverborgen", "\rterug"],
}
RECORDS = [
    *({"id": f"hard-gepubliceerd-{n}", "title": f"Hardproef {n}"} for n in range(1, 8)),
    {"id": "hard-archief", "title": f"Hardproef {ARCHIVED_CANARY}", "status": "archived"},
    {"id": "hard-formule", **FORMULAS},
]
PUBLISHED = 8
"""Published records above: seven ``hard-gepubliceerd-*`` and the formula record."""


def email(role: str) -> str:
    return f"h-{role}@bieb.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory, client, opensearch_url):
    """A small registry and index, one user per role, the app and its config."""
    from portal import create_app

    path = tmp_path_factory.mktemp("hardening")
    url, factory = make_registry(path)
    extra = path / "records.jsonl"
    extra.write_text("\n".join(json.dumps({**BASE, **r}) for r in RECORDS) + "\n", "utf-8")
    assert not import_jsonl(factory, extra).rejected
    create_role_users(factory, email, PASSWORD)
    names = IndexNames(f"t{RUN_ID}-hardening-")
    rebuild(client, factory, names)
    config = site_config(url, opensearch_url, names.prefix, SECRET, PUBLIC_BASE_URL=PUBLIC_BASE)
    yield {
        "app": create_app(config),
        "config": config,
        "factory": factory,
        "url": url,
        "names": names,
        "opensearch_url": opensearch_url,
    }
    client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)


_address = iter(range(1, 100_000))


def browser(site, role: str | None = None):
    """A test client with its own client address (rate limits do not mix)."""
    http = site["app"].test_client()
    number = next(_address)
    http.environ_base["REMOTE_ADDR"] = f"10.13.{number // 250}.{number % 250 + 1}"
    if role:
        response = http.post("/login", data={"email": email(role), "password": PASSWORD})
        assert response.status_code == 302, response.data
    return http


def error_of(response) -> dict:
    assert response.is_json, response.data[:300]
    return response.get_json()["error"]


def open_contexts(client, names, audience: str = "public") -> int:
    """Open search contexts (points in time among them) on an audience's index."""
    stats = client.indices.stats(index=names.alias(audience), metric="search")
    return stats["_all"]["total"]["search"]["open_contexts"]


# --- cursors are tied to the caller ---------------------------------------------------


def test_a_members_cursor_does_not_walk_the_members_index_for_an_anonymous_caller(site):
    member = browser(site, "member")
    first = member.get("/api/v1/search?cursor=start&size=1&sort=title").get_json()
    assert first["next_cursor"]
    response = browser(site).get(
        "/api/v1/search", query_string={"cursor": first["next_cursor"], "size": 1, "sort": "title"}
    )
    assert response.status_code == 400
    assert ARCHIVED_CANARY not in response.get_data(as_text=True)
    error = error_of(response)
    assert (error["code"], error["field"]) == ("cursor_foreign", "cursor")
    assert "cursor=start" in error["message"]


def test_an_anonymous_cursor_walks_the_public_index_exactly_once_and_closes(site, client):
    http = browser(site)
    before = open_contexts(client, site["names"])
    seen, cursor = [], "start"
    while cursor:
        result = http.get("/api/v1/search", query_string={"cursor": cursor, "size": 3}).get_json()
        seen += [hit["id"] for hit in result["hits"]]
        cursor = result["next_cursor"]
        assert len(seen) <= PUBLISHED
    assert len(seen) == len(set(seen)) == PUBLISHED
    assert "hard-archief" not in seen
    assert open_contexts(client, site["names"]) == before, "the walk left its point in time open"


def test_a_forged_or_altered_cursor_is_a_400(site):
    http = browser(site)
    cursor = http.get("/api/v1/search?cursor=start&size=1").get_json()["next_cursor"]
    payload, _, signature = cursor.partition(".")
    altered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    # the unsigned shape cursors used to have, naming a point in time of the node
    pit = site_pit(site)
    unsigned = base64.urlsafe_b64encode(json.dumps({"pit": pit, "after": [1]}).encode()).decode()
    for bad in (altered, unsigned, "x" * 5000, "bm9wZQ"):
        response = http.get("/api/v1/search", query_string={"cursor": bad, "size": 1})
        assert response.status_code == 400, bad[:40]
        assert error_of(response)["code"] == "invalid_cursor"


def site_pit(site) -> str:
    """The point-in-time id inside a fresh anonymous cursor (read with the secret)."""
    cursor = browser(site).get("/api/v1/search?cursor=start&size=1").get_json()["next_cursor"]
    return URLSafeTimedSerializer(SECRET, salt="search-cursor").loads(cursor)["pit"]


def test_a_stale_cursor_is_a_400_that_says_so(site):
    http = browser(site)
    cursor = http.get("/api/v1/search?cursor=start&size=1").get_json()["next_cursor"]
    payload = URLSafeTimedSerializer(SECRET, salt="search-cursor").loads(cursor)

    class AnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    stale = URLSafeTimedSerializer(SECRET, salt="search-cursor", signer=AnHourAgo).dumps(payload)
    response = http.get("/api/v1/search", query_string={"cursor": stale, "size": 1, "lang": "nl"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "cursor_expired"
    assert "verlopen" in error["message"]


def test_opening_cursor_walks_is_rate_limited_per_client(site, client):
    from portal.views.api import CURSOR_START_LIMIT

    allowed = int(CURSOR_START_LIMIT.split()[0])
    http = browser(site)
    before = open_contexts(client, site["names"])
    statuses = [
        http.get("/api/v1/search?cursor=start&size=1").status_code for _ in range(allowed + 3)
    ]
    assert statuses[:allowed] == [200] * allowed
    assert statuses[allowed:] == [429] * 3
    assert open_contexts(client, site["names"]) - before == allowed
    # paging with page= and continuing a walk are not limited
    assert http.get("/api/v1/search?size=1").status_code == 200
    # another client still opens walks
    assert browser(site).get("/api/v1/search?cursor=start&size=1").status_code == 200


# --- inputs that used to answer 5xx ----------------------------------------------------


def _unsigned(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_of_deeply_nested_json_is_a_400(site):
    nested = _unsigned(b"[" * 1100 + b"]" * 1100)
    response = browser(site).get("/api/v1/search", query_string={"cursor": nested})
    assert response.status_code == 400
    assert error_of(response)["field"] == "cursor"


def test_a_cursor_with_null_sort_values_is_a_400(site):
    http = browser(site)
    pit = site_pit(site)
    for cursor in (
        _unsigned({"pit": pit, "after": [None, None]}),
        URLSafeTimedSerializer(SECRET, salt="search-cursor").dumps(
            {"aud": "public", "alias": site["names"].alias("public"), "pit": pit,
             "after": [None, None]}
        ),
    ):  # fmt: skip
        response = http.get("/api/v1/search", query_string={"cursor": cursor, "size": 1})
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_cursor"


# --- CSV exports never hold a live formula ---------------------------------------------


def test_the_search_export_guards_every_cell_that_starts_like_a_formula(site):
    response = browser(site).get("/api/v1/export?format=csv&q=klik")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, found = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["id"] for row in found] == ["hard-formule"]
    row = found[0]
    assert row["title"] == "'" + FORMULAS["title"]
    assert row["summary"] == "'" + FORMULAS["summary"]
    assert row["organisation"] == "'" + FORMULAS["organisation"]
    assert row["keywords"].startswith("'-2+3")
    for name in header:
        assert not row[name].startswith(("=", "+", "-", "@", "\t", "\r")), name


def test_the_statistics_csv_and_the_export_share_one_writer():
    from portal import csv_writer, exports
    from portal.stats import tables

    assert exports.CsvWriter is csv_writer.CsvWriter
    assert tables.csv_writer is csv_writer
    table = tables.Table("t", "caption", ["=kop", "aantal"], [("@zoekwoord", [-1, "+3"])])
    assert tables.csv_text(table).splitlines() == ["'=kop,aantal", "'@zoekwoord,-1,'+3"]


# --- absolute links never come from the Host header -----------------------------------


def _links(xml_text: str) -> list[str]:
    root = ET.fromstring(xml_text)
    found = [e.get("href") or e.get("template") for e in root.iter() if e.get("href")
             or e.get("template")]  # fmt: skip
    found += [e.text for e in root.iter() if e.tag.endswith("}id")]
    return found


@pytest.mark.parametrize("path", ["/feed.atom", "/feed.atom?q=hardproef", "/opensearch.xml",
                                  "/innovaties/hard-gepubliceerd-1"])  # fmt: skip
def test_absolute_links_use_the_public_base_url_whatever_the_host_header(site, path):
    response = browser(site).get(path, headers={"Host": "evil.example"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "evil.example" not in text
    if path.endswith((".atom", ".xml")) or "?" in path:
        links = _links(text)
        assert links and all(link.startswith(PUBLIC_BASE + "/") for link in links), links
    else:
        assert f"{PUBLIC_BASE}/innovaties/hard-gepubliceerd-1" in text


def test_a_spoofed_host_reaches_no_link_through_gunicorn(site):
    with serve_portal(site["url"], site["opensearch_url"], site["names"].prefix) as base:
        for path in ("/feed.atom", "/opensearch.xml"):
            response = requests.get(base + path, headers={"Host": "evil.example"}, timeout=10)
            assert response.status_code == 200
            assert "evil.example" not in response.text
            assert "http://127.0.0.1:8000/" in response.text  # the default PUBLIC_BASE_URL


@pytest.mark.parametrize("path", ["/innovaties/", "/api/v1/innovations/"])
def test_an_over_long_id_is_a_404_without_reaching_the_cluster(site, path):
    response = browser(site).get(path + "a" * 5000)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert error_of(response)["code"] == "not_found"


def test_an_admin_operation_of_deeply_nested_json_is_a_400(site):
    admin = browser(site, "admin")
    for operation in ("[" * 5000 + "]" * 5000, json.dumps({"op": "merge", "x": [[[[[[[1]]]]]]]})):
        response = admin.post("/beheer/communities/toepassen", data={"operation": operation})
        assert response.status_code == 400
        assert "Internal" not in response.get_data(as_text=True)


# --- import: every line on its own, within limits ---------------------------------------


def test_import_reports_a_deeply_nested_or_huge_line_and_imports_the_others(tmp_path):
    from registry.records import MAX_LINE_BYTES

    url, factory = make_registry(tmp_path)
    good = [{**BASE, "id": f"import-goed-{n}", "title": f"Goed {n}"} for n in range(3)]
    lines = [
        json.dumps(good[0]),
        "[" * 100_000 + "]" * 100_000,
        json.dumps(good[1]),
        json.dumps(
            {**BASE, "id": "import-diep", "title": "Diep", "contact": {"name": [[[["x"]]]]}}
        ),
        json.dumps({**BASE, "id": "import-lang", "title": "x" * (MAX_LINE_BYTES + 10)}),
        json.dumps(good[2]),
    ]
    path = tmp_path / "import.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    proc = run_flask("records", "import", str(path), env={"DATABASE_URL": url})
    assert_failed_cleanly(proc)
    out = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in out] == ["line 2", "line 4", "line 5"], out
    assert "nested deeper" in out[0] and "nested deeper" in out[1]
    assert f"longer than {MAX_LINE_BYTES} bytes" in out[2]
    with factory() as session:
        ids = set(session.scalars(select(Innovation.id)))
    assert ids == {record["id"] for record in good}


# --- concurrent submissions -------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_of(session: requests.Session, url: str) -> str:
    return CSRF.search(session.get(url, timeout=30).text).group(1)


def portal_login(base: str, role: str, remember: bool = False) -> requests.Session:
    """A logged-in ``requests`` session against a served portal (with CSRF tokens)."""
    session = requests.Session()
    form = {
        "email": email(role),
        "password": PASSWORD,
        "csrf_token": csrf_of(session, f"{base}/login"),
    }
    if remember:
        form["remember"] = "y"
    response = session.post(f"{base}/login", data=form, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text[:300]
    return session


def submission_form(title: str, summary: str, token: str) -> dict:
    return {
        "csrf_token": token, "action": "save", "title": title, "summary": summary,
        "description": BASE["description"], "priorities": BASE["priorities"],
        "communities": BASE["communities"], "phase": BASE["phase"],
        "innovation_type": BASE["innovation_type"], "target_groups": BASE["target_groups"],
        "organisation": BASE["organisation"], "province": BASE["province"],
    }  # fmt: skip


def test_concurrent_submissions_with_one_title_each_land_in_their_own_record(site):
    title = "Gelijktijdige titelproef"
    per_member = 6
    with serve_portal(site["url"], site["opensearch_url"], site["names"].prefix) as base:
        members = {role: portal_login(base, role) for role in ("member", "editor")}
        tokens = {role: csrf_of(s, f"{base}/innovaties/nieuw") for role, s in members.items()}
        jobs = [(role, n) for n in range(per_member) for role in members]
        start = threading.Barrier(len(jobs))

        def send(job):
            role, number = job
            form = submission_form(title, f"Samenvatting van {role} nummer {number}", tokens[role])
            start.wait()
            response = members[role].post(
                f"{base}/innovaties/nieuw", data=form, allow_redirects=False, timeout=60
            )
            return role, number, response.status_code

        with ThreadPoolExecutor(len(jobs)) as pool:
            outcomes = list(pool.map(send, jobs))
    assert [status for *_, status in outcomes] == [302] * len(jobs), outcomes
    owners = {}
    with transaction(site["factory"]) as session:
        for role in members:
            owners[session.scalar(select(User.id).where(User.email == email(role)))] = role
        rows = session.scalars(select(Innovation).where(Innovation.title == title)).all()
        found = [(owners[r.owner_id], r.summary, r.id, r.version) for r in rows]
    assert len(found) == len(jobs), found
    assert len({record_id for *_, record_id, _ in found}) == len(jobs)
    for owner, summary, _id, version in found:
        assert summary.startswith(f"Samenvatting van {owner} "), (owner, summary)
        assert version == 1, "a submission changed an existing record"
    assert sorted(summary for _, summary, *_ in found) == sorted(
        f"Samenvatting van {role} nummer {n}" for role, n in jobs
    )


# --- logout revokes the login server-side -----------------------------------------------


def is_logged_in(base: str, cookies: dict) -> bool:
    """Whether a fresh client holding only ``cookies`` is logged in."""
    fresh = requests.Session()
    for name, value in cookies.items():
        fresh.cookies.set(name, value)
    response = fresh.get(f"{base}/mijn/inzendingen", allow_redirects=False, timeout=30)
    return response.status_code == 200


def test_saved_session_and_remember_cookies_stop_working_after_logout(site):
    with serve_portal(site["url"], site["opensearch_url"], site["names"].prefix) as base:
        browser_session = portal_login(base, "analyst", remember=True)
        saved = browser_session.cookies.get_dict()
        session_cookie = {"session": saved["session"]}
        remember_cookie = {"remember_token": saved["remember_token"]}
        assert is_logged_in(base, session_cookie) and is_logged_in(base, remember_cookie)
        token = csrf_of(browser_session, f"{base}/mijn/inzendingen")
        response = browser_session.post(
            f"{base}/logout", data={"csrf_token": token}, allow_redirects=False, timeout=30
        )
        assert response.status_code == 302
        assert not is_logged_in(base, session_cookie), "the saved session cookie still works"
        assert not is_logged_in(base, remember_cookie), "the saved remember-me cookie still works"


def test_log_out_everywhere_ends_every_login_of_the_account(site):
    with serve_portal(site["url"], site["opensearch_url"], site["names"].prefix) as base:
        here = portal_login(base, "editor", remember=True)
        elsewhere = portal_login(base, "editor", remember=True)
        other_user = portal_login(base, "member")
        saved = elsewhere.cookies.get_dict()
        page = here.get(f"{base}/mijn/account", timeout=30)
        assert page.status_code == 200 and "Overal uitloggen" in page.text
        response = here.post(
            f"{base}/mijn/account/overal-uitloggen",
            data={"csrf_token": CSRF.search(page.text).group(1)},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert response.status_code == 302
        assert not is_logged_in(base, here.cookies.get_dict())
        assert not is_logged_in(base, {"session": saved["session"]})
        assert not is_logged_in(base, {"remember_token": saved["remember_token"]})
        assert is_logged_in(base, other_user.cookies.get_dict()), "another account was logged out"
        assert (
            "op elk apparaat uitgelogd"
            in here.get(base + response.headers["Location"], timeout=30).text
        )


# --- login limits per account, constant login time --------------------------------------


def test_failed_logins_are_limited_per_account_across_addresses(site):
    allowed = 10  # failed logins per account in 15 minutes
    with transaction(site["factory"]) as session:
        create_user(session, "h-doelwit@bieb.example", "member", PASSWORD)
        create_user(session, "h-buurman@bieb.example", "member", PASSWORD)
    statuses, last = [], None
    for attempt in range(40):
        last = browser(site).post(
            "/login", data={"email": "H-Doelwit@bieb.example ", "password": f"gok-{attempt}"}
        )
        statuses.append(last.status_code)
    assert statuses == [401] * allowed + [429] * (40 - allowed)
    page = last.get_data(as_text=True)
    assert "Te veel mislukte inlogpogingen voor dit account" in page
    assert "Traceback" not in page and int(last.headers["Retry-After"]) > 0
    # the right password is not even checked until the limit passes
    right = browser(site).post("/login", data={"email": "h-doelwit@bieb.example",
                                               "password": PASSWORD})  # fmt: skip
    assert right.status_code == 429
    # another account is not affected, and a right password still logs it in
    neighbour = browser(site)
    assert neighbour.post("/login", data={"email": "h-buurman@bieb.example",
                                          "password": "fout"}).status_code == 401  # fmt: skip
    assert neighbour.post("/login", data={"email": "h-buurman@bieb.example",
                                          "password": PASSWORD}).status_code == 302  # fmt: skip


def test_login_takes_as_long_for_an_unknown_account_as_for_a_known_one(site):
    def timed(address: str) -> float:
        http = browser(site)
        started = time.perf_counter()
        response = http.post("/login", data={"email": address, "password": "niet-het-wachtwoord"})
        elapsed = time.perf_counter() - started
        assert response.status_code == 401
        return elapsed

    known = [timed(email("analyst")) for _ in range(5)]
    unknown = [timed(f"h-onbekend-{n}@bieb.example") for n in range(5)]
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (known, unknown)
