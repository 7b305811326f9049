"""Ranking metrics over graded judgments (pure functions, no I/O).

Grades are integers 0 (not relevant), 1 (partly) and 2 (squarely relevant); a record
missing from a query's judgments has grade 0. Definitions follow the usual TREC
conventions:

- nDCG@k with exponential gain ``2**grade - 1`` and discount ``log2(rank + 1)``,
  normalised by the ideal ordering of *all* judged records (so a relevant record the
  engine never returns lowers the score);
- recall@k: the share of records with grade ≥ 1 that appear in the top k;
- reciprocal rank: ``1 / rank`` of the first record with grade ≥ 1 (0 when none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain of ``grades`` in rank order (rank 1 first)."""
    return sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(grades, 1))


def ndcg_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of the ids ``ranked`` (best first) against ``judgments`` (id → grade).

    Returns 0.0 when nothing is relevant (the ideal DCG is 0) rather than dividing by
    zero; a judged set where every query has a relevant record never meets that case.
    """
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(doc_id, 0) for doc_id in ranked[:k]]) / ideal


def recall_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 20) -> float:
    """Share of the records graded ≥ 1 that are among the first ``k`` of ``ranked``."""
    relevant = {doc_id for doc_id, grade in judgments.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int]) -> float:
    """``1 / rank`` of the first id graded ≥ 1 in ``ranked``; 0.0 when there is none."""
    for rank, doc_id in enumerate(ranked, 1):
        if judgments.get(doc_id, 0) > 0:
            return 1 / rank
    return 0.0


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for an empty sequence."""
    return sum(values) / len(values) if values else 0.0
