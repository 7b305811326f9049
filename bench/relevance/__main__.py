"""The judged-query evaluation: ``python -m bench.relevance`` (``make relevance``).

Loads the real data set into a fresh SQLite registry in a temporary folder, rebuilds
an index of its own on the node of ``OPENSEARCH_URL`` (else the local devnode node,
started and stopped again when it was not running), then sends every judged query of
``bench/relevance/judgments.json``

- through the portal's search API (``/api/v1/search``, Flask test client, anonymous:
  the public alias, with corrections and thesaurus as a visitor gets them), and
- as a plain ``multi_match`` baseline over the same public index (the text fields
  without boosts, every word optional: the engine's default),

and prints nDCG@10, recall@20, MRR and the zero-result rate per query kind for both.
Results go to ``bench/results/<date>-relevance.json`` and ``.md``. How the judged set
was made: ``bench/relevance/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import uuid
from pathlib import Path

from indexer.client import IndexNames, make_client
from registry.db import prepare
from registry.records import import_jsonl
from settings import Settings

from .harness import BASELINE_FIELDS, evaluate, render_markdown

ROOT = Path(__file__).resolve().parents[2]
JUDGMENTS = Path(__file__).resolve().parent / "judgments.json"
RESULTS_DIR = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; exit code 0, or 1 when the judged set is unusable."""
    parser = argparse.ArgumentParser(prog="python -m bench.relevance")
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "innovations.jsonl")
    parser.add_argument(
        "--thesaurus", type=Path, default=None,
        help="replace the seeded thesaurus by this file (to compare thesauri)",
    )  # fmt: skip
    parser.add_argument("--label", default="", help="suffix of the results files")
    args = parser.parse_args(argv)
    judged = json.loads(args.judgments.read_text(encoding="utf-8"))

    from devnode import ensure_node, stop_node

    started = False
    url = Settings.from_env().opensearch_url
    if not url:
        url, started = ensure_node()
    client = make_client(url, timeout_s=60)
    names = IndexNames(f"relevance-{uuid.uuid4().hex[:6]}-")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = f"sqlite:///{Path(tmp) / 'registry.db'}"
            factory, _ = prepare(db_url, ROOT / "data" / "taxonomy.json")
            report = import_jsonl(factory, args.data)
            if report.rejected:
                print(f"relevance: {len(report.rejected)} records rejected", file=sys.stderr)
                return 1
            from indexer.rebuild import rebuild

            if args.thesaurus:
                from registry import thesaurus
                from registry.db import transaction

                specs = thesaurus.parse_document(json.loads(args.thesaurus.read_text("utf-8")))
                with transaction(factory) as session:
                    thesaurus.import_sets(session, specs, "relevance", replace=True)

            rebuild(client, factory, names)
            from portal import create_app

            app = create_app(
                {
                    "TESTING": True,
                    "DATABASE_URL": db_url,
                    "OPENSEARCH_URL": url,
                    "INDEX_PREFIX": names.prefix,
                    "SECRET_KEY": uuid.uuid4().hex,
                    "RATELIMIT_ENABLED": False,
                }
            )
            result = evaluate(judged, app.test_client(), client, names.alias("public"))
    finally:
        client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)
        if started:
            stop_node()
    result["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result["baseline_fields"] = list(BASELINE_FIELDS)
    args.out.mkdir(parents=True, exist_ok=True)
    result["thesaurus"] = str(args.thesaurus or "data/thesaurus.json")
    suffix = f"-{args.label}" if args.label else ""
    stem = args.out / f"{dt.date.today().isoformat()}-relevance{suffix}"
    stem.with_suffix(".json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    markdown = render_markdown(result)
    stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown.split("\n## Per query", 1)[0])
    print(f"written: {stem}.json, {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
