"""Search latency: the portal under gunicorn over HTTP against the identical query
bodies sent straight to OpenSearch.

The query mix is fixed by a seed: text (none, one word, two words, a word being typed)
with 0–3 facets, some with two values in one facet (disjunctive: OR within a facet),
and a sort. Each query is one URL for the portal (``/api/v1/search?…``); the raw side
parses the same URL with :func:`portal.search.params.parse_search_args` and sends
:func:`portal.search.query.build_search_body`'s body to the public alias, which is
exactly what the portal sends.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from opensearchpy import OpenSearch
from werkzeug.datastructures import MultiDict

from indexer.client import IndexNames
from portal.backends import load_synonyms
from portal.search.params import parse_search_args
from portal.search.query import build_search_body
from portal.search.synonyms import EMPTY, SynonymIndex
from registry.taxonomy import Taxonomy, load_taxonomy

from .stats import percentile, ratio, summarize

SORTS = ("relevance", "newest", "title", "evidence")
FACET_FIELDS = {
    "priority": "priorities",
    "community": "communities",
    "phase": "phase",
    "type": "innovation_type",
    "target": "target_groups",
    "province": "province",
    "evidence_min": "evidence_level",
    "programme": "programmes",
}
"""URL parameter → record field the value is taken from."""
MIN_WORD_CHARS = 5
"""Query words are at least this long, which keeps Dutch stop words out."""
REQUEST_TIMEOUT_S = 30
ROUNDS = 6
"""Alternating rounds per concurrency level (raw first, portal first, …)."""

Query = list[tuple[str, str]]


def _query_words(records: list[dict]) -> tuple[list[str], list[int]]:
    """Title and keyword words of the real records with their frequencies."""
    counts: Counter = Counter()
    for record in records:
        text = " ".join([record["title"], *record.get("keywords", [])]).lower()
        counts.update(w for w in re.findall(r"\w+", text) if len(w) >= MIN_WORD_CHARS)
    words = sorted(counts)
    return words, [counts[w] for w in words]


def _text(kind: int, words: tuple[list[str], list[int]], rng: random.Random) -> str:
    vocabulary, weights = words
    picked = rng.choices(vocabulary, weights=weights, k=2)
    if kind == 1:
        return picked[0]
    if kind == 2:
        return " ".join(picked)
    if kind == 3:  # a word being typed: the prefix completion path
        return picked[0][: max(3, len(picked[0]) - 3)]
    return ""


def _facet_values(param: str, template: dict, records: list[dict], rng: random.Random, two: bool):
    value = template[FACET_FIELDS[param]]
    if param == "evidence_min":
        return [] if value is None else [str(value)]
    values = list(value) if isinstance(value, list) else [value]
    if not values:
        return []
    chosen = [rng.choice(values)]
    if two:  # a second value of the same facet from another record: OR within the facet
        other = rng.choice(records)[FACET_FIELDS[param]]
        other_values = other if isinstance(other, list) else [other]
        extra = [v for v in other_values if v not in chosen]
        chosen += extra[:1]
    return chosen


def query_mix(records: list[dict], count: int, seed: int) -> list[Query]:
    """``count`` URL parameter lists; every text kind meets every facet count (0–3).

    Facet values come from one real record (a combination that exists); every second
    query with facets selects two values of its first facet (disjunctive faceting).
    """
    rng = random.Random(seed)
    words = _query_words(records)
    mix: list[Query] = []
    for number in range(count):
        template = rng.choice(records)
        kind, facet_count = number % 4, (number // 4) % 4
        q = _text(kind, words, rng)
        args: Query = [("q", q)] if q else []
        params = [p for p in FACET_FIELDS if template[FACET_FIELDS[p]] not in (None, [])]
        for index, param in enumerate(rng.sample(params, min(facet_count, len(params)))):
            two = index == 0 and number % 2 == 1 and param != "evidence_min"
            args += [(param, v) for v in _facet_values(param, template, records, rng, two)]
        sort = rng.choice(SORTS if q else SORTS[1:] + (None,))
        if sort:
            args.append(("sort", sort))
        mix.append(args)
    return mix


JUDGMENTS = Path(__file__).resolve().parent / "relevance" / "judgments.json"
"""The judged queries of the relevance harness (real librarians' wording)."""


def judged_queries(path: Path = JUDGMENTS) -> list[Query]:
    """The words of every judged query of the relevance set as a search (no facets,
    the default sort), in the file's order: misspellings, English, jargon, compounds
    and phrases that the generated mix does not have, so their costs (thesaurus
    expansion, spelling correction, zero-result help) are part of the benchmark."""
    queries = json.loads(path.read_text(encoding="utf-8"))["queries"]
    return [[("q", item["q"])] for item in queries]


def benchmark_mix(records: list[dict], count: int, seed: int) -> list[Query]:
    """The benchmark's queries: ``count`` generated ones (:func:`query_mix`) followed by
    the judged queries (:func:`judged_queries`)."""
    return query_mix(records, count, seed) + judged_queries()


def query_url(args: Query) -> str:
    """The portal path of one query of the mix."""
    return f"/api/v1/search?{urlencode(args)}"


def query_body(args: Query, taxonomy: Taxonomy, synonyms: SynonymIndex = EMPTY) -> dict:
    """The body the portal sends to OpenSearch for ``args`` (public audience) with
    ``taxonomy`` and the thesaurus ``synonyms`` in force."""
    request = parse_search_args(MultiDict(args), taxonomy)
    body, _resolved = build_search_body(request, taxonomy, synonyms=synonyms)
    return body


def portal_view(factory) -> tuple[Taxonomy, SynonymIndex]:
    """The taxonomy and the thesaurus a portal on the registry of session factory
    ``factory`` searches with (read as :mod:`portal.backends` reads them), so the raw
    side sends the very body the portal sends."""
    with factory() as session:
        return load_taxonomy(session), load_synonyms(session)


@dataclass
class LoadResult:
    """Latencies (ms) of the successful requests, by query index, and the failures."""

    latencies: list[tuple[int, float]] = field(default_factory=list)
    failed: int = 0
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ms(self) -> list[float]:
        """All successful latencies in ms."""
        return [ms for _, ms in self.latencies]


def portal_sender(base_url: str, keep_alive: bool = False) -> Callable[[str], dict]:
    """A function that GETs a path from the portal and returns the parsed JSON.

    With ``keep_alive`` each calling thread keeps one connection open and reuses it
    (as a browser or a harvester does; http.client opens it again after the server
    closed it), otherwise every request opens a connection of its own.

    Raises (from the returned function):
        RuntimeError: the answer was not 200 (the message holds the status).
    """
    parts = urlsplit(base_url)
    local = threading.local()

    def new_connection() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)

    def exchange(conn: http.client.HTTPConnection, path: str):
        conn.request("GET", path)
        response = conn.getresponse()
        return response, response.read()

    def send(path: str) -> dict:
        if not keep_alive:
            conn = new_connection()
            try:
                response, data = exchange(conn, path)
            finally:
                conn.close()
        else:
            conn = getattr(local, "conn", None) or new_connection()
            local.conn = conn
            try:
                response, data = exchange(conn, path)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()  # closed while idle (keep-alive timed out): once more
                response, data = exchange(conn, path)
            except Exception:
                conn.close()
                raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return json.loads(data)

    return send


