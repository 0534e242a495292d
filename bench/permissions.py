"""Permission check at scale (issue 2): jiceng's compiled checker beside a plain Casbin ``Enforcer``.

The target: with 20,000 users holding roles across 5,000 communities, a check
takes at most 50 µs (median) on this machine. The baseline is
:func:`jiceng.core.permissions.store.build_enforcer`, a plain ``casbin.Enforcer``
over the very same ``casbin_rule`` rows, model and domain-matching function,
i.e. what we would run without the compiled checker. Both answer the same
random (user, permission, area path) triples, interleaved round by round, and
their answers are compared on every triple the Enforcer saw.

Series:

* **A** - ``authorizer.grants(session, user).allows(perm, path)`` with every user
  compiled (``refresh`` + ``preload``): the steady state of a web worker.
* **B** - the same with that user's compiled grants dropped first, so it includes
  the one-user query and the compile: the first request after a grant changes.
* **C** - ``enforcer.enforce(user, path, perm)`` the first time the Enforcer sees that
  area (it builds and keeps a role manager per request domain by scanning every
  domain it knows).
* **C′** - the same call repeated at once: the Enforcer's best case, that area's role
  manager already built.
* **R** - ``authorizer.refresh(session)`` when nothing changed: not a check, but what
  every request pays before its checks (``core/web/deps.py``), shown for scale.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, Table, func, insert, select
from sqlmodel import Session, SQLModel

import jiceng.core.models  # noqa: F401  (registers every table in the metadata)
from jiceng.core import migrate
from jiceng.core.config import Settings
from jiceng.core.db import make_engine, transaction
from jiceng.core.permissions.catalog import CORE_PERMISSIONS
from jiceng.core.permissions.checker import Authorizer
from jiceng.core.permissions.service import sync_roles
from jiceng.core.permissions.store import build_enforcer

from .common import (
    Report,
    Series,
    fmt_us,
    interleave,
    machine,
    machine_lines,
    now,
    package_version,
    round_ratio,
    setup_text,
    timer_overhead_ns,
)

NAME = "permissions"
TITLE = "Permission check"
TARGET_US = 50.0

# The data: sizes from issue 2; codes follow core/area_import.py's shape rules.
CITY = "500000000000"
DISTRICTS = 5
TOWNS_PER_DISTRICT = 20
COMMUNITIES_PER_TOWN = 50  # 5 × 20 × 50 = 5,000 communities
GRIDS_PER_COMMUNITY = 3
USERS = 20_000
SECOND_ROLE_SHARE = 0.3  # this share of users hold a second role elsewhere
SEED = 20_002

# Held at a town, at a community, or (handler) either; weights give a grid-heavy mix like a real town.
ROLE_WEIGHTS = {"grid_worker": 10, "handler": 4, "dispatcher": 2, "town_admin": 1, "leader": 1}
TOWN_ROLES = frozenset({"dispatcher", "town_admin", "leader"})
# Every core permission, read from the catalogue so new ones join in; areas:read (held by all staff) and
# users:read are the common checks, and some (pii:view) no role here holds, so answers mix.
PERM_WEIGHTS = {perm: {"areas:read": 4, "users:read": 2}.get(perm, 1) for perm in CORE_PERMISSIONS}
LOCAL_SHARE = 0.5  # half the triples target an area under one of the user's grants, half anywhere

# Sample sizes: 20 rounds keep each round to a few seconds, finer than the machine's swings.
ROUNDS = 20
WARM_PER_ROUND = 5_000
COLD_PER_ROUND = 250
CASBIN_PER_ROUND = 10  # 200 in all: a first check costs the Enforcer milliseconds
REFRESH_PER_ROUND = 250

Triple = tuple[str, str, str]  # (username, permission, area path)


@dataclass
class World:
    """The generated data, kept in memory to draw triples from without asking the database."""

    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # level → area rows, parents first
    paths: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    towns: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    grants: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # username → [(role, area code)]

    @property
    def area_count(self) -> int:
        return len(self.paths)

    @property
    def grant_count(self) -> int:
        return sum(len(g) for g in self.grants.values())


def build_world(rng: random.Random) -> World:
    """The area tree and everyone's grants, generated in memory (a second or so)."""
    world = World()

    def add(code: str, name: str, level: str, parent: str | None) -> None:
        path = f"{world.paths[parent] if parent else '/'}{code}/"
        world.paths[code] = path
        world.rows.setdefault(level, []).append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent,
                "path": path,
                "depth": path.count("/") - 2,
            }
        )
        if parent:
            world.children.setdefault(parent, []).append(code)

    add(CITY, "基准市", "city", None)
    for d in range(1, DISTRICTS + 1):
        district = f"{CITY[:4]}{d:02d}000000"
        add(district, f"第{d}区", "district", CITY)
        for t in range(1, TOWNS_PER_DISTRICT + 1):
            town = f"{district[:6]}{t:03d}000"
            add(town, f"第{d}区第{t}街道", "town", district)
            world.towns.append(town)
            for c in range(1, COMMUNITIES_PER_TOWN + 1):
                community = f"{town[:9]}{c:03d}"
                add(community, f"{town}第{c}社区", "community", town)
                world.communities.append(community)
                for g in range(1, GRIDS_PER_COMMUNITY + 1):
                    grid = f"{community}{g:03d}"
                    add(grid, f"{community}第{g}网格", "grid", community)
                    world.grids.append(grid)

    # Every community gets at least one grid worker, then roles are drawn by weight.
    roles, weights = list(ROLE_WEIGHTS), list(ROLE_WEIGHTS.values())

    def draw_grant() -> tuple[str, str]:
        role = rng.choices(roles, weights)[0]
        at_town = role in TOWN_ROLES or (role == "handler" and rng.random() < 0.5)
        return role, rng.choice(world.towns) if at_town else rng.choice(world.communities)

    covered = rng.sample(world.communities, len(world.communities))
    for index in range(USERS):
        held = [("grid_worker", covered[index])] if index < len(covered) else [draw_grant()]
        if rng.random() < SECOND_ROLE_SHARE:
            extra = draw_grant()
            if extra not in held:
                held.append(extra)
        world.grants[f"u{index + 1:05d}"] = held
    return world


