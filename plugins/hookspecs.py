"""The hooks a scenario may implement. Each docstring is the reference a vendor reads.

* Implementations are plain ``def`` functions. ``async def`` is refused at
  start-up: pluggy would hand back an un-awaited coroutine, which for a
  first-result hook even counts as an answer.
* Hooks are called with keyword arguments; an implementation may take any
  subset of the arguments listed, by name, and must not give them defaults
  (pluggy does not pass arguments that have defaults).
* A hook call made for a town reaches only the scenarios enabled there.
* An implementation that raises is logged with its scenario id and counted; the
  scenario shows as degraded on ``/health``; the other scenarios' answers and
  the request go on. For a first-result hook, a raising implementation simply
  gives no answer.
"""

from __future__ import annotations

from typing import Any

from jiceng.plugins.markers import hookspec


@hookspec
def routes() -> Any:
    """Return the scenario's routers: ``ScenarioRoutes(pages=APIRouter(), api=APIRouter())``.

    Called once at start-up. ``pages`` is mounted under ``/s/{id}/`` and ``api``
    under ``/api/s/{id}/``. Every route is guarded by default: it answers 404
    in a town where the scenario is not enabled, 401 without a login and 403
    when the caller lacks the scenario's ``access`` permission in that town.
    Inside a route, depend on ``ScenarioContextDep`` to get the context.
    """


@hookspec
def startup(scenario_id: str) -> None:
    """Called once when the platform starts, after every scenario is loaded and before the first request.

    Use it to warm caches or check external services; raising marks the
    scenario degraded but does not stop the platform.
    """


@hookspec(firstresult=True)
def route_event(event: Any, context: Any) -> str | None:
    """Propose the department that should handle a newly reported ``event``.

    Called once when the event is reported, before it is stored, for the
    scenarios enabled in its town: the proposal is stored with the event, so
    ``event.id`` is ``None`` and ``event.code`` empty here. ``event`` is a
    frozen ``EventInfo`` (type, title, area, the form's ``attributes`` …; no
    personal data). Return a department code of the
    town, or ``None`` to let the next scenario, then the town's dispatch
    rules, then the event type's default department decide. The first
    non-``None`` answer wins and is shown to the dispatcher as the proposal;
    the dispatcher may still choose another department.
    """


@hookspec
def event_changed(event: Any, change: Any, context: Any) -> None:
    """Notified after an event changes state (``change.transition``, ``change.actor``, ``change.note``).

    ``event`` is a frozen ``EventInfo`` as it is after the change; ``change`` an
    ``EventChange`` (``transition`` is ``report`` for a new event, else a
    lifecycle step such as ``accept``, ``dispatch``, ``resolve``, ``verify``;
    ``from_state``, ``to_state``, ``at``). Called for the scenarios enabled in
    the event's town, for events of every type. Runs after the change is
    committed; what you do here cannot undo it.
    """


@hookspec
def record_changed(record: Any, changes: Any, context: Any) -> None:
    """Notified after a person, house or organisation record changes.

    ``record`` is ``(table, id)``; ``changes`` lists ``(field, old, new,
    source)`` for the fields the scenario declared in its manifest (read or
    write) and nothing else, ID numbers and phones masked. Runs after the
    change is committed, for the scenarios enabled in the record's town.
    """


@hookspec
def dashboard_cards(context: Any) -> list[Any] | None:
    """Return cards (``DashboardCard``) for the caller's home page and dashboards in ``context.town``.

    Keep it fast: it runs on every home-page view. Return ``None`` or ``[]`` to show nothing.
    """
