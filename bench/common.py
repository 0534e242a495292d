"""What every benchmark shares: timing series, interleaved rounds, the machine's description.

Figures are per-call wall-clock times from :func:`time.perf_counter_ns`,
summarised by median (robust to the odd pause) and p95 (the tail users feel).
Series are measured in rounds that alternate between the code and its
baseline, so a minute in which the machine runs slow hurts both alike.
"""

from __future__ import annotations

import gc
import http.client
import json
import math
import os
import platform
import socket
import sqlite3
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import uvicorn


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


@dataclass
class Answer:
    """An HTTP response as the benchmarks look at it."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Served:
    """An ASGI app served by uvicorn, as ``jiceng serve`` serves it, on a loopback port, from a thread of this process.

    A real server measures what a client waits for: HTTP parsing, the event
    loop, the thread pool. Starlette's ``TestClient`` measures something else:
    it hands every request from the client's thread to an event loop in
    another thread through an anyio portal, several lock handovers that cost
    milliseconds on a slow machine and that no deployment pays. In this
    process rather than a child, so that a benchmark can still watch the
    app's engine; one request at a time, so the client and server threads do
    not compete for the interpreter.
    """

    def __init__(self, app: Any) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Accepted connections inherit it: without it a response written in two parts (head, body) waits for
        # the client's delayed acknowledgement, 40 ms on Linux.
        self.listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.listener.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=3600)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.listener]}, daemon=True)

    def __enter__(self) -> Client:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return Client(self.listener.getsockname()[1])

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.listener.close()


class Client:
    """One keep-alive HTTP/1.1 connection to a :class:`Served` app; what a script or another system would use."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, path: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Answer:
        if params:
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        return self._send("GET", path, None, headers or {})

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        form = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self._send("POST", path, urllib.parse.urlencode(data).encode(), form)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return Answer(response.status, response.read())


def setup_text(setup: dict[str, float], digits: int = 1) -> str:
    """The setup steps and their seconds, as every section's method states them."""
    return "; ".join(f"{what} {secs:,.{digits}f} s" for what, secs in setup.items())


def machine_lines(host: dict[str, str]) -> list[str]:
    """The machine paragraph every section ends with."""
    return ["**Machine**:", "", *[f"- {key}: {value}" for key, value in host.items()]]


def env_int(name: str, default: int) -> int:
    """A size from the environment, for a quicker look; a section records the sizes used and judges only the targets'."""
    value = os.environ.get(name, "").replace("_", "").replace(",", "")
    return int(value) if value.isdigit() and int(value) > 0 else default