def populate(engine: Engine, world: World) -> None:
    """Bulk-insert the tree and the ``g`` rows with Core ``executemany``: seconds, not minutes of ORM objects."""
    area: Table = SQLModel.metadata.tables["area"]
    rule: Table = SQLModel.metadata.tables["casbin_rule"]
    with engine.begin() as conn:
        for level in ("city", "district", "town", "community", "grid"):  # parents first: foreign keys are on
            conn.execute(insert(area), world.rows[level])
        conn.execute(
            insert(rule),
            [
                {"ptype": "g", "v0": user, "v1": role, "v2": code}
                for user, held in world.grants.items()
                for role, code in held
            ],
        )
    with transaction(engine) as session:
        sync_roles(session, Settings(environment="development"))


def draw_triples(rng: random.Random, world: World, count: int) -> list[Triple]:
    """Random checks at community or grid level: half near one of the user's grants (mostly allowed), half anywhere."""
    users = list(world.grants)
    town_set = set(world.towns)
    perms, weights = list(PERM_WEIGHTS), list(PERM_WEIGHTS.values())
    triples: list[Triple] = []
    for _ in range(count):
        user = rng.choice(users)
        perm = rng.choices(perms, weights)[0]
        if rng.random() < LOCAL_SHARE:
            code = rng.choice(world.grants[user])[1]
            if code in town_set:
                code = rng.choice(world.children[code])
        else:
            code = rng.choice(world.communities)
        if rng.random() < 2 / 3:  # most records (houses, people) sit in a grid
            code = rng.choice(world.children[code])
        triples.append((user, perm, world.paths[code]))
    return triples


