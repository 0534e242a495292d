"""The scenario's own table, prefixed with its id as the platform requires."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Notice(SQLModel, table=True):
    __tablename__ = "notices_notice"

    id: int | None = Field(default=None, primary_key=True)
    town_code: str = Field(max_length=15, index=True)
    title: str = Field(max_length=100)
    body: str
    author: str = Field(max_length=64)
    published_at: datetime = Field(default_factory=_now)
