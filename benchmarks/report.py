"""What a benchmark returns, the table it ends up in, and the few statistics they share."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Options:
    """What this run was asked to do (the command line's choices; defaults fit `make bench`)."""

    cold_start_rounds: int = 9  # ~3 s a round on a quiet 2-CPU machine: make bench stays < 5 min
    warm_messages: int = 200
    burst_complaints: int = 2000  # burst: complaints, each from a number of its own
    bytecode: bool = True  # cold start with every module precompiled, as the layer ships (src/Makefile)
    build: str = "auto"  # package size: auto (sam build when stale) | always | never


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table. ``ok`` is None when there is no target to meet."""

    benchmark: str
    subject: str
    measured: str
    floor: str = ""
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""


@dataclass(slots=True)
class Outcome:
    results: dict[str, Any]  # top-level keys of bench-results.json (issue 5's names)
    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(value: float, floor: float) -> float:
    return value / floor if floor > 0 else math.inf


def rounded(value: float, places: int = 1) -> float:
    return round(value, places)


# ---------------------------------------------------------------------------------- the table

_HEADINGS = ("benchmark", "subject", "measured", "floor", "ratio", "target", "", "note")


def verdict(ok: bool | None) -> str:
    return {True: "ok", False: "MISS", None: ""}[ok]


def table(rows: Sequence[Row]) -> str:
    lines = [
        (
            r.benchmark,
            r.subject,
            r.measured,
            r.floor,
            f"{r.ratio:.2f}x" if r.ratio is not None else "",
            r.target,
            verdict(r.ok),
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(_HEADINGS)]
    numeric = {2, 3, 4}

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([render(_HEADINGS), rule, *(render(line) for line in lines)])


def machine() -> dict[str, Any]:
    """Where the figures came from (the README's Performance section quotes it)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": load,
        "python": sys.version.split()[0],
    }
