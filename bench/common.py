"""What every benchmark shares: timing series, interleaved rounds, the machine's description.

Figures are per-call wall-clock times from :func:`time.perf_counter_ns`,
summarised by median (robust to the odd pause) and p95 (the tail users feel).
Series are measured in rounds that alternate between the code and its
baseline, so a minute in which the machine runs slow hurts both alike.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version


@dataclass
class Series:
    """One measured quantity: per-call durations in nanoseconds, plus what the calls answered."""

    key: str
    label: str
    what: str
    samples_ns: list[int] = field(default_factory=list)
    #: Per-round medians, so ratios can be taken round by round (see :func:`round_ratio`).
    round_medians_ns: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.samples_ns)

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_ns) / 1000 if self.samples_ns else math.nan

    @property
    def p95_us(self) -> float:
        return percentile(self.samples_ns, 95) / 1000

    def add_round(self, samples_ns: Sequence[int]) -> None:
        self.samples_ns.extend(samples_ns)
        if samples_ns:
            self.round_medians_ns.append(statistics.median(samples_ns))


def percentile(samples: Sequence[int], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually observed, never an interpolation."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


def round_ratio(slow: Series, fast: Series) -> float:
    """Median over rounds of ``slow / fast``: each ratio compares two series measured seconds apart."""
    ratios = [s / f for s, f in zip(slow.round_medians_ns, fast.round_medians_ns, strict=False) if f > 0]
    return statistics.median(ratios) if ratios else math.nan


def interleave(rounds: int, steps: Sequence[Callable[[int], None]]) -> None:
    """Run ``steps`` once per round, rotating which goes first so none always gets the cold start.

    The garbage collector is paused inside each step (as :mod:`timeit` does) so a
    collection triggered by one series' allocations is not billed to another.
    """
    for round_no in range(rounds):
        shift = round_no % len(steps)
        for step in [*steps[shift:], *steps[:shift]]:
            gc.collect()
            gc.disable()
            try:
                step(round_no)
            finally:
                gc.enable()


def timer_overhead_ns(calls: int = 20_000) -> float:
    """Median cost of the two clock reads around every timed call; included in every figure, not subtracted."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(calls):
        start = clock()
        samples.append(clock() - start)
    return statistics.median(samples)


@dataclass
class Report:
    """A finished benchmark: its series for the console and its section of ``docs/performance.md``."""

    name: str
    title: str
    series: list[Series]
    notes: list[str]
    markdown: str
    passed: bool


def machine() -> dict[str, str]:
    """What the figures were measured on; they mean little without it."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "OS": platform.platform(),
        "CPU": f"{cpu_model()} ({os.cpu_count()} logical CPUs)",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "casbin": package_version("casbin"),
        "SQLAlchemy": package_version("sqlalchemy"),
        "Load average at start": load,
    }


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo on Linux, else whatever :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_us(value: float) -> str:
    """Microseconds with sensible precision: 0.42, 3.1, 4,210."""
    if math.isnan(value):
        return "n/a"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"
