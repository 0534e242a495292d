"""Small typed objects that hooks return, so the host can check what it is given."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter


@dataclass(frozen=True)
class ScenarioRoutes:
    """Returned by the ``routes`` hook: ``pages`` mount under ``/s/{id}/``, ``api`` under ``/api/s/{id}/``."""

    pages: APIRouter | None = None
    api: APIRouter | None = None


@dataclass(frozen=True)
class DashboardCard:
    """One card on the home page or a dashboard: a title, a figure, an optional note and link."""

    title_zh: str
    title_en: str
    value: str
    note_zh: str = ""
    note_en: str = ""
    link: str = ""
