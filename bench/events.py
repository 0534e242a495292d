"""The event loop at scale (issue 5): intake throughput through the full stack, and the dashboard and assessment
of a town with 1,000,000 events.

The targets: event intake through the full stack (auth, permission, validation,
hooks for 10 enabled scenarios, audit) on one uvicorn worker reaches at least
50 % of the throughput of a bare FastAPI + SQLModel endpoint inserting the same
row, measured in the same run, on SQLite (WAL) and on PostgreSQL; the dashboard
and the assessment of a town with 1,000,000 events answer in ≤ 200 ms.

**Intake.** Two real servers per database kind, each ``python -m uvicorn
--factory … --workers 1`` in a process of its own on a free localhost port,
under the same load of 32 keep-alive connections from this process (a small
HTTP/1.1 client on asyncio, see :func:`burst`: it costs a few tens of µs of CPU
per request, so it is not what limits the rates):

* **J** - jiceng, ``jiceng.core.web.server:build`` reading a ``jiceng.toml``:
  ``POST /api/events`` as the sample world's ``grid_worker`` with a bearer token
  from ``POST /api/auth/token``; the town enables 10 of the 50 scenarios that
  ``bench/plugins.py`` generates (each with ``route_event`` and
  ``event_changed``) and has a local public event type from ``[[events.types]]``
  with a choice field, whose department ``urban`` exists.
* **B** - the baseline: :func:`bare_app`, a bare FastAPI + SQLModel endpoint
  taking the same JSON body (a plain pydantic model) and inserting the row
  jiceng writes into the same ``event`` table of a database migrated the same
  way, with the same engine settings; no auth, no lookups, no timeline, no audit.
* **P** - :func:`bare_app`'s pydantic-only ``POST`` (``async``, no database): the
  ceiling of one uvicorn worker with this client, to show the client is not the
  bottleneck.

J, B and P alternate in rounds of a fixed duration, the order rotating each round.

**Dashboard and assessment.** 1,000,000 events of one town over a year (see
:func:`bulk_events`: states by age, departments, grids, deadlines, some overdue,
ratings), bulk-loaded with ``sqlite3`` into the table Alembic migrates. As
``town_admin``, through the real app in this process (FastAPI's ``TestClient``):

* **A1** - ``GET /api/towns/{town}/dashboard``;
* **A2, A3** - ``GET /api/towns/{town}/assessment`` for the last full month, by
  department and by grid;
* **A4, A5** - the same for the whole year.

Beside each, in the same rounds: **Rn** replays every statement the route ran
through a bare ``sqlite3`` connection (the database's share), and **Sn**, the
baseline, runs the minimal equivalent SQL (the same aggregates, one ``GROUP BY``
with no join) through the same connection. After the rounds, :func:`what_if`
measures the index and query shape that would help.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy import event, text
from sqlmodel import Session, col, select

from jiceng.core import audit, migrate
from jiceng.core.area_import import AreaRow, import_rows
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import Settings, load_settings
from jiceng.core.db import make_engine, transaction
from jiceng.core.events.counts import rebuild as rebuild_counts
from jiceng.core.events.models import Channel, Department, Event
from jiceng.core.events.tally import rebuild as rebuild_tally
from jiceng.core.sample_world import GRID_A1, PASSWORD, TOWN_A, TREE, make_world
from jiceng.core.users import create_user
from jiceng.core.web.app import create_app

from .common import (
    Report,
    Series,
    env_int,
    interleave,
    machine,
    machine_lines,
    now,
    package_version,
    round_ratio,
    setup_text,
)
from .plugins import ENABLED, SCENARIOS, clean_env, python_command, scenario_id, write_scenarios
from .records import bare_connect, query_plan, short_sql

NAME = "events"
TITLE = "Events: intake throughput, dashboard and assessment"
INTAKE_TARGET = 0.5  # jiceng's req/s ÷ the bare endpoint's
QUERY_TARGET_MS = 200.0
SEED = 20_005

CONNECTIONS = 32
INTAKE_ROUNDS = env_int("BENCH_EVENTS_ROUNDS", 5)
ROUND_S = env_int("BENCH_EVENTS_ROUND_MS", 5_000) / 1000  # J and B; P runs half as long
WARMUP_S = 1.5
REQUEST_TIMEOUT_S = 20.0  # an answer slower than this is a failure (a stuck server must not stall the benchmark)
REPO = Path(__file__).resolve().parent.parent
BARE_URL_ENV = "BENCH_EVENTS_BARE_URL"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "root", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
PG_URL = "postgresql://root@127.0.0.1:5432/{name}"

LOCAL_TYPE = "local.pothole"
DEPARTMENT = "urban"
REPORT = {
    "type": LOCAL_TYPE,
    "title": "人民路12号门前坑洼",
    "description": "坑深约十厘米，雨后积水，电动车绕行。",
    "area": GRID_A1,
    "attributes": {"size": "large"},
}
JICENG_TOML = """\
environment = "development"
database_url = "{url}"

[towns."{town}"]
scenarios = [{scenarios}]

[[events.types]]
code = "{type}"
zh = "道路坑洼"
en = "Pothole"
category = "city_appearance"
deadline_hours = 16
department = "{department}"
public = true
towns = ["{town}"]
fields = [{{ name = "size", zh = "大小", en = "Size", kind = "choice", choices = ["small", "large"] }}]
"""


# ---------------------------------------------------------------------------------------------- the bare server


class BareIn(BaseModel):
    """The body jiceng's route takes, as a plain pydantic model: what any FastAPI endpoint would declare."""

    type: str
    title: str
    description: str = ""
    area: str
    attributes: dict[str, object] = {}