def run_load(
    send: Callable[[int], object],
    requests: int,
    queries: int,
    concurrency: int,
    max_s: float,
    start: int = 0,
) -> LoadResult:
    """Send ``requests`` requests, cycling through ``queries`` query indexes, from
    ``concurrency`` threads; stops early after ``max_s`` seconds.

    ``send(i)`` performs query ``i`` and raises on failure; request ``n`` is query
    ``(start + n) % queries``.
    """
    result = LoadResult()
    lock = threading.Lock()
    jobs = iter(range(start, start + requests))
    deadline = time.monotonic() + max_s

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                job = next(jobs, None)
            if job is None:
                return
            started = time.perf_counter()
            try:
                send(job % queries)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, not raised
                with lock:
                    result.failed += 1
                    result.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                result.latencies.append((job % queries, elapsed))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    result.seconds = time.perf_counter() - started
    return result


def describe(load: LoadResult) -> dict:
    """Percentiles (ms), failures, throughput (requests/s) and the commonest errors."""
    out = summarize(load.ms)
    out["failed"] = load.failed
    out["throughput_rps"] = round(len(load.latencies) / load.seconds, 1) if load.seconds else None
    out["errors"] = dict(load.errors.most_common(3))
    return out


def _per_query_ratio(portal: LoadResult, raw: LoadResult) -> float | None:
    """Median over queries of (portal p50 ÷ raw p50) for the same query."""
    by_query: dict[int, tuple[list[float], list[float]]] = {}
    for index, ms in portal.latencies:
        by_query.setdefault(index, ([], []))[0].append(ms)
    for index, ms in raw.latencies:
        by_query.setdefault(index, ([], []))[1].append(ms)
    ratios = [percentile(p, 50) / percentile(r, 50) for p, r in by_query.values() if p and r]
    return round(percentile(ratios, 50), 3) if ratios else None


def _merge(total: LoadResult, part: LoadResult) -> None:
    total.latencies += part.latencies
    total.failed += part.failed
    total.errors.update(part.errors)
    total.seconds += part.seconds


