"""The relevance metrics on small cases computed by hand."""

from __future__ import annotations

import math

import pytest

from bench.relevance.metrics import dcg, mean, ndcg_at, recall_at, reciprocal_rank

JUDGED = {"a": 2, "b": 1, "c": 0, "d": 2}


def test_dcg_by_hand():
    # gains 3, 1, 0 at ranks 1, 2, 3: 3/log2(2) + 1/log2(3) + 0
    assert dcg([2, 1, 0]) == pytest.approx(3 + 1 / math.log2(3))


def test_ndcg_perfect_and_partial():
    assert ndcg_at(["a", "d", "b"], JUDGED, 10) == pytest.approx(1.0)
    # ideal: 3, 3, 1 → 3 + 3/log2(3) + 1/2; ranked b, c, a: 1 + 0 + 3/2
    ideal = 3 + 3 / math.log2(3) + 0.5
    assert ndcg_at(["b", "c", "a"], JUDGED, 10) == pytest.approx(2.5 / ideal)


def test_ndcg_cut_at_k_and_unjudged_ids_count_zero():
    # k=1: only "x" counts (unjudged → 0)
    assert ndcg_at(["x", "a"], JUDGED, 1) == 0.0
    assert ndcg_at([], JUDGED, 10) == 0.0
    assert ndcg_at(["a"], {"a": 0}, 10) == 0.0


def test_recall_counts_grade_one_and_two():
    assert recall_at(["a", "c"], JUDGED, 20) == pytest.approx(1 / 3)
    assert recall_at(["c", "a", "b", "d"], JUDGED, 2) == pytest.approx(1 / 3)
    assert recall_at(["a", "b", "d"], JUDGED, 20) == 1.0


def test_reciprocal_rank():
    assert reciprocal_rank(["c", "x", "b"], JUDGED) == pytest.approx(1 / 3)
    assert reciprocal_rank(["c"], JUDGED) == 0.0


def test_mean():
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)
    assert mean([]) == 0.0
