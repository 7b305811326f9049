"""A hanging OpenSearch: a TCP listener on loopback that accepts connections and
never answers (a network fault, not a fake search engine). The portal runs under
real gunicorn against it, with the real registry.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import serve_portal

TIMEOUT_S = 2


@pytest.fixture(scope="module")
def hanging_node():
    """``http://127.0.0.1:<port>`` of a listener that accepts and never replies."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture(scope="module")
def outage_url(loaded, hanging_node):
    """The portal against the hanging node, with a short search timeout."""
    env = {"SEARCH_TIMEOUT_S": str(TIMEOUT_S), "SEARCH_BREAKER_S": "30"}
    with serve_portal(loaded["url"], hanging_node, loaded["names"].prefix, env=env) as url:
        yield url


def timed_get(url: str, timeout: float = 60) -> tuple[int, dict, bytes, float]:
    """GET ``url``: (status, headers, body, seconds); HTTP errors are answers too."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, headers, body = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, dict(exc.headers), exc.read()
    return status, headers, body, time.monotonic() - start


def test_healthz_answers_while_searches_hang(outage_url):
    # more than the search slots of a worker, fewer than the threads of one worker even
    # if every connection lands on the same worker (the kernel does not spread them evenly)
    searches = 14
    with ThreadPoolExecutor(searches) as pool:
        futures = [
            pool.submit(timed_get, f"{outage_url}/api/v1/search?q=hang{n}") for n in range(searches)
        ]
        time.sleep(0.5)  # every search is now waiting on the node (or for a slot)
        probes = [timed_get(f"{outage_url}/healthz")[3] for _ in range(5)]
        answers = [f.result() for f in futures]
    print(f"healthz during {searches} hanging searches: {max(probes):.3f} s at most")
    assert max(probes) < 0.5, probes
    assert {status for status, *_ in answers} == {503}


def test_breaker_answers_503_at_once_after_timeouts(outage_url):
    fast = None
    for _ in range(12):  # a few time-outs per worker open that worker's breaker
        status, headers, body, seconds = timed_get(f"{outage_url}/api/v1/search?q=lezen")
        assert status == 503
        if seconds < 0.3:
            fast = (headers, body, seconds)
            break
    assert fast is not None, "no search was refused at once"
    headers, body, seconds = fast
    print(f"search with an open breaker: {seconds:.3f} s")
    assert int(headers["Retry-After"]) >= 1
    assert b'"code":"unavailable"' in body.replace(b" ", b"")
    status, headers, body, seconds = timed_get(f"{outage_url}/zoeken?q=lezen")
    assert status == 503 and "Retry-After" in headers
    assert "tijdelijk niet beschikbaar" in body.decode()


def test_export_during_outage_is_an_error_before_the_first_byte(outage_url):
    for fmt in ("csv", "json"):
        status, headers, body, _ = timed_get(f"{outage_url}/api/v1/export?format={fmt}")
        assert status == 503, (status, body[:200])
        assert headers["Content-Type"].startswith("application/json")
        assert b"unavailable" in body
