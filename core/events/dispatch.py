"""Which department should handle an event: a scenario's proposal, then the town's rules, then the type's default.

The ``route_event`` hook is asked first (the first non-``None`` answer wins),
then the dispatch rules (database rules from the admin page and ``[[events.rules]]``
from config): the rule at the deepest area above the event wins, and at the
same area a rule for the exact type beats one for any type (``*``). Last comes
the department the event type names. The dispatcher may always choose another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from jiceng.core.areas import Area
from jiceng.core.config import Settings
from jiceng.core.errors import invalid_field
from jiceng.core.events.models import Department, DispatchRule
from jiceng.plugins.manifest import EventTypeDecl


@dataclass(frozen=True)
class Rule:
    area_path: str
    type_code: str
    department: str

    def matches(self, area_path: str, type_code: str) -> bool:
        return area_path.startswith(self.area_path) and self.type_code in ("*", type_code)

    def rank(self) -> tuple[int, int]:
        return (self.area_path.count("/"), self.type_code != "*")


STORED_RULES = select(col(DispatchRule.area_path), col(DispatchRule.type_code), col(DispatchRule.department))


def rules(session: Session, settings: Settings) -> list[Rule]:
    """Every rule: the database's and config's (config areas that do not exist are skipped)."""
    found = [Rule(*row) for row in session.execute(STORED_RULES)]
    codes = {r.area for r in settings.events.rules}
    paths = dict(session.exec(select(Area.code, Area.path).where(col(Area.code).in_(codes))).all()) if codes else {}
    found += [Rule(paths[r.area], r.type, r.department) for r in settings.events.rules if r.area in paths]
    return found


def by_rules(candidates: Iterable[Rule], area_path: str, type_code: str) -> str | None:
    matching = [r for r in candidates if r.matches(area_path, type_code)]
    return max(matching, key=Rule.rank).department if matching else None


def suggest(
    session: Session, settings: Settings, proposal: str | None, area_path: str, event_type: EventTypeDecl
) -> str:
    """The department to propose; ``proposal`` is the ``route_event`` hook's answer."""
    return proposal or by_rules(rules(session, settings), area_path, event_type.code) or event_type.department


def department(session: Session, town_code: str, code: str) -> Department:
    found = session.exec(
        select(Department).where(col(Department.town_code) == town_code, col(Department.code) == code)
    ).first()
    if found is None:
        raise invalid_field("department", "No department {department} in this town.", department=code)
    return found
