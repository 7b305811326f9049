"""A "where the time goes" paragraph for each target a run missed.

The rebuild and the portal are profiled with pyinstrument in this process (the same
functions the CLI and gunicorn run); the profile trees are saved beside the results.
Edit latency is explained from its own two moments (indexed, searchable) and the
settings that bound them; failed searches by their errors.
"""

from __future__ import annotations

from pathlib import Path

from opensearchpy import OpenSearch

from indexer.client import IndexNames
from indexer.rebuild import rebuild
from settings import Settings

from .profiling import paragraph, profile, save_text, where_time_goes
from .search_bench import query_url

PORTAL_PASSES = 3
"""Times the query mix is sent through the in-process portal while profiling."""


def _missed(results: dict, prefix: str) -> bool:
    return any(t["name"].startswith(prefix) and t["status"] == "missed" for t in results["targets"])


def _profile_file(config, part: str) -> Path:
    config.out.mkdir(parents=True, exist_ok=True)
    return config.out / f"{config.date}-{config.size}-profile-{part}.txt"


def explain_rebuild(results: dict, config, client: OpenSearch, names: IndexNames, factory) -> str:
    """Profile one more rebuild of the same registry (in process)."""
    session = profile(lambda: rebuild(client, factory, names))
    save_text(session, _profile_file(config, "rebuild"))
    measured = results["rebuild"]["indexer"]
    return (
        f"Starting the process and importing the indexer takes {measured['startup_seconds']} s "
        f"of the rebuild's {measured['seconds']} s wall time. "
        + paragraph("The rebuild itself, in process", where_time_goes(session))
    )


def explain_portal(results: dict, config, db_url: str, os_url: str, names: IndexNames, mix) -> str:
    """Profile the portal app answering the query mix in process (no gunicorn)."""
    from portal import create_app

    app = create_app(
        {
            "DATABASE_URL": db_url,
            "OPENSEARCH_URL": os_url,
            "INDEX_PREFIX": names.prefix,
            "SECRET_KEY": "bench",
        }
    )
    http = app.test_client()
    urls = [query_url(q) for q in mix]
    for url in urls:  # warm: first requests load the taxonomy, translations, templates
        http.get(url)

    def answer_mix() -> None:
        for _ in range(PORTAL_PASSES):
            for url in urls:
                http.get(url)

    session = profile(answer_mix)
    save_text(session, _profile_file(config, "portal"))
    text = paragraph(
        f"Portal search API, {PORTAL_PASSES}×{len(urls)} requests in process",
        where_time_goes(session),
    )
    return text + _queueing(results)


def _queueing(results: dict) -> str:
    """A sentence on throughput per concurrency level and how many requests the
    portal's gunicorn serves at once (workers × threads for ``gthread``, the default
    of ``gunicorn.conf.py``; workers for ``sync``), from the run's environment."""
    workers = results["config"]["gunicorn_workers"]
    settings = Settings.from_env()
    parts = [
        f"at concurrency {level} the portal served {data['portal']['throughput_rps']} req/s "
        f"against {data['raw']['throughput_rps']} req/s raw"
        for level, data in results["search"]["levels"].items()
    ]
    if settings.gunicorn_worker_class == "gthread":
        threads = settings.gunicorn_threads
        model = (
            f"{workers} gthread gunicorn workers with {threads} threads each serve up to "
            f"{workers * threads} requests at once (at most {settings.search_concurrency} "
            "OpenSearch calls per worker); on the machine's cores they share the CPU with "
            "OpenSearch and the load generator, so latency at higher concurrency includes "
            "waiting for the CPU"
        )
    else:
        model = (
            f"{workers} sync gunicorn workers serve {workers} requests at once; requests "
            "beyond that queue for a worker, which the latency at higher concurrency includes"
        )
    return f" Throughput: {'; '.join(parts)}. {model[0].upper()}{model[1:]}."


def explain_edits(results: dict, client: OpenSearch, names: IndexNames) -> str:
    """Split edit latency into indexer lag and refresh lag, with the settings behind them."""
    edits = results["edits"]
    alias = names.alias("public")
    settings = client.indices.get_settings(index=alias, name="index.refresh_interval")
    refresh = next(iter(settings.values()))["settings"]["index"].get("refresh_interval", "1s")
    poll = Settings.from_env().indexer_poll_seconds
    s, i = edits["searchable_ms"], edits["indexed_ms"]
    return (
        f"Edit to searchable: p95 {s['p95_ms']} ms, of which the indexer had written the "
        f"document (real-time GET) by p95 {i['p95_ms']} ms (p50 {i['p50_ms']} ms); the rest "
        f"is waiting for the index refresh (refresh_interval {refresh}). The indexer polls "
        f"the change feed every {poll} s (INDEXER_POLL_SECONDS); {edits['timeouts']} of "
        f"{edits['edits']} edits were not searchable within the time limit."
    )


def explain_merge(results: dict) -> str:
    """The kinds of failed searches during the merge."""
    merge = results["merge"]
    errors = ", ".join(f"{k} ×{v}" for k, v in merge["load"]["errors"].items()) or "none logged"
    return (
        f"Merge: {merge['failed_searches']} failed searches; errors: {errors}. "
        f"Counts equal after {merge['seconds_to_counts_equal']} s."
    )


def explain_missed(results, config, client, names, factory, db_url, os_url, mix) -> dict:
    """``{part: paragraph}`` for every missed target that can be explained."""
    out = {}
    if _missed(results, "portal p50"):
        out["portal"] = explain_portal(results, config, db_url, os_url, names, mix)
    if _missed(results, "rebuild"):
        out["rebuild"] = explain_rebuild(results, config, client, names, factory)
    if _missed(results, "edit"):
        out["edits"] = explain_edits(results, client, names)
    if _missed(results, "failed searches"):
        out["merge"] = explain_merge(results)
    return out