@dataclass
class Answers:
    """What each series answered, to show the mix of allowed and denied and to hold A to Casbin."""

    allowed: dict[str, int] = field(default_factory=dict)
    denied: dict[str, int] = field(default_factory=dict)
    agree: int = 0
    disagree: list[tuple[Triple, bool, bool]] = field(default_factory=list)

    def count(self, key: str, answers: list[bool]) -> None:
        yes = sum(answers)
        self.allowed[key] = self.allowed.get(key, 0) + yes
        self.denied[key] = self.denied.get(key, 0) + len(answers) - yes


def run(console: Console) -> Report:
    """Build the data, time the four series in interleaved rounds, and write up the result."""
    rng = random.Random(SEED)
    setup: dict[str, float] = {}
    host = machine()  # now, so the load average is the one the run started under
    with tempfile.TemporaryDirectory(prefix="jiceng-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with console.status("Building 20,000 users across 5,000 communities…"):
            start = time.perf_counter()
            world = build_world(rng)
            migrate.upgrade(url)
            engine = make_engine(url)
            populate(engine, world)
            setup["build the database"] = time.perf_counter() - start
        try:
            with console.status("Loading the checker and the plain Enforcer…"):
                return _measure(console, engine, world, rng, setup, host)
        finally:
            engine.dispose()


def _measure(
    console: Console, engine: Engine, world: World, rng: random.Random, setup: dict[str, float], host: dict[str, str]
) -> Report:
    rule: Table = SQLModel.metadata.tables["casbin_rule"]
    with Session(engine) as session:
        rule_rows = session.execute(select(func.count()).select_from(rule)).scalar_one()
        p_rows = session.execute(select(func.count()).select_from(rule).where(rule.c.ptype == "p")).scalar_one()

        start = time.perf_counter()
        authorizer = Authorizer()
        authorizer.refresh(session)
        authorizer.preload(session)
        setup["jiceng: refresh + preload (compile every user)"] = time.perf_counter() - start
        assert len(authorizer._cache) == USERS, "preload did not compile every user"

        start = time.perf_counter()
        enforcer = build_enforcer(engine)
        setup["plain Enforcer: load the policy"] = time.perf_counter() - start

        warm = Series(
            "A", "jiceng, compiled (warm)", "`authorizer.grants(s, user).allows(perm, path)`, all users compiled"
        )
        cold = Series(
            "B", "jiceng, user not cached (cold)", "same, after `authorizer._cache.pop(user)`: one-user query + compile"
        )
        plain = Series(
            "C", "plain Enforcer, first check at the area", "`enforcer.enforce(user, path, perm)`, area not seen before"
        )
        plain_repeat = Series(
            "C′", "plain Enforcer, repeated check", "the same call again at once: its per-area role manager built"
        )
        per_request = Series(
            "R", "refresh, nothing changed (per request)", "`authorizer.refresh(s)`: one `max(id)` query; not a check"
        )
        answers = Answers()
        seen_paths: set[str] = set()
        clock = time.perf_counter_ns

        def step_warm(_round: int) -> None:
            triples = draw_triples(rng, world, WARM_PER_ROUND)
            grants_of = authorizer.grants
            samples, results = [], []
            for user, perm, path in triples:
                t0 = clock()
                allowed = grants_of(session, user).allows(perm, path)
                t1 = clock()
                samples.append(t1 - t0)
                results.append(allowed)
            warm.add_round(samples)
            answers.count("A", results)

        def step_cold(_round: int) -> None:
            triples = draw_triples(rng, world, COLD_PER_ROUND)
            grants_of, cache = authorizer.grants, authorizer._cache
            samples, results = [], []
            for user, perm, path in triples:
                cache.pop(user, None)
                t0 = clock()
                allowed = grants_of(session, user).allows(perm, path)
                t1 = clock()
                samples.append(t1 - t0)
                results.append(allowed)
            cold.add_round(samples)
            answers.count("B", results)

        def step_plain(_round: int) -> None:
            triples = [t for t in draw_triples(rng, world, CASBIN_PER_ROUND * 4) if t[2] not in seen_paths]
            first, again, results = [], [], []
            for user, perm, path in triples[:CASBIN_PER_ROUND]:
                seen_paths.add(path)
                t0 = clock()
                allowed = enforcer.enforce(user, path, perm)
                t1 = clock()
                repeated = enforcer.enforce(user, path, perm)
                t2 = clock()
                first.append(t1 - t0)
                again.append(t2 - t1)
                results.append(allowed)
                ours = authorizer.grants(session, user).allows(perm, path)  # untimed: A's answer on this triple
                if ours == allowed == repeated:
                    answers.agree += 1
                else:
                    answers.disagree.append(((user, perm, path), ours, allowed))
            plain.add_round(first)
            plain_repeat.add_round(again)
            answers.count("C", results)

        def step_refresh(_round: int) -> None:
            refresh = authorizer.refresh
            samples = []
            for _ in range(REFRESH_PER_ROUND):
                t0 = clock()
                refresh(session)
                t1 = clock()
                samples.append(t1 - t0)
            per_request.add_round(samples)

        steps: list[Callable[[int], None]] = [step_warm, step_cold, step_plain, step_refresh]
        overhead = timer_overhead_ns()
        started = time.perf_counter()
        interleave(ROUNDS, steps)
        elapsed = time.perf_counter() - started

    series = [warm, cold, plain, plain_repeat, per_request]
    passed = warm.median_us <= TARGET_US and not answers.disagree
    facts = {
        "areas": world.area_count,
        "towns": len(world.towns),
        "communities": len(world.communities),
        "grids": len(world.grids),
        "rule_rows": rule_rows,
        "p_rows": p_rows,
        "grant_rows": world.grant_count,
        "distinct_domains": len({code for held in world.grants.values() for _, code in held}),
        "overhead_ns": overhead,
        "elapsed_s": elapsed,
        "casbin_domains_cached": len(getattr(enforcer.get_role_manager(), "rm_map", {})),
    }
    markdown = _markdown(series, answers, setup, facts, passed, host)
    notes = [
        f"Target A median ≤ {TARGET_US:.0f} µs: {'met' if warm.median_us <= TARGET_US else 'MISSED'} "
        f"({fmt_us(warm.median_us)} µs).",
        f"Plain Enforcer / jiceng (median of per-round ratios): first check ×{round_ratio(plain, warm):,.0f}, "
        f"repeated ×{round_ratio(plain_repeat, warm):,.0f}; cold jiceng / plain first check: "
        f"{round_ratio(cold, plain):.2f}; per-request refresh / A: ×{round_ratio(per_request, warm):,.0f}.",
        f"A agrees with Casbin on {answers.agree} of {answers.agree + len(answers.disagree)} triples "
        f"({answers.allowed.get('C', 0)} allowed, {answers.denied.get('C', 0)} denied).",
        f"A answered {answers.allowed.get('A', 0):,} allowed / {answers.denied.get('A', 0):,} denied; "
        f"timer overhead {overhead:.0f} ns per call (included); timed rounds {elapsed:.1f} s.",
        *[f"Setup: {what} {secs:.1f} s." for what, secs in setup.items()],
    ]
    for triple, ours, theirs in answers.disagree[:5]:
        notes.append(f"[red]DISAGREE[/red] {triple}: jiceng {ours}, Casbin {theirs}")
    return Report(NAME, TITLE, series, notes, markdown, passed)


def _markdown(
    series: list[Series],
    answers: Answers,
    setup: dict[str, float],
    facts: dict[str, float],
    passed: bool,
    host: dict[str, str],
) -> str:
    """The ``docs/performance.md`` section: figures, verdict, baseline, command, machine."""
    warm, cold, plain, plain_repeat, per_request = series
    checked = answers.agree + len(answers.disagree)
    lines = [
        f"## {TITLE}",
        "",
        f"Measured {now()} with `make bench` (this section alone: `.venv/bin/python -m bench {NAME}`).",
        "",
        f"**Target** (issue 2): a check with 20,000 users holding roles across 5,000 communities takes ≤ "
        f"{TARGET_US:.0f} µs median. **{'Met' if warm.median_us <= TARGET_US else 'Missed'}**: "
        f"{fmt_us(warm.median_us)} µs.",
        "",
        "| Series | What is timed (per call) | Median µs | p95 µs | Samples |",
        "|---|---|--:|--:|--:|",
        *[
            f"| {s.key}. {s.label} | {s.what} | {fmt_us(s.median_us)} | {fmt_us(s.p95_us)} | {s.count:,} |"
            for s in series
        ],
        "",
        "Ratios, as the median over rounds of the per-round ratio of medians (each pair measured seconds apart):",
        "",
        f"- plain Enforcer, first check at the area ÷ A: **×{round_ratio(plain, warm):,.0f}**",
        f"- plain Enforcer, repeated check ÷ A: **×{round_ratio(plain_repeat, warm):,.0f}**",
        f"- B (jiceng, user not cached) ÷ plain Enforcer, first check: {round_ratio(cold, plain):.2f}",
        f"- R (refresh, paid once per request) ÷ A: ×{round_ratio(per_request, warm):,.0f}: a request's permission "
        "cost is dominated by the freshness query, not by its checks",
        "",
        f"**Baseline**: `build_enforcer(engine)` from `jiceng.core.permissions.store`, a plain `casbin.Enforcer` "
        f"(casbin {package_version('casbin')}, no cache) loaded from the same "
        "`casbin_rule` rows with the same `model.conf` and `area_within` domain matcher, asked the same "
        "(user, path, permission) triples in the same run, interleaved round by round with A, B and R (A B C R, "
        "B C R A, C R A B, …). C is the Enforcer's first check at an area: it scans every domain it knows to "
        "build a role manager for that area and keeps it (so its memory grows with every area ever checked); C′ "
        "repeats the call at once, its best case. After the run it held "
        f"{facts['casbin_domains_cached']:,.0f} such role managers.",
        "",
        f"**Agreement**: A gave Casbin's answer on {answers.agree:,} of {checked:,} triples the Enforcer checked "
        f"({answers.allowed.get('C', 0)} allowed, {answers.denied.get('C', 0)} denied)"
        + ("." if not answers.disagree else f"; **{len(answers.disagree)} disagreements**."),
        "",
        f"**Data**: a temporary SQLite file migrated by Alembic; {facts['areas']:,.0f} areas (1 city, {DISTRICTS} "
        f"districts, {facts['towns']:,.0f} towns, {facts['communities']:,.0f} communities, {facts['grids']:,.0f} grids); "
        f"{USERS:,} users with {facts['grant_rows']:,.0f} grants (1–2 roles each: grid_worker, handler, dispatcher, "
        f"town_admin, leader, at towns or communities; {facts['distinct_domains']:,.0f} distinct granted areas, every "
        f"community covered) and the built-in roles' {facts['p_rows']:,.0f} `p` rows, {facts['rule_rows']:,.0f} "
        f"`casbin_rule` rows in all. Triples: a random user and permission (all {len(PERM_WEIGHTS)} core permissions, "
        f"`areas:read` weighted ×4), the area a community or grid, half of them under one of the user's grants, "
        f"half anywhere, so answers mix (A: {answers.allowed.get('A', 0):,} allowed, "
        f"{answers.denied.get('A', 0):,} denied). Seeded RNG ({SEED}).",
        "",
        f"**Method**: {ROUNDS} rounds of {WARM_PER_ROUND:,} A, {COLD_PER_ROUND:,} B, {CASBIN_PER_ROUND} C/C′ and "
        f"{REFRESH_PER_ROUND} R calls, in one process, SQLite in-process (on PostgreSQL, B and R add a round trip); "
        "each call timed alone with `time.perf_counter_ns`, so every figure includes the clock's own cost "
        f"({facts['overhead_ns']:.0f} ns); garbage collection paused inside each step, as `timeit` does. "
        f"Timed rounds took {facts['elapsed_s']:.1f} s; setup: {setup_text(setup)}.",
        "",
        *machine_lines(host),
    ]
    if not passed:
        lines += ["", "**This run failed its target or its agreement check.**"]
    return "\n".join(lines)