def bare_app(url: str | None = None) -> FastAPI:
    """The baseline: ``uvicorn --factory bench.events:bare_app`` with the database URL in ``$BENCH_EVENTS_BARE_URL``.

    ``POST /api/events`` inserts the row jiceng writes for the same report (the area's and town's paths read
    once at start-up, as constants); ``POST /api/echo`` validates the body and returns it, touching nothing.
    Its engine is jiceng's (``make_engine``: the same WAL pragmas on SQLite, the same pool on PostgreSQL), so
    the two differ in what they do per request, not in how they reach the database.
    """
    engine = make_engine(url or os.environ[BARE_URL_ENV])
    with Session(engine) as session:
        grid, town = session.get(Area, GRID_A1), session.get(Area, TOWN_A)
        assert grid is not None and town is not None, "the bare database has no sample world"
        area_path, owner_path = grid.path, town.path
    numbers = itertools.count(1)
    prefix = f"B{os.getpid()}-"
    app = FastAPI()
    app.state.engine = engine  # so the benchmark can list the statements a request runs

    @app.post("/api/events", status_code=201)
    def create(data: BareIn) -> dict[str, Any]:
        row = Event(
            code=f"{prefix}{next(numbers)}",
            town_code=TOWN_A,
            type_code=data.type,
            category="city_appearance",
            title=data.title,
            description=data.description,
            area_code=data.area,
            area_path=area_path,
            owner_path=owner_path,
            attributes=data.attributes,
            related=[],
            channel=Channel.grid,
            reporter="grid_worker",
            suggested_department=DEPARTMENT,
        )
        with Session(engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
        return row.model_dump()

    @app.post("/api/echo", status_code=201)
    async def echo(data: BareIn) -> dict[str, Any]:
        return data.model_dump()

    return app


# ---------------------------------------------------------------------------------------------- the load generator


@dataclass
class Burst:
    """One burst of requests at one endpoint: what came back, how long it took, what it cost each side."""

    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ns: list[int] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    machine_cpu_s: float = 0.0  # every process's, the database's included

    @property
    def ok(self) -> int:
        return self.statuses["201"]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def http_request(port: int, path: str, token: str | None) -> bytes:
    """The request every connection sends, encoded once."""
    body = json.dumps(REPORT, ensure_ascii=False).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _burst(port: int, request: bytes, seconds: float, pid: int) -> Burst:
    loop = asyncio.get_running_loop()
    result = Burst()
    clock = time.perf_counter_ns
    deadline = loop.time() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while loop.time() < deadline:
                start = clock()
                writer.write(request)
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = next(
                        (int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")),
                        None,
                    )
                    if length is None:  # uvicorn always sends a length for these answers; anything else is a failure
                        result.statuses["no content-length"] += 1
                        return
                    await reader.readexactly(length)
                result.latencies_ns.append(clock() - start)
                result.statuses[head[9:12].decode()] += 1
                if b"connection: close" in head.lower():
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:  # counted; this connection stops
            result.statuses[type(error).__name__] += 1
        finally:
            writer.close()

    cpu0, server0, machine0, start = time.process_time(), process_cpu_s(pid), machine_cpu_s(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    result.seconds = time.perf_counter() - start
    result.client_cpu_s = time.process_time() - cpu0
    result.server_cpu_s = process_cpu_s(pid) - server0
    result.machine_cpu_s = machine_cpu_s() - machine0
    return result


def burst(port: int, request: bytes, seconds: float, pid: int) -> Burst:
    """``CONNECTIONS`` keep-alive connections sending ``request`` back to back for ``seconds``.

    Each connection waits for its answer before sending again (no pipelining), as a browser or
    ``httpx.AsyncClient`` with 32 connections would; the rate counts 201 answers over the time until the last
    connection's last answer, so requests still running at the deadline are counted, not cut off.
    """
    return asyncio.run(_burst(port, request, seconds, pid))


def machine_cpu_s() -> float:
    """CPU seconds every process of the machine has used (``/proc/stat``: all but idle and I/O wait)."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, from ``/proc`` (NaN where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(app: str, port: int) -> list[str]:
    """Both servers are started alike: one worker, no access log (it would cost both a write per request)."""
    return [
        sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


@dataclass
class Server:
    key: str
    app: str
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


@contextmanager
def serving(servers: list[Server], tmp: Path) -> Iterator[None]:
    """Start every server, wait until each accepts connections, and stop them all afterwards."""
    try:
        for server in servers:
            server.port = free_port()
            server.log = tmp / f"server-{server.key}.log"
            with server.log.open("wb") as log:
                server.process = subprocess.Popen(
                    uvicorn_command(server.app, server.port), env=server.env, cwd=REPO, stdout=log, stderr=log
                )
        for server in servers:
            wait_listening(server)
        yield
    finally:
        for server in servers:
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
                try:
                    server.process.wait(15)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait()


def wait_listening(server: Server, timeout: float = 90.0) -> None:
    assert server.process is not None and server.log is not None
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if server.process.poll() is not None:
            raise RuntimeError(f"server {server.key} exited:\n{server.log.read_text(errors='replace')[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server {server.key} did not listen within {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------- databases


@dataclass
class Database:
    """One kind of database: where jiceng's and the bare endpoint's copies are, and how to drop them."""

    kind: str  # "SQLite (WAL)" or "PostgreSQL"
    jiceng_url: str
    bare_url: str
    drop: Callable[[], None]


def prepare(url: str, settings: Settings) -> None:
    """Migrated by Alembic, with the sample world (its areas, one user per role, all with ``PASSWORD``)."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            make_world(session, settings)
    finally:
        engine.dispose()


@contextmanager
def sqlite_databases(tmp: Path, settings: Settings) -> Iterator[Database]:
    jiceng_db, bare_db = tmp / "intake-jiceng.db", tmp / "intake-bare.db"
    prepare(f"sqlite:///{jiceng_db}", settings)
    shutil.copy(jiceng_db, bare_db)
    yield Database("SQLite (WAL)", f"sqlite:///{jiceng_db}", f"sqlite:///{bare_db}", lambda: None)


def psql(sql: str) -> None:
    subprocess.run([*PG_ADMIN, "-c", sql], check=True, capture_output=True, text=True)


@contextmanager
def postgres_databases(settings: Settings) -> Iterator[Database]:
    """Two fresh databases on the local server (user root, trust auth), dropped afterwards whatever happens."""
    names = [f"jiceng_bench_events_{os.getpid()}_{suffix}" for suffix in ("jiceng", "bare")]

    def drop() -> None:
        for name in names:
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    drop()
    try:
        for name in names:
            psql(f"CREATE DATABASE {name}")
            prepare(PG_URL.format(name=name), settings)
        yield Database("PostgreSQL", *(PG_URL.format(name=n) for n in names), drop)
    finally:
        drop()


# ---------------------------------------------------------------------------------------------- intake


@dataclass
class Intake:
    """One database kind's figures."""

    kind: str
    enabled: list[str]
    series: dict[str, Series]
    bursts: dict[str, list[Burst]]
    warmup: dict[str, Burst]
    checks: list[str]
    stored: dict[str, int]
    elapsed_s: float
    statements: dict[str, list[str]] = field(default_factory=dict)

    def rates(self, key: str) -> list[float]:
        return [b.rate for b in self.bursts[key]]

    def rate(self, key: str) -> float:
        return statistics.median(self.rates(key))

    def ratio(self) -> float:
        """Median over rounds of J ÷ B, each from two bursts seconds apart."""
        return statistics.median(j.rate / b.rate for j, b in zip(self.bursts["J"], self.bursts["B"], strict=True))

    def total(self, key: str, what: str) -> int:
        return sum(getattr(b, what) for b in [self.warmup[key], *self.bursts[key]])


def write_config(path: Path, url: str, enabled: list[str]) -> None:
    path.write_text(
        JICENG_TOML.format(
            url=url,
            town=TOWN_A,
            scenarios=", ".join(f'"{sid}"' for sid in enabled),
            type=LOCAL_TYPE,
            department=DEPARTMENT,
        ),
        encoding="utf-8",
    )


def set_up_town(port: int, enabled: list[str]) -> tuple[str, list[str]]:
    """Through the running server, as an administrator would: the department, then the grid worker's token.

    Checks on the way that the town offers exactly the local type and the 10 scenarios' types, and that one
    report answers 201 with the department proposed; returns the token and what failed.
    """
    checks: list[str] = []
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        def token(username: str) -> str:
            answer = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
            answer.raise_for_status()
            return answer.json()["access_token"]

        admin = {"Authorization": f"Bearer {token('town_admin')}"}
        made = client.post(
            f"/api/towns/{TOWN_A}/departments", json={"code": DEPARTMENT, "name": "城管办"}, headers=admin
        )
        if made.status_code != 201:
            checks.append(f"creating the department answered {made.status_code}: {made.text[:200]}")
        worker = token("grid_worker")
        bearer = {"Authorization": f"Bearer {worker}"}
        types = {t["code"] for t in client.get(f"/api/towns/{TOWN_A}/event-types", headers=bearer).json()}
        expected = {LOCAL_TYPE, *(f"{sid}.report" for sid in enabled)}
        if types != expected:
            checks.append(f"the town's event types are {sorted(types)}, not the local one and the 10 scenarios'")
        first = client.post("/api/events", json=REPORT, headers=bearer)
        shown = first.json() if first.status_code == 201 else {}
        if (first.status_code, shown.get("suggested_department"), shown.get("channel")) != (201, DEPARTMENT, "grid"):
            checks.append(f"a first report answered {first.status_code}: {first.text[:300]}")
    return worker, checks


def stored_counts(url: str) -> dict[str, int]:
    """Rows written, and whether the audit chain still holds after the concurrent writes."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            counts = {
                table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("event", "event_action")
            }
            counts["audit event.report"] = session.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'event.report'")
            ).scalar_one()
            counts["audit chain intact"] = int(audit.verify(session).ok)
    finally:
        engine.dispose()
    return counts


def measure_intake(console: Console, tmp: Path, site: Path, database: Database, enabled: list[str]) -> Intake:
    config = tmp / f"jiceng-{database.kind.split()[0].lower()}.toml"
    write_config(config, database.jiceng_url, enabled)
    env = {**clean_env(), "PYTHONPATH": f"{site}{os.pathsep}{REPO}"}
    jiceng = Server("J", "jiceng.core.web.server:build", {**env, "JICENG_CONFIG": str(config)})
    bare = Server("B", "bench.events:bare_app", {**env, BARE_URL_ENV: database.bare_url})
    labels = {
        "J": ("jiceng `POST /api/events`", "full stack: token, permission, validation, 10 scenarios' hooks, audit"),
        "B": ("baseline: bare FastAPI + SQLModel insert", "`bare_app` `POST /api/events`: the same row, nothing else"),
        "P": ("bare pydantic-only `POST`", "`bare_app` `POST /api/echo` (async, no database): the client's check"),
    }
    series = {key: Series(key, label, what) for key, (label, what) in labels.items()}
    bursts: dict[str, list[Burst]] = {key: [] for key in labels}
    with console.status(f"{database.kind}: starting jiceng and the bare server…"), serving([jiceng, bare], tmp):
        token, checks = set_up_town(jiceng.port, enabled)
        targets = {
            "J": (jiceng, http_request(jiceng.port, "/api/events", token), ROUND_S),
            "B": (bare, http_request(bare.port, "/api/events", None), ROUND_S),
            "P": (bare, http_request(bare.port, "/api/echo", None), ROUND_S / 2),
        }
        warmup = {
            key: burst(server.port, request, WARMUP_S, server.pid) for key, (server, request, _) in targets.items()
        }

        def step(key: str) -> Callable[[int], None]:
            server, request, seconds = targets[key]

            def run_one(_round: int) -> None:
                done = burst(server.port, request, seconds, server.pid)
                bursts[key].append(done)
                series[key].add_round(done.latencies_ns)

            return run_one

        with console.status(f"{database.kind}: {INTAKE_ROUNDS} rounds of J B P, {ROUND_S:.1f} s each…"):
            started = time.perf_counter()
            interleave(INTAKE_ROUNDS, [step("J"), step("B"), step("P")])
            elapsed = time.perf_counter() - started
    result = Intake(database.kind, enabled, series, bursts, warmup, checks, {}, elapsed)
    for key in ("J", "B"):
        result.stored[key] = stored_counts(database.jiceng_url if key == "J" else database.bare_url)["event"]
    j_counts = stored_counts(database.jiceng_url)
    created = result.total("J", "ok") + 1  # the first report of set_up_town
    for what in ("event", "event_action", "audit event.report"):
        if j_counts[what] != created:
            checks.append(f"jiceng: {j_counts[what]:,} {what} rows for {created:,} answers 201")
    if not j_counts["audit chain intact"]:
        checks.append("jiceng: the audit chain is broken after the run")
    if result.stored["B"] != result.total("B", "ok"):
        checks.append(f"bare: {result.stored['B']:,} event rows for {result.total('B', 'ok'):,} answers 201")
    for server in (jiceng, bare):
        assert server.log is not None
        if "Traceback" in server.log.read_text(errors="replace"):
            checks.append(f"{server.key}'s log holds a traceback (a scenario hook or the server failed)")
    result.statements = {
        "J": statements_per_report(lambda: create_app(load_settings(config)), token, site),
        "B": statements_per_report(lambda: bare_app(database.bare_url), None, site),
    }
    return result


def statements_per_report(build: Callable[[], FastAPI], token: str | None, site: Path) -> list[str]:
    """The SQL one report runs, in this process (after the timed rounds, so the extra rows change nothing)."""
    captured: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        captured.append(" ".join(statement.split()))

    sys.path.insert(0, str(site))  # the scenarios' entry points, for jiceng's app
    try:
        app = build()
        engine = app.state.engine
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            client.post("/api/events", json=REPORT, headers=headers)  # warm-up: caches filled as in the server
            event.listen(engine, "before_cursor_execute", capture)
            try:
                answer = client.post("/api/events", json=REPORT, headers=headers)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
        engine.dispose()
    finally:
        sys.path.remove(str(site))
    if answer.status_code != 201:
        raise RuntimeError(f"the in-process report answered {answer.status_code}: {answer.text[:300]}")
    return captured


def run_intake(console: Console, tmp: Path, settings: Settings) -> list[Intake]:
    site = tmp / "site"
    write_scenarios(site, SCENARIOS)
    enabled = sorted(random.Random(SEED).sample([scenario_id(n) for n in range(1, SCENARIOS + 1)], ENABLED))
    results = []
    with sqlite_databases(tmp, settings) as database:
        results.append(measure_intake(console, tmp, site, database, enabled))
    with postgres_databases(settings) as database:
        results.append(measure_intake(console, tmp, site, database, enabled))
    return results


# ---------------------------------------------------------------------------------------------- 1,000,000 events

EVENTS = env_int("BENCH_EVENTS_EVENTS", 1_000_000)
TARGET_EVENTS = 1_000_000  # the size the target names
QUERY_ROUNDS = env_int("BENCH_EVENTS_QUERY_ROUNDS", 3)
DAYS = 365
COMMUNITIES, GRIDS = 8, 6  # town A grown to 8 communities of 6 grids (the sample world's own among them)
COMMUNITY_SHARE = 0.1  # events placed at a community rather than a grid
GRID_WORKERS = 48
DEPARTMENTS = (
    ("urban", "城管办"), ("judicial", "司法所"), ("safety", "安监办"), ("civil", "民政办"), ("market", "市场监管所"),
    ("environment", "生态环境办"), ("housing", "住建办"), ("police", "派出所"), ("health", "卫健办"),
    ("water", "水务站"), ("traffic", "交巡警中队"), ("letters", "信访办"),
)  # fmt: skip
#: Local types: code, category, deadline in wall-clock hours (the working-hour clock is not what is measured).
EVENT_TYPES = (
    ("local.pothole", "city_appearance", 32, "道路坑洼"),
    ("local.litter", "city_appearance", 24, "垃圾堆放"),
    ("local.stall", "street_order", 24, "占道经营"),
    ("local.noise", "livelihood", 48, "噪音扰民"),
    ("local.dispute", "dispute", 96, "邻里纠纷"),
    ("local.hazard", "hazard", 16, "安全隐患"),
    ("local.ad", "advertising", 48, "违规广告"),
    ("local.site", "construction", 72, "工地扬尘"),
)
#: State mix by age: (younger than N days, [(state, share), …]); older events are almost all done.
STATE_MIX = (
    (7, (("reported", 10), ("accepted", 8), ("rejected", 3), ("dispatched", 15), ("handling", 30), ("resolved", 12),
         ("closed", 15), ("evaluated", 7))),
    (30, (("reported", 1), ("accepted", 2), ("rejected", 3), ("dispatched", 5), ("handling", 12), ("resolved", 7),
          ("closed", 40), ("evaluated", 30))),
    (DAYS + 1, (("rejected", 3), ("dispatched", 1), ("handling", 2), ("resolved", 1), ("closed", 52),
                ("evaluated", 41))),
)  # fmt: skip
RATINGS = ((5, 50), (4, 30), (3, 12), (2, 5), (1, 3))
CHANNELS = (("grid", 60), ("portal", 20), ("hotline", 15), ("system", 5))
EVENT_COLUMNS = (
    "id, code, town_code, type_code, category, title, description, area_code, area_path, owner_path, address, "
    "latitude, longitude, attributes, related, channel, priority, reporter, reporter_contact, source, external_id, "
    "state, department_id, assignee, suggested_department, deadline, extension_count, pending_extension_hours, "
    "rework_count, return_count, escalation_count, urge_count, rating, version, created_at, accepted_at, "
    "dispatched_at, resolved_at, closed_at, updated_at"
)
OPEN = ("reported", "accepted", "dispatched", "handling", "resolved")
HOUR = 3600.0


def chooser(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Callable[[], Any]:
    """Draws from ``(value, weight)`` pairs by one uniform number and a bisection."""
    values = [v for v, _ in weighted]
    bounds = list(itertools.accumulate(w for _, w in weighted))
    total, rand = bounds[-1], rng.random
    return lambda: values[bisect.bisect_right(bounds, rand() * total)]


@dataclass
class Town:
    """Town A as grown for the queries, read back from the template database."""

    path: str
    places: list[tuple[str, str]]  # (code, path) of its grids and communities
    grids: list[tuple[str, str]]
    departments: dict[str, int]  # code → id


def town_rows() -> list[AreaRow]:
    known = {code for code, *_ in TREE}
    rows: list[AreaRow] = []
    for c in range(1, COMMUNITIES + 1):
        community = f"{TOWN_A[:9]}{c:03d}"
        if community not in known:
            rows.append(AreaRow(len(rows) + 1, community, f"解放碑第{c}社区", AreaLevel.community, TOWN_A))
        for g in range(1, GRIDS + 1):
            grid = f"{community}{g:03d}"
            if grid not in known:
                rows.append(AreaRow(len(rows) + 1, grid, f"解放碑第{c}社区第{g}网格", AreaLevel.grid, community))
    return rows


def build_event_template(path: Path, settings: Settings) -> Town:
    """Migrated, the sample world, town A grown, its departments and grid workers; no events yet."""
    url = f"sqlite:///{path}"
    prepare(url, settings)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            result = import_rows(session, town_rows())
            assert not result.errors, result.errors
            for code, name in DEPARTMENTS:
                session.add(Department(town_code=TOWN_A, code=code, name=name))
            for n in range(1, GRID_WORKERS + 1):
                create_user(session, username=f"gw{n:03d}", display_name=f"网格员{n:03d}")
        with Session(engine) as session:
            town = session.get(Area, TOWN_A)
            assert town is not None
            areas = session.exec(select(Area).where(col(Area.path).startswith(town.path))).all()
            departments = {d.code: d.id for d in session.exec(select(Department)).all() if d.id is not None}
    finally:
        engine.dispose()
    places = sorted((a.code, a.path) for a in areas if a.level in (AreaLevel.community, AreaLevel.grid))
    grids = [p for p in places if len(p[0]) == len(GRID_A1)]
    return Town(town.path, places, grids, departments)


def stamp(seconds: float) -> str:
    """An instant as SQLAlchemy stores a ``DateTime`` in SQLite: naive UTC, always with microseconds."""
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S.%f}"


@dataclass
class Population:
    """What the bulk load wrote, to describe the data and check the API's answers against."""

    states: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    rated: int = 0
    extended: int = 0
    load_s: float = 0.0
    index_s: float = 0.0
    recount_s: float = 0.0  # the counts by state and the assessment's tally, rebuilt from the loaded events
    db_mb: float = 0.0


def bulk_events(db: Path, town: Town, rng: random.Random, at: datetime) -> Population:
    """``EVENTS`` events over the last year, oldest first, with ``executemany`` in one transaction, the event
    table's indexes dropped first and built again afterwards from their stored SQL, as a restore would."""
    population = Population()
    end = at.timestamp()
    start = end - DAYS * 86_400
    step = (end - start) / EVENTS
    mixes = [(days * 86_400, chooser(rng, mix)) for days, mix in STATE_MIX]
    rating, channel = chooser(rng, RATINGS), chooser(rng, CHANNELS)
    departments = list(town.departments.values())
    rand, choice, randint = rng.random, rng.choice, rng.randint
    zone = timezone(timedelta(hours=8))
    counters: Counter[str] = Counter()
    titles = [
        f"{name}：{street}{n}号附近"
        for *_, name in EVENT_TYPES
        for street in ("民族路", "五一路", "八一路")
        for n in range(1, 40)
    ]

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(EVENTS):
            created = start + (i + rand()) * step
            age = end - created
            state = next(draw for limit, draw in mixes if age < limit)()
            code, category, hours, _name = choice(EVENT_TYPES)
            area_code, area_path = choice(town.places) if rand() < COMMUNITY_SHARE else choice(town.grids)
            via = channel()
            reporter = (
                f"gw{randint(1, GRID_WORKERS):03d}"
                if via == "grid"
                else {"portal": "resident", "hotline": "dispatcher"}.get(via, "12345-gateway")
            )
            day = datetime.fromtimestamp(created, zone).strftime("%Y%m%d")
            counters[day] += 1
            accepted = dispatched = resolved = closed = deadline = None
            department = rate = pending = None
            extensions = reworks = returns = 0
            last = created
            if state not in ("reported", "rejected"):
                accepted = last = min(created + rand() * 8 * HOUR, end)
            if state not in ("reported", "rejected", "accepted"):
                dispatched = last = min(last + rand() * 4 * HOUR, end)
                department = choice(departments)
                extensions = 1 if rand() < 0.08 else 0
                deadline = dispatched + (hours + 24 * extensions) * HOUR
                returns = 1 if rand() < 0.03 else 0
                if state == "handling" and rand() < 0.05:
                    pending = 24
            if state in ("resolved", "closed", "evaluated"):
                resolved = last = min(dispatched + rng.expovariate(1 / (0.6 * hours * HOUR)), end)  # type: ignore[operator]
                reworks = 1 if rand() < 0.05 else 0
            if state in ("closed", "evaluated"):
                closed = last = min(resolved + rand() * 24 * HOUR, end)  # type: ignore[operator]
            if state == "evaluated":
                rate = rating()
                population.rated += 1
            population.states[state] += 1
            population.extended += extensions
            population.overdue += state in OPEN and deadline is not None and deadline < end
            yield (
                i + 1, f"SJ-{day}-{counters[day]:04d}", TOWN_A, code, category, choice(titles), "", area_code,
                area_path, town.path, "", None, None, "{}", "[]", via, "urgent" if rand() < 0.05 else "normal",
                reporter, "", "" if via != "system" else reporter, None, state, department, None,
                "", *(stamp(t) if t is not None else None for t in (deadline,)), extensions, pending, reworks,
                returns, 0, 1 if rand() < 0.05 else 0, rate, 1 + (accepted is not None) + (dispatched is not None),
                *(stamp(t) if t is not None else None for t in (created, accepted, dispatched, resolved, closed, last)),
            )  # fmt: skip

    con = bare_connect(db)
    try:
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' AND sql IS NOT NULL"
        ).fetchall()
        started = time.perf_counter()
        with con:
            for name, _sql in indexes:
                con.execute(f'DROP INDEX "{name}"')
            con.executemany(f"INSERT INTO event ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 40)})", rows())
        population.load_s = time.perf_counter() - started
        started = time.perf_counter()
        with con:
            for _name, sql in indexes:
                con.execute(sql)
        population.index_s = time.perf_counter() - started
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    engine = make_engine(f"sqlite:///{db}")
    started = time.perf_counter()
    with transaction(engine) as session:  # the loaded events bypassed intake: recount them as the loop would
        rebuild_counts(session)
        rebuild_tally(session)
    population.recount_s = time.perf_counter() - started
    engine.dispose()
    population.db_mb = db.stat().st_size / 1e6
    return population


DONE_SQL = "state IN ('closed', 'evaluated')"
CASE_SQL = "state NOT IN ('reported', 'rejected')"
OPEN_SQL = "state IN ('reported', 'accepted', 'dispatched', 'handling', 'resolved')"
HOURS_SQL = f"sum(CASE WHEN {DONE_SQL} THEN (julianday(resolved_at) - julianday(dispatched_at)) * 24 END),\n"
#: The minimal SQL for the assessment's figures: the same conditional sums, no join, no labels.
ASSESS_SQL = f"""SELECT {{group}}, count(*), sum({CASE_SQL}), sum({DONE_SQL}),
 sum({CASE_SQL} AND ({DONE_SQL} OR deadline < :cutoff)),
 sum({CASE_SQL} AND ({DONE_SQL} OR deadline < :cutoff) AND extension_count > 0),
 sum({DONE_SQL} AND resolved_at <= deadline AND extension_count = 0), sum({DONE_SQL} AND rework_count > 0),
 sum({DONE_SQL} AND rework_count = 0 AND return_count = 0),
 {{hours}} sum(rating), count(rating)
FROM event WHERE town_code = :town AND created_at >= :start AND created_at < :end{{extra}} GROUP BY {{group}}"""
#: The minimal SQL for the dashboard's figures and lists.
DASHBOARD_SQL = (
    "SELECT channel, count(*) FROM event WHERE town_code = :town AND created_at >= :today GROUP BY channel",
    "SELECT state, count(*) FROM event WHERE town_code = :town GROUP BY state",
    f"SELECT sum(deadline < :now), sum(deadline >= :now) FROM event WHERE town_code = :town AND {OPEN_SQL} "
    "AND deadline < :warn",
    f"SELECT area_code, count(*), sum(deadline < :now) FROM event WHERE town_code = :town AND {OPEN_SQL} "
    "GROUP BY area_code ORDER BY 2 DESC LIMIT 10",
    f"SELECT department_id, count(*), sum(deadline < :now) FROM event WHERE town_code = :town AND {OPEN_SQL} "
    "GROUP BY department_id",
    *(
        f"SELECT id, code, title, area_code, state, deadline, created_at FROM event WHERE town_code = :town AND "
        f"{where} ORDER BY {order}, id LIMIT 11"
        for where, order in (
            ("state = 'reported'", "created_at"),
            ("state = 'resolved'", "resolved_at"),
            ("state IN ('dispatched', 'handling') AND pending_extension_hours IS NOT NULL", "deadline"),
            (f"{OPEN_SQL} AND deadline < :now", "deadline"),
        )
    ),
)


@dataclass
class Op:
    """One request, its bare equivalent, and the SQL the route ran (captured on the warm-up)."""

    number: int
    label: str
    path: str
    bare: list[tuple[str, dict[str, Any]]]
    series: dict[str, Series] = field(default_factory=dict)
    statements: list[tuple[str, Any]] = field(default_factory=list)
    statement_ns: list[list[int]] = field(default_factory=list)  # per captured statement, its replay times
    answer: Any = None


def query_ops(town: Town, at: datetime) -> list[Op]:
    """The dashboard, and the assessment for the last full month and the last year, by department and by grid."""
    zone = timezone(timedelta(hours=8))
    today = at.astimezone(zone).date()
    month_end = today.replace(day=1)
    month_start = (month_end - timedelta(days=1)).replace(day=1)
    year = (today - timedelta(days=DAYS), today + timedelta(days=1))
    grid_depth = len(town.grids[0][1])

    def local(day: date) -> str:
        return stamp(datetime.combine(day, datetime.min.time(), zone).timestamp())

    def assessment(number: int, by: str, start: date, end: date, what: str) -> Op:
        params = {
            "town": TOWN_A,
            "start": local(start),
            "end": local(end),
            "cutoff": stamp(min(at.timestamp(), datetime.combine(end, datetime.min.time(), zone).timestamp())),
        }
        group, extra = (
            ("department_id", " AND department_id IS NOT NULL")
            if by == "department"
            else (f"substr(area_path, 1, {grid_depth})", "")
        )
        query = f"by={by}&start={start}&end={end}" + ("&level=grid" if by == "area" else "")
        return Op(
            number,
            f"assessment, {what}, by {by if by == 'department' else 'grid'}",
            f"/api/towns/{TOWN_A}/assessment?{query}",
            [(ASSESS_SQL.format(group=group, extra=extra, hours=HOURS_SQL), params)],
        )

    dashboard = {
        "town": TOWN_A,
        "now": stamp(at.timestamp()),
        "warn": stamp(at.timestamp() + 4 * HOUR),
        "today": local(today),
    }
    return [
        Op(1, "dashboard", f"/api/towns/{TOWN_A}/dashboard", [(sql, dashboard) for sql in DASHBOARD_SQL]),
        assessment(2, "department", month_start, month_end, f"month ({month_start:%Y-%m})"),
        assessment(3, "area", month_start, month_end, f"month ({month_start:%Y-%m})"),
        assessment(4, "department", *year, f"year ({year[0]} to {year[1]})"),
        assessment(5, "area", *year, f"year ({year[0]} to {year[1]})"),
    ]


def measure_queries(console: Console, tmp: Path, settings: Settings) -> dict[str, Any]:
    db = tmp / "events.db"
    rng = random.Random(SEED)
    with console.status("Building the town…"):
        town = build_event_template(db, settings)
    at = datetime.now(UTC)
    with console.status(f"Loading {EVENTS:,} events…"):
        population = bulk_events(db, town, rng, at)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    bare = bare_connect(db, isolation_level=None)  # autocommit: it only reads, and must never hold a lock
    try:
        with console.status("Timing the dashboard and the assessment…"):
            return _queries(engine, bare, settings.model_copy(update={"database_url": url}), town, population, at)
    finally:
        bare.close()
        engine.dispose()


def _queries(
    engine: Any, bare: sqlite3.Connection, settings: Settings, town: Town, population: Population, at: datetime
) -> dict[str, Any]:
    ops = query_ops(town, at)
    checks: list[str] = []
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    clock = time.perf_counter_ns
    with TestClient(create_app(settings, engine)) as client:
        answer = client.post("/api/auth/token", data={"username": "town_admin", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        for op in ops:  # the warm-up: every answer checked, the route's statements captured
            captured.clear()
            event.listen(engine, "before_cursor_execute", capture)
            try:
                answer = client.get(op.path)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            if answer.status_code != 200:
                raise RuntimeError(f"{op.path} answered {answer.status_code}: {answer.text[:500]}")
            op.answer = answer.json()
            op.statements = list(captured)
            op.statement_ns = [[] for _ in captured]
            for statement, params in (*op.statements, *op.bare):
                bare.execute(statement, params).fetchall()
            op.series = {
                "A": Series(f"A{op.number}", f"{op.label} (API)", f"`GET {op.path}`"),
                "R": Series(f"R{op.number}", f"{op.label}: the route's SQL", "its statements replayed, bare"),
                "S": Series(f"S{op.number}", f"{op.label}: minimal SQL", "the minimal equivalent, bare"),
            }
        check_answers(ops, population, checks)

        def step(op: Op, key: str) -> Callable[[int], None]:
            def api(_round: int) -> None:
                start = clock()
                answer = client.get(op.path)
                op.series["A"].add_round([clock() - start])
                if answer.status_code != 200:
                    checks.append(f"{op.path} answered {answer.status_code}")

            def replay(_round: int) -> None:
                total = 0
                for times, (statement, params) in zip(op.statement_ns, op.statements, strict=True):
                    start = clock()
                    bare.execute(statement, params).fetchall()
                    took = clock() - start
                    times.append(took)
                    total += took
                op.series["R"].add_round([total])

            def minimal(_round: int) -> None:
                start = clock()
                for statement, params in op.bare:
                    bare.execute(statement, params).fetchall()
                op.series["S"].add_round([clock() - start])

            return {"A": api, "R": replay, "S": minimal}[key]

        started = time.perf_counter()
        interleave(QUERY_ROUNDS, [step(op, key) for op in ops for key in ("A", "R", "S")])
        elapsed = time.perf_counter() - started
    whatifs = what_if(bare, ops)
    plans = {
        op.number: [
            (statement, statistics.median(times), query_plan(bare, statement, params))
            for (statement, params), times in zip(op.statements, op.statement_ns, strict=True)
        ]
        for op in ops
    }
    return {
        "ops": ops,
        "population": population,
        "checks": checks,
        "elapsed_s": elapsed,
        "plans": plans,
        "whatifs": whatifs,
    }


#: Indexes that let the dashboard's open-event counts be answered from the index alone (no row visited).
DASHBOARD_INDEXES = (
    ("department_open", "department_id, state, deadline"),
    ("area_open", "town_code, state, area_code, deadline"),
)
#: Every column the assessment reads, after the two it filters on: the query then never visits the table.
COVERING = (
    "town_code, created_at, department_id, state, deadline, extension_count, rework_count, return_count, rating, "
    "resolved_at, dispatched_at"
)


def what_if(bare: sqlite3.Connection, ops: list[Op]) -> list[tuple[str, float, float]]:
    """After the timed rounds, bare: how much an index or another query shape would save (median of 3, ms).

    Every statement of the dashboard, replayed, with indexes that cover its counts of open events by
    department and by area (today each visits the rows of every open event for its ``deadline`` or
    ``area_code``); the year's assessment without ``julianday`` (what storing the handling time on the row
    as a number would save); the same with a covering index. Each index is dropped again afterwards.
    """

    def median_ms(statements: list[tuple[str, Any]]) -> float:
        runs = []
        for _ in range(3):
            start = time.perf_counter_ns()
            for sql, params in statements:
                bare.execute(sql, params).fetchall()
            runs.append(time.perf_counter_ns() - start)
        return statistics.median(runs) / 1e6

    def with_indexes(indexes: tuple[tuple[str, str], ...], statements: list[tuple[str, Any]]) -> float:
        for name, columns in indexes:
            bare.execute(f"CREATE INDEX ix_whatif_{name} ON event ({columns})")
        try:
            return median_ms(statements)
        finally:
            for name, _columns in indexes:
                bare.execute(f"DROP INDEX ix_whatif_{name}")

    year = ops[3].bare
    no_julianday = [(sql.replace(HOURS_SQL, ""), params) for sql, params in year]
    year_ms = median_ms(year)
    indexes = " and ".join(f"`({columns})`" for _name, columns in DASHBOARD_INDEXES)
    return [
        (
            f"dashboard, every statement the route ran, with indexes on {indexes}",
            median_ms(ops[0].statements),
            with_indexes(DASHBOARD_INDEXES, ops[0].statements),
        ),
        ("year by department, minimal SQL, without the `julianday` sum", year_ms, median_ms(no_julianday)),
        (
            f"year by department, minimal SQL, with a covering index on `({COVERING})`",
            year_ms,
            with_indexes((("covering", COVERING),), year),
        ),
    ]


def check_answers(ops: list[Op], population: Population, checks: list[str]) -> None:
    """The dashboard's counts by state are the loaded ones; the year by grid counts every event once."""
    states = ops[0].answer["states"]
    if states != {state: population.states.get(state, 0) for state in states}:
        checks.append(f"dashboard states {states} are not the loaded {dict(population.states)}")
    year_rows = ops[4].answer["rows"]
    if sum(row["reported"] for row in year_rows) != EVENTS:
        checks.append(f"the year by grid counts {sum(r['reported'] for r in year_rows):,} events, not {EVENTS:,}")


# ---------------------------------------------------------------------------------------------- report


def run(console: Console) -> Report:
    host_facts = machine()
    host_facts["FastAPI"] = package_version("fastapi")
    host_facts["uvicorn"] = package_version("uvicorn")
    host_facts["psycopg"] = package_version("psycopg")
    host_facts["PostgreSQL"] = subprocess.run(
        [*PG_ADMIN, "-At", "-c", "SHOW server_version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    settings = Settings(environment="development")
    setup: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="jiceng-bench-events-") as name:
        start = time.perf_counter()
        intakes = run_intake(console, Path(name), settings)
        setup["intake, set-up included"] = time.perf_counter() - start
        start = time.perf_counter()
        queried = measure_queries(console, Path(name), settings)
        setup["dashboard and assessment, data included"] = time.perf_counter() - start
    verdicts = {i.kind: i.ratio() >= INTAKE_TARGET for i in intakes}
    query_ok = {op.number: op.series["A"].median_us / 1000 <= QUERY_TARGET_MS for op in queried["ops"]}
    checks = [f"{i.kind}: {c}" for i in intakes for c in i.checks] + queried["checks"]
    passed = all(verdicts.values()) and all(query_ok.values()) and not checks and EVENTS >= TARGET_EVENTS
    notes = [
        *(
            f"Intake on {i.kind}: J {i.rate('J'):,.0f} req/s, B {i.rate('B'):,.0f} req/s, P {i.rate('P'):,.0f} req/s; "
            f"J / B {i.ratio():.0%} (target ≥ {INTAKE_TARGET:.0%}: {'met' if verdicts[i.kind] else 'MISSED'}); "
            f"server CPU per answer J {cpu_ms(i, 'J'):.2f} ms, B {cpu_ms(i, 'B'):.2f} ms; "
            f"errors J {i.total('J', 'errors')}, B {i.total('B', 'errors')}, P {i.total('P', 'errors')}"
            for i in intakes
        ),
        *(
            f"{op.label}: {op.series['A'].median_us / 1000:,.0f} ms (target ≤ {QUERY_TARGET_MS:.0f} ms: "
            f"{'met' if query_ok[op.number] else 'MISSED'}); minimal SQL {op.series['S'].median_us / 1000:,.0f} ms"
            for op in queried["ops"]
        ),
        *[f"[red]CHECK FAILED[/red] {c}" for c in checks],
    ]
    series = [s for i in intakes for s in i.series.values()] + [s for op in queried["ops"] for s in op.series.values()]
    markdown = _markdown(intakes, queried, verdicts, query_ok, checks, setup, host_facts, passed)
    return Report(NAME, TITLE, series, notes, markdown, passed)


def cpu_ms(intake: Intake, key: str) -> float:
    """The server's CPU time per 201 answer over the timed rounds: what one worker can serve at most, inverted."""
    bursts = intake.bursts[key]
    return 1000 * sum(b.server_cpu_s for b in bursts) / max(1, sum(b.ok for b in bursts))


def busy(intake: Intake, key: str) -> float:
    """The share of one core the server used during the timed bursts."""
    bursts = intake.bursts[key]
    return sum(b.server_cpu_s for b in bursts) / sum(b.seconds for b in bursts)


def machine_ms(intake: Intake, key: str) -> float:
    """The whole machine's CPU per answer 201 during the timed bursts (server, client, database and the rest)."""
    bursts = intake.bursts[key]
    return 1000 * sum(b.machine_cpu_s for b in bursts) / max(1, sum(b.ok for b in bursts))


def client_us(intake: Intake, key: str) -> float:
    bursts = intake.bursts[key]
    return 1e6 * sum(b.client_cpu_s for b in bursts) / max(1, sum(sum(b.statuses.values()) for b in bursts))


def _intake_lines(intakes: list[Intake], verdicts: dict[str, bool]) -> list[str]:
    rows = []
    for i in intakes:
        for key, s in i.series.items():
            rates = ", ".join(f"{r:,.0f}" for r in i.rates(key))
            rows.append(
                f"| {i.kind} | {s.key}. {s.label} | **{i.rate(key):,.0f}** | {rates} | {s.median_us / 1000:,.1f} | "
                f"{s.p95_us / 1000:,.1f} | {cpu_ms(i, key):.2f} | {client_us(i, key):.0f} | "
                f"{i.total(key, 'ok'):,} | {i.total(key, 'errors')} |"
            )
    first = intakes[0]
    listing = [f"{n}. `{short_sql(sql)}`" for n, sql in enumerate(first.statements.get("J", []), 1)]
    return [
        "### Intake",
        "",
        "| Database | Series | req/s, median of rounds | req/s per round | Median latency ms | p95 ms | "
        "Server CPU ms per answer | Client CPU µs per request | Answers 201 | Errors |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|",
        *rows,
        "",
        *(
            f"- {i.kind}: J ÷ B **{i.ratio():.0%}** (median of per-round ratios; target ≥ {INTAKE_TARGET:.0%}: "
            f"{'met' if verdicts[i.kind] else '**missed**'}); P ÷ B ×{i.rate('P') / i.rate('B'):.1f}."
            for i in intakes
        ),
        "",
        f"Errors count every answer other than 201, every connection failure and every request not answered within {REQUEST_TIMEOUT_S:.0f} s (its connection is then dropped), warm-up included.",
        "",
        "**Where the time goes.** The worker is bound by its CPU: its CPU time (from `/proc/PID/stat` around each "
        "burst) over the burst's wall time was "
        + "; ".join(
            f"{i.kind} J {busy(i, 'J'):.0%}, B {busy(i, 'B'):.0%}, P {busy(i, 'P'):.0%} of a core" for i in intakes
        )
        + " (the rest of the two cores went to the client, the database and whatever else ran on the machine). "
        "So J ÷ B follows the CPU per answer, B's ÷ J's. One report through jiceng runs "
        f"{len(first.statements.get('J', []))} SQL statements where the bare endpoint runs "
        f"{len(first.statements.get('B', []))} (captured in this process after the rounds, "
        f"on {first.kind}):",
        "",
        *listing,
        "",
        "In order: the bearer token; both change logs a request checks (grants and scenario switches) in one "
        "statement; the area and its town in one; the dispatch rules; then the writes, every statement built once "
        "and run below the ORM: the day's code counter, the event, the audit head, and, sent together (one round "
        "trip on PostgreSQL, psycopg's pipeline mode), the audit entry and head, the assessment's tally, the counts "
        "by state and the timeline step. The town's scenarios are asked for the department (`route_event`) before "
        "the writes, so the proposal is stored with the event, and told of it (`event_changed`) after the commit "
        "with the context the report was checked in. The route makes one trip to the thread pool, the caller "
        "included, and encodes its answer there.",
        "",
        "The machine's CPU per answer (every process, from `/proc/stat`) was "
        + "; ".join(f"{i.kind} J {machine_ms(i, 'J'):.1f} ms, B {machine_ms(i, 'B'):.1f} ms" for i in intakes)
        + ". On PostgreSQL each statement is also a round trip and work for the database on the same two cores, "
        "so there J ÷ B follows the machine's CPU per answer more than the worker's.",
        "",
    ]


def _query_lines(queried: dict[str, Any], query_ok: dict[int, bool]) -> list[str]:
    ops: list[Op] = queried["ops"]
    population: Population = queried["population"]
    rows = [
        f"| {s.key}. {s.label} | {s.median_us / 1000:,.1f} | {s.p95_us / 1000:,.1f} | {s.count} |"
        for op in ops
        for s in op.series.values()
    ]
    diagnosis: list[str] = []
    for op in ops:
        statements = queried["plans"][op.number]
        costly = max(statements, key=lambda st: st[1])
        diagnosis += [
            f"**{op.label}** (A{op.number} {op.series['A'].median_us / 1000:,.0f} ms, target "
            f"{'met' if query_ok[op.number] else 'missed'}): {len(statements)} statements, "
            f"{sum(st[1] for st in statements) / 1e6:,.0f} ms replayed; the costliest are",
            "",
            "| Statement (column lists folded) | Median ms |",
            "|---|--:|",
            *(
                f"| `{short_sql(sql)[:240]}` | {ns / 1e6:,.1f} |"
                for sql, ns, _plan in sorted(statements, key=lambda st: -st[1])
                if ns >= 1e6
            ),
            "",
            "Plan of the costliest:",
            "",
            "```",
            *costly[2],
            "```",
            "",
        ]
    states = ", ".join(f"{state} {count:,}" for state, count in population.states.most_common())
    return [
        "### Dashboard and assessment",
        "",
        "| Series | Median ms | p95 ms | Requests |",
        "|---|--:|--:|--:|",
        *rows,
        "",
        "Ratios to the minimal SQL, median over rounds of the per-round ratio: "
        + "; ".join(f"A{op.number} ÷ S{op.number} ×{round_ratio(op.series['A'], op.series['S']):.1f}" for op in ops)
        + ".",
        "",
        "A is the API as `town_admin` (through FastAPI's `TestClient` in this process, bearer token); R replays "
        "through a bare `sqlite3` connection every statement the route ran (captured from the engine on the "
        "warm-up request: the caller, the grants, the town, then the figures); S is the baseline, the minimal SQL "
        "for the same figures through the same bare connection: for the dashboard the same nine aggregates and "
        "lists written by hand, for the assessment one `GROUP BY` (department id, or the grid's prefix of "
        "`area_path`) with the same conditional sums, no join and no labels:",
        "",
        "```sql",
        ASSESS_SQL.format(group="department_id", extra=" AND department_id IS NOT NULL", hours=HOURS_SQL),
        "```",
        "",
        "#### Where the time goes",
        "",
        *diagnosis,
        "What would help, measured bare after the timed rounds on the same data (median of 3 runs):",
        "",
        "| What if | Before ms | After ms |",
        "|---|--:|--:|",
        *(f"| {what} | {before:,.1f} | {after:,.1f} |" for what, before, after in queried["whatifs"]),
        "",
        f"**Data**: {EVENTS:,} events in town A (`{TOWN_A}`) of the sample world, grown to {COMMUNITIES} "
        f"communities of {GRIDS} grids, reported over the last {DAYS} days (ids follow the time), "
        f"{1 - COMMUNITY_SHARE:.0%} at a grid and the rest at a community, {len(EVENT_TYPES)} local types with "
        f"deadlines of 16–96 h, {len(DEPARTMENTS)} departments, {GRID_WORKERS} grid workers; states by age "
        f"(older than 30 days almost all closed or evaluated, the last week mostly open): {states}; "
        f"{population.overdue:,} open and past their deadline at load time, {population.extended:,} extended, "
        f"{population.rated:,} rated; about 8 % extended, 5 % reworked, 3 % returned. Loaded with `sqlite3` "
        f"`executemany` in one transaction into the table as Alembic migrates it, its indexes dropped first and "
        f"built again from their stored SQL ({population.load_s:,.0f} s + {population.index_s:,.0f} s; "
        f"{population.db_mb:,.0f} MB), then the counts by state and the assessment's tally rebuilt from them as "
        f"`jiceng events recount` does ({population.recount_s:,.0f} s); no `event_action` rows (neither route "
        "reads them); no `ANALYZE`. "
        f"Seeded RNG ({SEED}).",
        "",
        f"**Method**: the app built by `create_app(settings, engine)` in this process; one warm-up request per "
        f"series, every answer checked on it (the dashboard's counts by state are the loaded ones, the year by "
        f"grid counts every event once); then {QUERY_ROUNDS} rounds of A R S for each request in turn, the order "
        "rotating each round, each timed alone with `time.perf_counter_ns`, garbage collection paused inside each "
        f"step. Timed rounds took {queried['elapsed_s']:,.0f} s.",
        "",
    ]


def _markdown(
    intakes: list[Intake],
    queried: dict[str, Any],
    verdicts: dict[str, bool],
    query_ok: dict[int, bool],
    checks: list[str],
    setup: dict[str, float],
    host: dict[str, str],
    passed: bool,
) -> str:
    first = intakes[0]
    config = JICENG_TOML.format(
        url="sqlite:///$TMP/intake-jiceng.db",
        town=TOWN_A,
        scenarios=", ".join(f'"{sid}"' for sid in first.enabled),
        type=LOCAL_TYPE,
        department=DEPARTMENT,
    )
    python = python_command()
    intake_verdicts = "; ".join(
        f"{i.kind} **{'Met' if verdicts[i.kind] else 'Missed'}**, {i.ratio():.0%} ({i.rate('J'):,.0f} against "
        f"{i.rate('B'):,.0f} req/s)"
        for i in intakes
    )
    query_verdicts = "; ".join(
        f"{op.label} **{'Met' if query_ok[op.number] else 'Missed'}**, {op.series['A'].median_us / 1000:,.0f} ms"
        for op in queried["ops"]
    )
    lines = [
        f"## {TITLE}",
        "",
        f"Measured {now()} with `make bench` (this section alone: `.venv/bin/python -m bench {NAME}`).",
        "",
        "**Targets** (issue 5):",
        "",
        f"- event intake through the full stack on one worker reaches ≥ {INTAKE_TARGET:.0%} of the throughput of a "
        f"bare FastAPI + SQLModel endpoint inserting the same row, measured in the same run: {intake_verdicts};",
        f"- the dashboard and the assessment of a town with {TARGET_EVENTS:,} events answer in "
        f"≤ {QUERY_TARGET_MS:.0f} ms (median): {query_verdicts}"
        + (f". **Measured with {EVENTS:,} events, not {TARGET_EVENTS:,}.**" if EVENTS < TARGET_EVENTS else "."),
        "",
        *_intake_lines(intakes, verdicts),
        "**Baseline**: B, `bench.events:bare_app`: FastAPI with one sync `POST /api/events` taking the same JSON "
        "body as a plain pydantic model and inserting the row jiceng writes for it (same values, same `event` "
        "table, same indexes and foreign keys, in a database migrated by Alembic like jiceng's, with jiceng's "
        "`make_engine`, so the same WAL pragmas on SQLite and the same pool on PostgreSQL) with a SQLModel "
        "`Session`, committing, and returning the row; nothing else. P is the same app's `async` "
        "`POST /api/echo`, validating the body and returning it: the ceiling of one worker with this client, "
        "far above J and B, so the client is not what limits them (its own CPU per request is in the table).",
        "",
        f"**Data**: the sample world (`jiceng.core.sample_world.make_world`) in a database migrated by Alembic; "
        f"the department `{DEPARTMENT}` made through the API by `town_admin`; {ENABLED} of the {SCENARIOS} "
        "scenarios `bench/plugins.py` generates installed for real (a temporary `site` folder with their "
        "`.dist-info`, on `PYTHONPATH`) and enabled in the town by `[towns]`, each with `route_event` and "
        f"`event_changed` hooks; `{LOCAL_TYPE}`, a local public type with a choice field, from `[[events.types]]`. "
        f"Every request is the same report by `grid_worker` (bearer token from `POST /api/auth/token`) at grid "
        f"`{GRID_A1}`: `{json.dumps(REPORT, ensure_ascii=False)}`; jiceng answers 201 with the department "
        f"`{DEPARTMENT}` proposed (checked), and afterwards the tables hold exactly one event, one timeline step "
        "and one audit entry per 201, the audit chain intact"
        + ("" if not checks else "; **checks failed: " + "; ".join(checks) + "**")
        + ". PostgreSQL: two fresh databases made with `psql` on 127.0.0.1:5432 and dropped afterwards.",
        "",
        "The settings (`$TMP/jiceng-sqlite.toml`; for PostgreSQL the URL is "
        f"`{PG_URL.format(name='jiceng_bench_events_PID_jiceng')}`):",
        "",
        "```toml",
        config.rstrip(),
        "```",
        "",
        f"**Method**: two server processes per database kind, started alike in `$REPO` and left running for all "
        f"rounds; then {INTAKE_ROUNDS} rounds of J, B and P ({ROUND_S:.0f} s each for J and B, "
        f"{ROUND_S / 2:.1f} s for P), the order rotating each round, after an untimed {WARMUP_S:.1f} s burst of "
        f"each. The load comes from this process: {CONNECTIONS} keep-alive HTTP/1.1 connections on asyncio "
        "(`bench.events.burst`), each sending the next request when its answer is in; the rate is 201 answers "
        "over the time from the first request to the last answer. The commands:",
        "",
        "```sh",
        "env JICENG_CONFIG=$TMP/jiceng-sqlite.toml PYTHONPATH=$TMP/site:$REPO \\",
        f"    {python} {' '.join(uvicorn_command('jiceng.core.web.server:build', 0)[1:]).replace('--port 0', '--port $PORT')}",
        "env BENCH_EVENTS_BARE_URL=sqlite:///$TMP/intake-bare.db PYTHONPATH=$TMP/site:$REPO \\",
        f"    {python} {' '.join(uvicorn_command('bench.events:bare_app', 0)[1:]).replace('--port 0', '--port $PORT')}",
        "```",
        "",
        f"Timed rounds took {', '.join(f'{i.elapsed_s:,.0f} s on {i.kind}' for i in intakes)}.",
        "",
        *_query_lines(queried, query_ok),
        f"Setup: {setup_text(setup, 0)}.",
        "",
        *machine_lines(host),
    ]
    if not passed:
        lines += [
            "",
            "**This run missed a target"
            + (" or failed a check" if checks else "")
            + (f", or measured fewer than {TARGET_EVENTS:,} events" if EVENTS < TARGET_EVENTS else "")
            + ".**",
        ]
    return "\n".join(lines)
