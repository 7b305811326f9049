"""OAI-PMH harvest benchmark: a full ``ListRecords`` of N synthetic innovations.

``python -m bench.harvest --size 100000 [--prefix oai_dc] [--out bench/results]``

Generates N records (:mod:`bench.generate`, seeded), imports them into a fresh SQLite
registry, serves the portal under gunicorn (two workers, as in the tests) and
harvests every page with Sickle, the OAI-PMH client of the tests. Measured: records
per second over the whole harvest and per tenth of it (a keyset-paged harvest should
keep its speed to the last page), page latency (median, p95, max), and the resident
memory of the gunicorn workers and of the harvester at each tenth (it should stay
flat: a page is built from one bounded query). OpenSearch is not involved: OAI-PMH
reads the registry.

Results: ``bench/results/<date>-harvest-<size>.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sickle import Sickle
from sickle.iterator import OAIResponseIterator

from registry.db import prepare
from registry.records import import_jsonl

from .generate import generate, write_jsonl
from .machine import host_facts
from .procs import children, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TAXONOMY_FILE = ROOT / "data" / "taxonomy.json"
OAI_RECORD = "{http://www.openarchives.org/OAI/2.0/}record"


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"bench.harvest: {message}", file=sys.stderr, flush=True)


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid``, MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def start_portal(db_url: str, page_size: int) -> tuple[subprocess.Popen, str]:
    """gunicorn with two workers on a free port; returns (process, base URL)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench-harvest",
           "OAI_PAGE_SIZE": str(page_size), "SESSION_COOKIE_SECURE": "0"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--no-control-socket", "portal:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def harvest(base: str, prefix: str, size: int, server_pid: int) -> dict:
    """Harvest every page; returns the measurements (see the module docstring)."""
    sickle = Sickle(f"{base}/oai", iterator=OAIResponseIterator, max_retries=0)
    pages: list[tuple[float, int]] = []  # (seconds for the page, records in it)
    samples = []
    next_sample = 0
    records = 0
    start = last = time.perf_counter()
    # Sickle fetches the first page when the iterator is made, the others on next():
    # a page's time runs from the previous page's arrival to its own
    responses = sickle.ListRecords(metadataPrefix=prefix, ignore_deleted=False)
    while True:
        try:
            response = next(responses)
        except StopIteration:
            break
        count = len(response.xml.findall(f".//{OAI_RECORD}"))
        now = time.perf_counter()
        pages.append((now - last, count))
        last = now
        records += count
        if records >= next_sample:
            samples.append({
                "records": records,
                "seconds": round(time.perf_counter() - start, 2),
                "server_rss_mib": round(sum(rss_mib(p) for p in children(server_pid)), 1),
                "harvester_rss_mib": round(rss_mib(os.getpid()), 1),
            })  # fmt: skip
            next_sample += max(1, size // 10)
    seconds = time.perf_counter() - start
    latencies = sorted(p[0] for p in pages)
    tenths = []
    per = max(1, len(pages) // 10)
    for i in range(0, len(pages), per):
        chunk = pages[i : i + per]
        tenths.append(round(sum(c for _, c in chunk) / sum(t for t, _ in chunk), 1))
    return {
        "records": records,
        "pages": len(pages),
        "seconds": round(seconds, 2),
        "records_per_s": round(records / seconds, 1),
        "records_per_s_per_tenth": tenths,
        "page_ms": {
            "median": round(statistics.median(latencies) * 1000, 1),
            "p95": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
            "max": round(latencies[-1] * 1000, 1),
        },
        "memory": samples,
        "harvester_peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def markdown(results: dict) -> str:
    """The results as a short Markdown report."""
    h = results["harvest"]
    rows = "\n".join(
        f"| {s['records']} | {s['seconds']} | {s['server_rss_mib']} | {s['harvester_rss_mib']} |"
        for s in h["memory"]
    )
    return f"""# OAI-PMH harvest, {results["size"]} innovations ({results["date"]})

`python -m bench.harvest --size {results["size"]}`: Sickle harvests `ListRecords`
(`{results["prefix"]}`, {results["page_size"]} records per page) from gunicorn (2 workers)
over a SQLite registry. Machine: {results["machine"].get("nproc")} cores.

- records harvested: {h["records"]} of {results["visible"]} published or archived,
  in {h["pages"]} pages
- time: {h["seconds"]} s, **{h["records_per_s"]} records/s**
- records/s per tenth of the harvest: {", ".join(map(str, h["records_per_s_per_tenth"]))}
- page latency: median {h["page_ms"]["median"]} ms, p95 {h["page_ms"]["p95"]} ms,
  max {h["page_ms"]["max"]} ms
- import of the registry: {results["import_s"]} s (not part of the harvest)

Resident memory during the harvest (MiB):

| records so far | seconds | gunicorn workers | harvester |
| --- | --- | --- | --- |
{rows}
"""


def main(argv: list[str] | None = None) -> int:
    """CLI; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.harvest", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="records (default 10000)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--prefix", default="oai_dc", choices=("oai_dc", "ibieb"))
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-harvest-") as tmp:
        work = Path(tmp)
        log(f"generating {args.size} records")
        data = work / "records.jsonl"
        write_jsonl(generate(args.size, args.seed), data)
        visible = sum(
            json.loads(line)["status"] in ("published", "archived")
            for line in data.open(encoding="utf-8")
        )
        db_url = f"sqlite:///{work / 'registry.db'}"
        factory, _ = prepare(db_url, TAXONOMY_FILE)
        started = time.perf_counter()
        report = import_jsonl(factory, data)
        import_s = round(time.perf_counter() - started, 1)
        log(f"imported {report.created} records in {import_s} s; harvesting")
        proc, base = start_portal(db_url, args.page_size)
        try:
            measured = harvest(base, args.prefix, visible, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    date = dt.date.today().isoformat()
    results = {
        "date": date, "size": args.size, "seed": args.seed, "prefix": args.prefix,
        "page_size": args.page_size, "visible": visible, "import_s": import_s,
        "machine": host_facts(), "harvest": measured,
    }  # fmt: skip
    if measured["records"] != visible:
        log(f"harvested {measured['records']} records, expected {visible}")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{date}-harvest-{args.size}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    stem.with_suffix(".md").write_text(markdown(results), "utf-8")
    log(f"{measured['records_per_s']} records/s; results in {stem}.json and .md")
    return 0 if measured["records"] == visible else 1


if __name__ == "__main__":
    sys.exit(main())
