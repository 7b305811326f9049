"""Run the benchmarks at one size and write the results.

``python -m bench.run --size 10000 [--skip-merge] [--out bench/results]``

One run: generate ``size`` synthetic innovations, import them into a fresh SQLite
registry in a temporary folder (timed), then measure on the OpenSearch node of
``OPENSEARCH_URL`` (else the local devnode node, reused when running, started and
stopped again when not), under an index prefix of its own:

1. rebuild throughput: ``python -m indexer rebuild`` against a raw bulk of the same
   documents (:mod:`bench.rebuild_bench`), with the indexer's peak RSS;
2. search latency through the portal under gunicorn against the same bodies sent
   straight to OpenSearch, at each concurrency level (:mod:`bench.search_bench`);
3. a community merge of ~10 % of the innovations under search load, with
   ``python -m indexer run`` running (:mod:`bench.merge_bench`);
4. edit-to-searchable latency (:mod:`bench.edits_bench`).

A missed target is profiled with pyinstrument (:mod:`bench.profiling`). Results go to
``<out>/<date>-<size>.json`` and ``.md``. Every process and index the run creates is
removed at the end; a node it did not start is left running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from opensearchpy import OpenSearch

from indexer.client import IndexNames, make_client
from registry.db import prepare
from registry.records import import_jsonl
from settings import Settings

from . import report
from .edits_bench import measure_edits
from .generate import generate, read_records, write_jsonl
from .machine import host_facts, node_facts
from .merge_bench import measure_merge
from .procs import gunicorn, service
from .rebuild_bench import measure_rebuild
from .scratch import child_env
from .search_bench import benchmark_mix, measure_search, query_url

RESULTS_DIR = Path(__file__).resolve().parent / "results"
GUNICORN_WORKERS = 2
"""Workers of the portal, as ``make run`` starts it."""


@dataclass
class Config:
    """What one run does. Counts bound the load; ``*_s`` values are seconds."""

    size: int
    seed: int = 9
    out: Path = RESULTS_DIR
    requests: int = 300
    levels: tuple[int, ...] = (1, 8)
    queries: int = 32
    edits: int = 50
    rebuild_repeats: int = 1
    skip_merge: bool = False
    profile: bool = True
    opensearch_url: str | None = None
    prefix: str | None = None
    workdir: Path | None = None
    max_level_s: float = 300
    merge_timeout_s: float = 600
    rebuild_timeout_s: float = 4 * 3600
    date: str = field(default_factory=lambda: dt.date.today().isoformat())


def log(message: str) -> None:
    """Progress on stderr, with a wall-clock stamp."""
    print(f"{time.strftime('%H:%M:%S')} bench: {message}", file=sys.stderr, flush=True)


@contextmanager
def opensearch(config: Config) -> Iterator[str]:
    """The node's URL: ``config.opensearch_url``, ``OPENSEARCH_URL``, else devnode's
    local node (stopped at the end only if this run started it)."""
    url = config.opensearch_url or Settings.from_env().opensearch_url
    if url:
        yield url
        return
    from devnode import ensure_node, stop_node

    url, started = ensure_node()
    try:
        yield url
    finally:
        if started:
            stop_node()


def make_registry(workdir: Path):
    """A migrated, taxonomy-seeded SQLite registry in ``workdir``; ``(url, factory)``."""
    url = f"sqlite:///{workdir / 'registry.db'}"
    factory, _seeded = prepare(url)
    return url, factory


def generate_and_import(config: Config, workdir: Path, factory) -> dict:
    """Generate the data file and import it; seconds and records/s of both steps."""
    data = workdir / "innovations.jsonl"
    started = time.perf_counter()
    count, size = write_jsonl(generate(config.size, config.seed), data)
    generate_s = time.perf_counter() - started
    log(f"generated {count} records ({size / 2**20:.1f} MiB) in {generate_s:.1f} s")
    started = time.perf_counter()
    imported = import_jsonl(factory, data)
    import_s = time.perf_counter() - started
    if imported.rejected:
        raise RuntimeError(
            f"import rejected {imported.rejected_lines} line(s): {imported.rejected[:3]}"
        )
    data.unlink()
    log(f"imported {imported.created} records in {import_s:.1f} s")
    return {
        "generate": {
            "records": count,
            "mib": round(size / 2**20, 1),
            "seconds": round(generate_s, 3),
        },
        "import": {
            "records": imported.created,
            "seconds": round(import_s, 3),
            "records_per_s": round(imported.created / import_s, 1),
        },
    }


def wait_for_log(path: Path, text: str, proc, timeout_s: float = 60) -> None:
    """Wait until ``text`` appears in the log file ``path`` of the running ``proc``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{text!r} not seen in {path}:\n{path.read_text(errors='replace')[-2000:]}")


def measure_live(
    config: Config, env: dict, workdir: Path, client: OpenSearch, names, factory, mix
) -> dict:
    """Search latency, then (with ``indexer run`` running) the merge and the edits."""
    out: dict = {}
    with ExitStack() as stack:
        base = stack.enter_context(
            gunicorn(env, workdir / "gunicorn.log", workers=GUNICORN_WORKERS)
        )
        log(f"portal up at {base}; measuring search latency")
        out["search"] = measure_search(
            base, client, names, factory, mix, config.requests, config.levels, config.max_level_s
        )
        indexer_log = workdir / "indexer-run.log"
        proc = stack.enter_context(
            service([sys.executable, "-m", "indexer", "run"], env, indexer_log)
        )
        wait_for_log(indexer_log, '"event": "started"', proc)
        if not config.skip_merge:
            log("merging communities under search load")
            out["merge"] = measure_merge(
                base, factory, [query_url(q) for q in mix], config.merge_timeout_s
            )
        log(f"timing {config.edits} edits until searchable")
        out["edits"] = measure_edits(client, factory, names, config.edits, config.seed)
    return out


