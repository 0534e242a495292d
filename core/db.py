"""Engines and sessions: SQLite by default, PostgreSQL (psycopg 3) in production.

SQLite is tuned for a web server: WAL so readers never wait for the writer,
foreign keys enforced, and a busy timeout so concurrent writers queue instead
of failing. ``postgresql://`` URLs are pointed at psycopg 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)


def normalize_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with the per-backend settings described above."""
    url = normalize_url(url)
    if is_sqlite(url):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end or not at all."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """Statements whose results nobody reads, sent to PostgreSQL together: one round trip instead of one each.

    psycopg's pipeline mode queues them and waits once, at the end of the block; an error in any of them is
    raised there. Inside, run only statements that return nothing (no ``RETURNING``; an ``INSERT`` into a table
    with a generated key is made ``.inline()`` so none is added). On SQLite, where a statement costs no round
    trip, they simply run one after the other.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    with connection.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
        yield


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the only kind of timestamp the database stores."""
    return datetime.now(UTC)
