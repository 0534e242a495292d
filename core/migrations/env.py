"""Alembic environment for jiceng; the config comes from :mod:`jiceng.core.migrate`."""

from alembic import context
from sqlmodel import SQLModel

import jiceng.core.models  # noqa: F401  (registers every core table)
from jiceng.core.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("jiceng migrations run online only: use `jiceng db upgrade`.")
run_migrations()
