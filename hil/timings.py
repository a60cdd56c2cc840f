"""Collects per-scenario timings and prints them as one table at the end of the run.

Scenarios call `record()` (or time a block with `timed()`); hil/conftest.py prints `table()`
from its `pytest_terminal_summary` hook. Figures, never assertions: a slow lab is reported,
not failed.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator

_samples: dict[tuple[str, str], list[float]] = defaultdict(list)


def record(scenario: str, metric: str, seconds: float) -> None:
    _samples[(scenario, metric)].append(seconds)


@contextlib.contextmanager
def timed(scenario: str, metric: str) -> Iterator[None]:
    """Record how long the block took (only when it finishes without an error)."""
    start = time.monotonic()
    yield
    record(scenario, metric, time.monotonic() - start)


def samples() -> dict[tuple[str, str], list[float]]:
    return {key: list(values) for key, values in _samples.items()}


def clear() -> None:
    _samples.clear()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table() -> list[str]:
    if not _samples:
        return []
    rows = [f"{'scenario':<34} {'metric':<40} {'n':>4} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"]
    for (scenario, metric), values in sorted(_samples.items()):
        p50 = statistics.median(values) * 1000
        p99 = _percentile(values, 0.99) * 1000
        rows.append(
            f"{scenario[:34]:<34} {metric[:40]:<40} {len(values):>4} "
            f"{p50:>9.1f} {p99:>9.1f} {max(values) * 1000:>9.1f}"
        )
    return rows
