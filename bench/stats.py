"""Summaries of repeated measurements: median with min and max, never a mean (the machine is noisy)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

Summary = dict[str, Any]


def summary(values: Sequence[float]) -> Summary:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": [round(v, 6) for v in values],
    }


def fmt(s: Summary, digits: int = 2, unit: str = "") -> str:
    """`median (min-max)` for a table cell."""
    return f"{s['median']:,.{digits}f}{unit} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"
