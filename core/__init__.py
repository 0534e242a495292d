"""jiceng core: the host that every scenario leans on.

Config, database and migrations, the area tree, identity, permissions, audit,
the web app and the CLI. Scenarios never import this package directly; they
use ``jiceng.sdk``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jiceng")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def _name_constraints() -> None:
    """Give every index and constraint a predictable name before any table is defined.

    Alembic needs names to alter or drop constraints later (and SQLite's batch
    mode needs them to rebuild tables); the migrations use the same names.
    """
    from sqlmodel import SQLModel

    SQLModel.metadata.naming_convention = {
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }


_name_constraints()
