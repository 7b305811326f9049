"""Running judged queries and summarising them (:mod:`bench.relevance`).

``evaluate`` sends each query through the portal's search API and as a plain
``multi_match`` baseline, then scores both with :mod:`.metrics`; ``summarise`` and
``render_markdown`` are pure.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .metrics import mean, ndcg_at, recall_at, reciprocal_rank

DEPTH = 20
"""Hits fetched per query (recall is measured at this depth)."""
BASELINE_FIELDS = ("title", "summary", "description", "results", "keywords", "organisation")
"""The baseline searches the public text fields without boosts."""
KIND_ORDER = ("single", "compound", "phrase", "jargon", "typo", "english")
REASONING = Path(__file__).resolve().parent / "README.md"


def baseline_body(q: str) -> dict:
    """A plain ``multi_match`` (best fields, any word) over :data:`BASELINE_FIELDS`."""
    return {
        "size": DEPTH,
        "_source": False,
        "query": {"multi_match": {"query": q, "fields": list(BASELINE_FIELDS)}},
    }


def score(ranked: list[str], total: int, grades: dict[str, int]) -> dict:
    """Metrics of one ranked list: ``{"ndcg10", "recall20", "rr", "zero"}``."""
    return {
        "ndcg10": ndcg_at(ranked, grades, 10),
        "recall20": recall_at(ranked, grades, DEPTH),
        "rr": reciprocal_rank(ranked, grades),
        "zero": total == 0,
    }


def evaluate(judged: dict, http, client, alias: str) -> dict:
    """Run every judged query on the portal (``http``: a Flask test client) and as the
    baseline (``client`` on ``alias``); returns ``{"queries": [...], "summary": {...}}``.

    Each query row holds its ``id``, ``kind``, ``q``, the portal's and the baseline's
    metrics, the portal's ``corrected_query`` and its top ten ids.

    Raises:
        RuntimeError: the portal answered a judged query with an error status.
    """
    rows = []
    for query in judged["queries"]:
        grades = {doc_id: int(grade) for doc_id, grade in query["grades"].items()}
        response = http.get("/api/v1/search", query_string={"q": query["q"], "size": DEPTH})
        if response.status_code != 200:
            raise RuntimeError(f"{query['id']}: HTTP {response.status_code} {response.data[:200]}")
        body = response.get_json()
        portal_ids = [hit["id"] for hit in body["hits"]]
        raw = client.search(index=alias, body=baseline_body(query["q"]))
        baseline_ids = [hit["_id"] for hit in raw["hits"]["hits"]]
        rows.append(
            {
                "id": query["id"],
                "kind": query["kind"],
                "q": query["q"],
                "portal": score(portal_ids, body["total"], grades),
                "baseline": score(baseline_ids, raw["hits"]["total"]["value"], grades),
                "corrected_query": body.get("corrected_query"),
                "top10": portal_ids[:10],
                "relevant": sum(1 for g in grades.values() if g > 0),
            }
        )
    return {"queries": rows, "summary": summarise(rows)}


def _aggregate(rows: list[dict], side: str) -> dict:
    return {
        "queries": len(rows),
        "ndcg10": round(mean([r[side]["ndcg10"] for r in rows]), 4),
        "recall20": round(mean([r[side]["recall20"] for r in rows]), 4),
        "mrr": round(mean([r[side]["rr"] for r in rows]), 4),
        "zero_rate": round(mean([1.0 if r[side]["zero"] else 0.0 for r in rows]), 4),
    }


def summarise(rows: list[dict]) -> dict:
    """Per kind and ``all``: portal and baseline aggregates and the nDCG ratio.

    Returns ``{kind: {"portal": {...}, "baseline": {...}, "ndcg_ratio": float|None}}``.
    """
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    kinds = [k for k in KIND_ORDER if k in by_kind] + sorted(set(by_kind) - set(KIND_ORDER))
    out = {}
    for kind, group in [("all", rows)] + [(k, by_kind[k]) for k in kinds]:
        portal, baseline = _aggregate(group, "portal"), _aggregate(group, "baseline")
        ratio = portal["ndcg10"] / baseline["ndcg10"] if baseline["ndcg10"] else None
        out[kind] = {
            "portal": portal,
            "baseline": baseline,
            "ndcg_ratio": round(ratio, 3) if ratio else None,
        }
    return out


def render_markdown(result: dict) -> str:
    """The results file: summary table, reasoning, then one row per query."""
    lines = [
        f"# Relevance — {result.get('date', '')}",
        "",
        "Judged queries through the portal's search API against a plain `multi_match` "
        f"baseline ({', '.join(result.get('baseline_fields', BASELINE_FIELDS))}, no boosts, "
        "any word) on the same public index, in the same run.",
        "",
        "| kind | queries | nDCG@10 portal | baseline | ratio | recall@20 portal | baseline "
        "| MRR portal | baseline | zero-result portal | baseline |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, s in result["summary"].items():
        p, b = s["portal"], s["baseline"]
        lines.append(
            f"| {kind} | {p['queries']} | {p['ndcg10']:.3f} | {b['ndcg10']:.3f} | "
            f"{s['ndcg_ratio'] or '–'} | {p['recall20']:.3f} | {b['recall20']:.3f} | "
            f"{p['mrr']:.3f} | {b['mrr']:.3f} | {p['zero_rate']:.1%} | {b['zero_rate']:.1%} |"
        )
    if REASONING.exists():
        lines += ["", REASONING.read_text(encoding="utf-8").strip().replace("\n# ", "\n## ")]
    lines += [
        "",
        "## Per query",
        "",
        "| id | kind | q | relevant | nDCG@10 portal | baseline | zero | corrected to |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["queries"]:
        q = r["q"].replace("|", "\\|")
        lines.append(
            f"| {r['id']} | {r['kind']} | {q} | {r['relevant']} | {r['portal']['ndcg10']:.3f} | "
            f"{r['baseline']['ndcg10']:.3f} | {'yes' if r['portal']['zero'] else ''} | "
            f"{r['corrected_query'] or ''} |"
        )
    return "\n".join(lines) + "\n"
