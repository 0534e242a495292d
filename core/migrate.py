"""Alembic, driven from code: the core's migrations plus, later, one branch per plugin.

There is no ``alembic.ini``: the config is built here so ``jiceng db upgrade``
works from any directory and an installed wheel. ``version_locations`` is a
list from the start; plugins append their own folder and branch label, and
``upgrade("heads")`` runs every branch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from jiceng.core.db import make_engine, normalize_url

MIGRATIONS = Path(__file__).with_name("migrations")
CORE_VERSIONS = MIGRATIONS / "versions"


def alembic_config(database_url: str, version_locations: Sequence[Path] = ()) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in (CORE_VERSIONS, *version_locations)))
    cfg.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads", version_locations: Sequence[Path] = ()) -> tuple[str, ...]:
    """Upgrade to ``revision``; returns the applied revisions the code does not know, which were left alone.

    Alembic's own ``command.upgrade`` stops with "Can't locate revision" when
    the database holds a revision from a scenario that has since been
    uninstalled. Uninstalling keeps a scenario's data, so those revisions stay
    in ``alembic_version`` untouched (a reinstall resumes from them), and the
    upgrade plans the known branches only. Each scenario's branch is
    independent, so hiding an uninstalled one's head from the planner changes
    nothing else. (A scenario package downgraded below its applied revision is
    not covered: its branch looks unapplied and its first migration fails.)
    """
    cfg = alembic_config(database_url, version_locations)
    script = ScriptDirectory.from_config(cfg)
    left_alone: list[str] = []

    def steps(heads: tuple[str, ...], _context: MigrationContext) -> list[MigrationStep]:
        unknown = unknown_revisions(script, heads)
        left_alone.extend(unknown)
        return script._upgrade_revs(revision, tuple(h for h in heads if h not in unknown))  # type: ignore[arg-type]

    with EnvironmentContext(cfg, script, fn=steps, destination_rev=revision):
        script.run_env()
    return tuple(left_alone)


def unknown_revisions(script: ScriptDirectory, heads: Sequence[str]) -> tuple[str, ...]:
    """The revisions among ``heads`` that no loaded migration folder defines (exact ids: Alembic would match a prefix)."""
    known = {s.revision for s in script.walk_revisions()}
    return tuple(sorted(h for h in heads if h not in known))


def current_heads(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads()


def pending(database_url: str, version_locations: Sequence[Path] = ()) -> bool:
    """True when the database lacks a revision the code has.

    Revisions the database has but the code does not (a scenario uninstalled
    after its tables were made) do not count: its data stays, unused.
    """
    script = ScriptDirectory.from_config(alembic_config(database_url, version_locations))
    engine = make_engine(database_url)
    try:
        return bool(set(script.get_heads()) - set(current_heads(engine)))
    finally:
        engine.dispose()
