"""Timing helpers: repeated calls, percentiles, a floor's ratio and its goal."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from typing import Any


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def time_calls(call: Callable[[int], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Seconds of ``repeat`` calls ``call(i)`` after ``warmup`` untimed ones (garbage collected between)."""
    for index in range(warmup):
        call(-1 - index)
    seconds = []
    for index in range(repeat):
        gc.collect()
        started = time.perf_counter()
        call(index)
        seconds.append(time.perf_counter() - started)
    return seconds


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds, with the number of samples."""
    return {
        "p50_ms": round(statistics.median(seconds) * 1000, 3),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 3),
        "samples": len(seconds),
    }


def goal(description: str, met: bool) -> dict[str, Any]:
    return {"goal": description, "met": met}
