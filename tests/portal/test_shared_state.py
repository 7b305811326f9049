"""State shared across portal processes, against real servers: two gunicorn portals
(two workers each) on one registry, one index and one Redis (Debian's redis-server,
run by devredis on a free loopback port).
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from indexer.client import make_client
from portal.config import from_env
from portal.shared_state import preflight
from registry.db import transaction
from registry.taxonomy_ops import Operation, apply
from registry.thesaurus import add_set, validate_set

from ..conftest import data_site, free_port, serve_portal

CHECK_S = 1.0
"""``TAXONOMY_CHECK_S`` of the portals here: the documented delay of a cache change."""
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture(scope="module")
def redis_url():
    """A real Redis on a free port for this module; stopped afterwards."""
    from devredis import RedisError, ensure_server, stop_server

    port = free_port()
    try:
        url, started = ensure_server(port)
    except RedisError as exc:
        pytest.skip(f"no Redis for the shared-state tests: {exc}")
    yield url
    if started:
        stop_server(port)


@pytest.fixture(scope="module")
def site(tmp_path_factory, client, opensearch_url):
    """The real data in a registry and index of this module's own."""
    path = tmp_path_factory.mktemp("shared-state")
    with data_site(path, client, opensearch_url, "shared-state") as site:
        yield site


def portals(site, count: int, **env):
    """``count`` gunicorn portals over ``site`` (a list of context managers)."""
    config = site["config"]
    env = {"TAXONOMY_CHECK_S": str(CHECK_S), **env}
    return [
        serve_portal(config["DATABASE_URL"], config["OPENSEARCH_URL"], config["INDEX_PREFIX"],
                     secret="shared", env=env)
        for _ in range(count)
    ]  # fmt: skip


def failed_logins(bases: list[str], attempts: int) -> list[int]:
    """POST a wrong password ``attempts`` times, round robin over ``bases``; statuses."""
    sessions = {}
    for base in bases:
        session = requests.Session()
        page = session.get(f"{base}/login", timeout=10).text
        sessions[base] = (session, CSRF.search(page).group(1))
    statuses = []
    for n in range(attempts):
        base = bases[n % len(bases)]
        session, token = sessions[base]
        form = {"email": f"nobody{n}@bieb.example", "password": "wrong", "csrf_token": token}
        statuses.append(session.post(f"{base}/login", data=form, timeout=10).status_code)
    return statuses


def test_two_portals_together_allow_no_more_logins_than_the_limit(site, redis_url):
    from contextlib import ExitStack

    # LOGIN_LIMIT is 5 per minute per address; every attempt here comes from 127.0.0.1
    with ExitStack() as stack:
        bases = [stack.enter_context(p) for p in portals(site, 2, RATELIMIT_STORAGE_URI=redis_url)]
        statuses = failed_logins(bases, 12)
    print(f"two portals, shared Redis: {statuses}")
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 7


