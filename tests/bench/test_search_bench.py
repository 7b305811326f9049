"""The search benchmark's two sides: the raw side sends the very body the portal sends,
and the portal side keeps its connections alive as the raw side's client does."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.generate import read_records
from bench.search_bench import (
    JUDGMENTS,
    benchmark_mix,
    portal_sender,
    portal_view,
    query_body,
    query_mix,
    query_url,
)


def _ids(hits: list[dict]) -> list[str]:
    return [hit["id"] for hit in hits]


def test_raw_body_finds_what_the_portal_finds_thesaurus_included(app, loaded, client):
    taxonomy, synonyms = portal_view(loaded["factory"])
    alias = loaded["names"].alias("public")
    http = app.test_client()
    # "bieb" is in the seeded thesaurus (with "bibliotheek"), so the portal expands it
    mix = [[("q", "bieb")], *query_mix(read_records(), 8, 9)]
    for args in mix:
        portal = http.get(query_url(args)).get_json()
        raw = client.search(index=alias, body=query_body(args, taxonomy, synonyms))
        assert raw["hits"]["total"]["value"] == portal["total"], args
        assert [h["_id"] for h in raw["hits"]["hits"]] == _ids(portal["hits"]), args
    assert query_body(mix[0], taxonomy, synonyms) != query_body(mix[0], taxonomy)


class _CountingHandler(BaseHTTPRequestHandler):
    """Answers ``{}``; counts the connections it was handed (one handler per
    connection); with ``server.close_each`` closes the connection after each answer,
    saying so (``Connection: close``) or silently."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.connections += 1

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.server.close_each:
            if self.server.close_each == "says so":
                self.send_header("Connection", "close")
            self.close_connection = True  # "silently": as a keep-alive time-out does
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    ("keep_alive", "close_each", "connections"),
    [(True, False, 1), (False, False, 5), (True, "says so", 5), (True, "silently", 5)],
)
def test_portal_sender_reuses_one_connection_only_when_kept_alive(keep_alive, close_each,
                                                                   connections):  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    server.connections, server.close_each = 0, close_each
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        send = portal_sender(f"http://127.0.0.1:{server.server_address[1]}", keep_alive)
        assert [send("/x") for _ in range(5)] == [{}] * 5
        assert server.connections == connections
    finally:
        server.shutdown()
        server.server_close()


def test_benchmark_mix_is_the_generated_mix_then_every_judged_query():
    records = read_records()
    judged = json.loads(JUDGMENTS.read_text(encoding="utf-8"))["queries"]
    mix = benchmark_mix(records, 8, 9)
    assert mix[:8] == query_mix(records, 8, 9)
    assert mix[8:] == [[("q", item["q"])] for item in judged]
    assert len(judged) > 0
