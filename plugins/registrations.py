"""Small typed objects that hooks return, so the host can check what it is given."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter


class Bindable:
    """A hook argument the host narrows per scenario: ``bind_scenario(id)`` gives what that scenario may see.

    Hosts subclass it (the context, a record's changes); the isolation wrapper
    checks ``isinstance`` once per argument, which is cheaper than probing
    every argument for the method.
    """

    def bind_scenario(self, scenario_id: str) -> object:
        raise NotImplementedError


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