def test_memory_storage_counts_per_process(site):
    """The counter-check: without a shared storage the same attempts get further."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        bases = [stack.enter_context(p) for p in portals(site, 2)]
        statuses = failed_logins(bases, 12)
    print(f"two portals, memory://: {statuses}")
    assert statuses.count(401) > 5


def test_an_unreachable_rate_limit_storage_is_a_503_with_retry_after(site):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    (portal,) = portals(site, 1, RATELIMIT_STORAGE_URI=dead)
    with portal as base:
        session = requests.Session()
        token = CSRF.search(session.get(f"{base}/login", timeout=10).text).group(1)
        form = {"email": "a@bieb.example", "password": "x", "csrf_token": token}
        started = time.monotonic()
        answer = session.post(f"{base}/login", data=form, timeout=30)
        seconds = time.monotonic() - started
        search = session.get(f"{base}/api/v1/search?q=lezen", timeout=30)
    assert answer.status_code == 503, answer.text[:300]
    assert int(answer.headers["Retry-After"]) > 0
    assert "Traceback" not in answer.text
    assert "Inloggen is tijdelijk niet beschikbaar" in answer.text
    assert seconds < 5
    assert search.status_code == 200  # searching does not need the rate-limit storage


def test_preflight_names_each_missing_server_in_one_line(monkeypatch):
    dead = free_port()
    monkeypatch.setenv("OPENSEARCH_URL", f"http://127.0.0.1:{dead},http://127.0.0.1:{dead}")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", f"redis://:secret@127.0.0.1:{dead}/0")
    problems = preflight(from_env(), workers=2)
    assert len(problems) == 2, problems
    assert all("\n" not in p and "Traceback" not in p for p in problems)
    assert "no OpenSearch node answers" in problems[0]
    assert "rate-limit storage" in problems[1] and "secret" not in problems[1]
    monkeypatch.setenv("OPENSEARCH_URL", "127.0.0.1:9200")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    problems = preflight(from_env(), workers=3)
    assert "not an http(s):// node URL" in problems[0]
    assert "memory:// with 3 workers" in problems[1]


def test_preflight_is_quiet_when_all_is_there(opensearch_url, redis_url, monkeypatch):
    monkeypatch.setenv("OPENSEARCH_URL", opensearch_url)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", redis_url)
    assert preflight(from_env(), workers=4) == []
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    assert preflight(from_env(), workers=1) == []


def label_of(base: str, community: str) -> str:
    facets = requests.get(f"{base}/api/v1/search?size=1", timeout=10).json()["facets"]
    return next(i["label"] for i in facets["community"] if i["value"] == community)


def total_of(base: str, q: str) -> int:
    answer = requests.get(f"{base}/api/v1/search", params={"q": q, "correct": "0"}, timeout=10)
    return answer.json()["total"]


def within_delay(checks: dict, bases: list[str], since: float, rounds: int = 6) -> dict:
    """Seconds from ``since`` to the start of the first round in which each of ``checks``
    (``{name: check(base) -> bool}``) held for ``rounds`` requests to every base (several
    requests, so that each worker of a portal answers some); the checks are polled side by
    side, so a slow round of one does not delay the other's figure."""
    found: dict[str, float] = {}
    while time.monotonic() - since < 10 * CHECK_S + 10:
        for name, check in checks.items():
            if name in found:
                continue
            round_start = time.monotonic()
            if all(check(base) for base in bases for _ in range(rounds)):
                found[name] = round_start - since
        if len(found) == len(checks):
            return found
        time.sleep(0.05)
    raise AssertionError(f"the change did not reach every portal process: {sorted(found)}")


def test_taxonomy_and_thesaurus_changes_reach_every_process_within_the_delay(site):
    from contextlib import ExitStack

    factory = site["factory"]
    with ExitStack() as stack:
        bases = [stack.enter_context(p) for p in portals(site, 2)]
        # every worker has the taxonomy and the thesaurus cached before the change
        for base in bases:
            for _ in range(8):
                assert label_of(base, "effectmeting") != "Impact meten"
                assert total_of(base, "zzqwertyzz") == 0
        with transaction(factory) as session:
            apply(session, Operation("rename", ["effectmeting"], labels={"nl": "Impact meten"}),
                  "test")  # fmt: skip
            add_set(session, validate_set("equivalent", ["zzqwertyzz", "leesbevordering"]), "test")
        changed = time.monotonic()
        delays = within_delay(
            {
                "taxonomy": lambda b: label_of(b, "effectmeting") == "Impact meten",
                "thesaurus": lambda b: total_of(b, "zzqwertyzz") > 0,
            },
            bases,
            changed,
        )
        taxonomy_s, thesaurus_s = delays["taxonomy"], delays["thesaurus"]
    print(f"live in every process: taxonomy {taxonomy_s:.2f} s, thesaurus {thesaurus_s:.2f} s")
    # the documented delay, plus the checking requests themselves on a loaded machine
    assert taxonomy_s <= CHECK_S + 1.5
    assert thesaurus_s <= CHECK_S + 1.5


def test_search_client_takes_a_node_list(opensearch_url):
    dead = f"http://127.0.0.1:{free_port()}"
    client = make_client(f"{dead}, {opensearch_url}", timeout_s=5)
    for _ in range(4):  # whichever node the pool picks first, every call is answered
        assert client.cluster.health()["status"] in ("green", "yellow")


def test_behind_a_trusted_proxy_the_limit_counts_per_client(site):
    from portal import create_app

    app = create_app({**site["config"], "TRUSTED_PROXIES": 1})
    statuses = {}
    for client_address in ("192.0.2.1", "192.0.2.2"):
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = "10.9.0.1"  # the proxy, for every client
        headers = {"X-Forwarded-For": client_address}
        form = {"email": "nobody@bieb.example", "password": "wrong"}
        statuses[client_address] = [
            browser.post("/login", data=form, headers=headers).status_code for _ in range(6)
        ]
    assert statuses["192.0.2.1"] == [401] * 5 + [429]
    assert statuses["192.0.2.2"] == [401] * 5 + [429]
