"""The core's own hook implementations, registered like a scenario and reaching every town.

Scenarios add to them (more cards) or override them: the core's answers to
first-result hooks are marked ``trylast``, so any scenario's answer wins.
"""

from __future__ import annotations

from typing import Any

from jiceng.core.areas import AreaLevel
from jiceng.plugins.markers import hookimpl
from jiceng.plugins.registrations import DashboardCard


@hookimpl(trylast=True)
def dashboard_cards(context: Any) -> list[DashboardCard]:
    """How many communities and grids of the town the caller can see."""
    communities = len(context.areas(AreaLevel.community))
    grids = len(context.areas(AreaLevel.grid))
    if not communities and not grids:
        return []
    return [
        DashboardCard(
            title_zh="本镇街区划",
            title_en="Areas in this town",
            value=f"{communities} / {grids}",
            note_zh="村社 / 网格",
            note_en="communities / grids",
        )
    ]
