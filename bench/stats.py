"""Summary statistics of latency samples."""

from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) of ``values`` by linear interpolation; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies_ms: list[float]) -> dict:
    """``{"count", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms"}`` of ``latencies_ms``."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "count": len(latencies_ms),
        "p50_ms": rounded(percentile(latencies_ms, 50)),
        "p95_ms": rounded(percentile(latencies_ms, 95)),
        "p99_ms": rounded(percentile(latencies_ms, 99)),
        "mean_ms": rounded(sum(latencies_ms) / len(latencies_ms)) if latencies_ms else None,
        "max_ms": rounded(max(latencies_ms)) if latencies_ms else None,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to 3 places, None when either is missing or 0."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)
