"""Percentiles for the benchmarks: one definition, so every bench reports p50/p99 alike."""

from __future__ import annotations


def pct(samples: list[float], q: float) -> float:
    """The nearest-rank q-quantile (0 ≤ q ≤ 1) of `samples`; NaN when there are none."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