def profiler_available() -> bool:
    """Whether pyinstrument is installed (profiling of missed targets needs it)."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        log("pyinstrument is not installed (pip install pyinstrument): missed targets "
            "will not be profiled")  # fmt: skip
        return False
    return True


def run(config: Config) -> dict:
    """Run every measurement at ``config.size``, write the results files, return the
    results (with ``"files"``: the paths written)."""
    config = replace(config, profile=config.profile and profiler_available())
    names = IndexNames(config.prefix or f"bench-{config.size}-{uuid.uuid4().hex[:6]}-")
    with ExitStack() as stack:
        os_url = stack.enter_context(opensearch(config))
        workdir = config.workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="innovatiebieb-bench-"))
        )
        client = make_client(os_url, timeout_s=120)
        stack.callback(client.indices.delete, index=f"{names.prefix}*", ignore_unavailable=True)
        results = collect(config, client, names, os_url, workdir)
    results["files"] = [str(p) for p in report.write_results(results, config.out)]
    return results


def collect(
    config: Config, client: OpenSearch, names: IndexNames, os_url: str, workdir: Path
) -> dict:
    """The measurements themselves (see the module docstring); returns the results."""
    results: dict = {"date": config.date, "size": config.size, "seed": config.seed}
    results["config"] = {
        k: v
        for k, v in asdict(config).items()
        if k in ("requests", "levels", "queries", "edits", "skip_merge", "rebuild_repeats")
    }
    results["config"]["gunicorn_workers"] = GUNICORN_WORKERS
    results["machine"] = host_facts()
    results["node"] = node_facts(client, names.prefix)
    db_url, factory = make_registry(workdir)
    results.update(generate_and_import(config, workdir, factory))
    env = child_env(db_url, os_url, names)
    log(f"rebuild: indexer, then raw bulk of the same documents, {config.rebuild_repeats}×")
    results["rebuild"] = measure_rebuild(
        client, names, factory, env, workdir, config.rebuild_timeout_s, config.rebuild_repeats
    )
    mix = benchmark_mix(read_records(), config.queries, config.seed)
    results.update(measure_live(config, env, workdir, client, names, factory, mix))
    results["targets"] = report.evaluate_targets(results, report.load_results(config.out))
    if config.profile:
        from .explain import explain_missed

        results["where_time_goes"] = explain_missed(
            results, config, client, names, factory, db_url, os_url, mix
        )
    results["notes"] = notes(results)
    return results


def notes(results: dict) -> list[str]:
    """Circumstances a reader needs to weigh the numbers (derived from the run)."""
    out = []
    if results["node"]["other_indices"]:
        out.append(
            f"The OpenSearch node also held {results['node']['other_indices']} indices "
            "of other clients; their load (e.g. a test run) competes with this run."
        )
    if results["machine"]["nproc"] <= 2:
        out.append(
            f"{results['machine']['nproc']} cores are shared by OpenSearch, gunicorn, "
            "the indexer and the load generator, so concurrency 8 mostly measures "
            "queueing for CPU."
        )
    zero = (results.get("search") or {}).get("zero_hit_queries")
    if zero:
        out.append(
            f"{zero} of the {results['config']['queries']} queries found nothing; for "
            "those the portal also asks OpenSearch for spelling suggestions and "
            "per-facet totals (extra requests the raw side does not make)."
        )
    return out


def parse_args(argv: list[str] | None) -> Config:
    """Command-line options → :class:`Config`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", type=int, required=True, help="innovations to generate")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    parser.add_argument(
        "--requests",
        type=int,
        default=300,
        help="requests per side and concurrency level (default 300)",
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--edits", type=int, default=50, help="edits to time (default 50)")
    parser.add_argument(
        "--rebuild-repeats",
        type=int,
        help="indexer/raw rebuild pairs (default 3 up to 100k, else 1)",
    )
    parser.add_argument("--skip-merge", action="store_true", help="leave out the merge")
    parser.add_argument(
        "--no-profile", action="store_true", help="do not profile parts that missed a target"
    )
    parser.add_argument("--workdir", type=Path, help="keep registry and logs here")
    args = parser.parse_args(argv)
    if args.size < 10:
        parser.error("--size must be at least 10")
    return Config(
        size=args.size,
        seed=args.seed,
        out=args.out,
        requests=args.requests,
        levels=tuple(args.concurrency),
        edits=args.edits,
        rebuild_repeats=args.rebuild_repeats or (3 if args.size <= 100_000 else 1),
        skip_merge=args.skip_merge,
        profile=not args.no_profile,
        workdir=args.workdir,
    )


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the Markdown results and returns 0."""
    config = parse_args(argv)
    # `timeout` and Ctrl-C: unwind normally, so children stop and our indices go
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if config.workdir:
        config.workdir.mkdir(parents=True, exist_ok=True)
    results = run(config)
    print(report.render_markdown(results))
    log(f"wrote {', '.join(results['files'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