def _alternating(raw_send, portal_send, requests, queries, concurrency, max_s):
    """Both sides in :data:`ROUNDS` rounds that alternate which side goes first, so a
    change in the machine's other load hits both alike (A/B/B/A…).

    Returns:
        ``(raw, portal, rounds)``: the merged loads of each side and, per round,
        ``{"round", "first", "load_1m", "raw_p50_ms", "portal_p50_ms", "ratio_p50"}``
        (the 1-minute load average when the round started; the round's own p50s).
    """
    raw, portal = LoadResult(), LoadResult()
    rounds = max(1, min(ROUNDS, requests))
    start = 0
    per_round = []
    for number in range(rounds):
        count = requests // rounds + (number < requests % rounds)
        sides = [("raw", raw_send, raw), ("portal", portal_send, portal)]
        order = sides if number % 2 == 0 else sides[::-1]
        p50 = {}
        load_1m = round(os.getloadavg()[0], 2)
        for name, send, total in order:
            part = run_load(send, count, queries, concurrency, max_s / rounds, start)
            _merge(total, part)
            p50[name] = percentile(part.ms, 50)
        start += count
        per_round.append(
            {
                "round": number + 1,
                "first": order[0][0],
                "load_1m": load_1m,
                "raw_p50_ms": None if p50["raw"] is None else round(p50["raw"], 2),
                "portal_p50_ms": None if p50["portal"] is None else round(p50["portal"], 2),
                "ratio_p50": ratio(p50["portal"], p50["raw"]),
            }
        )
    return raw, portal, per_round


def round_spread(per_round: list[dict], key: str = "ratio_p50") -> dict | None:
    """``{"min", "median", "max", "rounds"}`` of ``key`` over the rounds (None when no
    round has it): the spread tells noise (other load) from a real difference."""
    values = sorted(r[key] for r in per_round if r.get(key) is not None)
    if not values:
        return None
    return {
        "min": values[0],
        "median": round(percentile(values, 50), 3),
        "max": values[-1],
        "rounds": len(values),
    }


def measure_search(
    base_url: str,
    client: OpenSearch,
    names: IndexNames,
    factory,
    mix: list[Query],
    requests: int,
    levels: tuple[int, ...],
    max_s: float,
) -> dict:
    """Latency of the mix through the portal and raw, at each concurrency in ``levels``.

    The raw side sends the body the portal builds for the same URL, with the taxonomy
    and thesaurus of the registry of session factory ``factory`` (:func:`portal_view`).
    Both sides reuse their connections (kept alive, one per load thread).

    Every query is sent once to each side first (not measured: warms caches, and counts
    queries without hits, for which the portal also asks for suggestions). Per level
    each side gets ``requests`` requests, in :data:`ROUNDS` alternating rounds.

    Returns:
        ``{"queries": [url], "zero_hit_queries": int, "requests_per_level": int,
        "levels": {"<c>": {"portal": {...}, "raw": {...}, "ratio_p50", "ratio_p95",
        "per_query_p50_ratio_median", "rounds": [...], "ratio_p50_over_rounds":
        {"min", "median", "max", "rounds"}}}}`` with latencies in ms (rounds: see
        :func:`_alternating`).
    """
    urls = [query_url(q) for q in mix]
    taxonomy, synonyms = portal_view(factory)
    bodies = [query_body(q, taxonomy, synonyms) for q in mix]
    alias = names.alias("public")
    # both sides keep their connections alive: opensearch-py's pool on the raw side,
    # one connection per load thread on the portal's (bench.cpu_split shows the cost
    # of a new connection per request)
    portal = portal_sender(base_url, keep_alive=True)

    def raw_send(i: int) -> dict:
        return client.search(index=alias, body=bodies[i])

    def portal_send(i: int) -> dict:
        return portal(urls[i])

    zero_hits = sum(raw_send(i)["hits"]["total"]["value"] == 0 for i in range(len(mix)))
    for i in range(len(mix)):
        portal_send(i)
    levels_out = {}
    for concurrency in levels:
        raw, via_portal, rounds = _alternating(raw_send, portal_send, requests, len(mix),
                                               concurrency, max_s)  # fmt: skip
        raw_d, portal_d = describe(raw), describe(via_portal)
        levels_out[str(concurrency)] = {
            "rounds": rounds,
            "ratio_p50_over_rounds": round_spread(rounds),
            "portal": portal_d,
            "raw": raw_d,
            "ratio_p50": ratio(portal_d["p50_ms"], raw_d["p50_ms"]),
            "ratio_p95": ratio(portal_d["p95_ms"], raw_d["p95_ms"]),
            "per_query_p50_ratio_median": _per_query_ratio(via_portal, raw),
        }
    return {
        "queries": urls,
        "zero_hit_queries": zero_hits,
        "requests_per_level": requests,
        "levels": levels_out,
    }
