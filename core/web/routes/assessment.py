"""The assessment (考核) over HTTP: JSON, CSV and XLSX for a town and period, and the page with its charts.

The figures and their definitions are :mod:`jiceng.core.events.assessment`'s; this module reads the period and
grouping from the query, checks ``events:assess`` at the town, and shows the result. Exports are audited: they
carry people's names and performance out of the platform.
"""

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from openpyxl import Workbook
from sqlmodel import Session

from jiceng.core import audit
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, forbidden, invalid_field
from jiceng.core.events.assessment import AREA_LEVELS, Assessment, Grouping, Period, assess
from jiceng.core.i18n import N_, _
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.routes.events import town_area
from jiceng.core.web.routes.record_pages import PageRoute, message
from jiceng.core.web.scenario_mount import caller_towns, towns_to_pick
from jiceng.core.web.templating import render

PERM = "events:assess"
NOT_APPLICABLE = "—"
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The name and key columns of each grouping (msgids).
GROUP_HEADERS = {
    Grouping.department: (N_("Department"), N_("Department code")),
    Grouping.grid_worker: (N_("Grid worker"), N_("Username")),
    Grouping.area: (N_("Area"), N_("Area code")),
}
GROUP_NAMES = {
    Grouping.department: N_("By department"),
    Grouping.grid_worker: N_("By grid worker"),
    Grouping.area: N_("By area"),
}
#: The figures' columns in the table and the exports: (field of Figures, msgid, decimals or None for a count).
COLUMNS = (
    ("score", N_("Composite score"), 1),
    ("reported", N_("Events reported"), None),
    ("cases", N_("Cases accepted"), None),
    ("closed", N_("Cases closed"), None),
    ("closure_rate", N_("Closure rate (%)"), 1),
    ("due", N_("Due for closure"), None),
    ("extended", N_("Extended cases"), None),
    ("on_time", N_("Closed on time"), None),
    ("on_time_rate", N_("On-time closure rate (%)"), 1),
    ("rework_rate", N_("Rework rate (%)"), 1),
    ("first_time_rate", N_("First-time completion rate (%)"), 1),
    ("extension_rate", N_("Extension rate (%)"), 1),
    ("handling_hours", N_("Average handling time (hours)"), 1),
    ("satisfaction", N_("Satisfaction (%)"), 1),
)

router = APIRouter(tags=["events"])
pages = APIRouter(include_in_schema=False, route_class=PageRoute)


# -- reading the query -----------------------------------------------------------------------------------------------


def day(field: str, value: str | None) -> date | None:
    """A date of the query; the years are bounded so the period's instants stay within what datetimes hold."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise invalid_field(field, "Must be a date (YYYY-MM-DD).") from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise invalid_field(field, "Choose a date from {first} to {last}.", first=FIRST_DAY, last=LAST_DAY)
    return parsed


def period_of(settings: Settings, start: str | None, end: str | None) -> Period:
    """``[start, end)`` in local dates; either left out falls back to the current month's."""
    offset = settings.events.calendar.utc_offset_hours
    month = Period.month_of(utcnow(), offset)
    period = Period(day("start", start) or month.start, day("end", end) or month.end, offset)
    if period.end <= period.start:
        raise invalid_field("end", "The end must come after the start.")
    return period


def grouping_of(by: str, level: str) -> tuple[Grouping, AreaLevel]:
    if by not in Grouping.__members__:
        raise invalid_field("by", "Must be one of: {choices}.", choices=", ".join(Grouping))
    if level not in (lv.value for lv in AREA_LEVELS):
        raise invalid_field("level", "Must be one of: {choices}.", choices=", ".join(AREA_LEVELS))
    return Grouping(by), AreaLevel(level)


def assessed(
    session: Session, settings: Settings, caller: Caller, town: str, query: Mapping[str, str | None]
) -> Assessment:
    """The assessment ``query`` (by, level, start, end) asks for; the caller must hold ``events:assess`` at the town."""
    area = town_area(session, town)
    caller.require(PERM, area.path)
    grouping, level = grouping_of(query["by"] or Grouping.department, query["level"] or AreaLevel.community)
    period = period_of(settings, query["start"], query["end"])
    return assess(session, area, grouping, period, settings.events.weights, level=level)


def requested(
    town: str,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    by: str = Grouping.department.value,
    level: str = AreaLevel.community.value,
    start: str | None = None,
    end: str | None = None,
) -> Assessment:
    """The API's query: per department, grid worker or area (``level``: town, community, grid) for ``[start, end)``
    in local dates (default: the current month)."""
    return assessed(session, settings, caller, town, {"by": by, "level": level, "start": start, "end": end})


AssessmentDep = Annotated[Assessment, Depends(requested)]


# -- showing it ------------------------------------------------------------------------------------------------------


def rounded(value: float | None, decimals: int | None) -> float | None:
    return value if value is None or decimals is None else round(value, decimals)


def cell(value: float | None, decimals: int | None) -> float | str:
    """A figure as the table and the exports show it: rounded, or "—" when it does not apply."""
    shown = rounded(value, decimals)
    return NOT_APPLICABLE if shown is None else shown


def headers(by: Grouping) -> list[str]:
    return [_(msgid) for msgid in (*GROUP_HEADERS[by], *(title for _f, title, _d in COLUMNS))]


def lines(result: Assessment) -> Iterable[list[Any]]:
    """The export's rows: name, key, then every figure."""
    for row in result.rows:
        yield [row.label, row.key, *(cell(getattr(row, name), decimals) for name, _t, decimals in COLUMNS)]


def shown(result: Assessment) -> dict[str, Any]:
    """The JSON answer: rates as percentages rounded to 0.1, ``null`` where a rate does not apply."""
    return {
        "town": result.town,
        "by": result.by,
        "level": result.level,
        "start": result.period.start,
        "end": result.period.end,
        "weights": {name: round(share, 4) for name, share in result.weights.items()},
        "rows": [
            {"key": r.key, "label": r.label} | {name: rounded(getattr(r, name), d) for name, _t, d in COLUMNS}
            for r in result.rows
        ],
    }


def filename(result: Assessment, suffix: str) -> str:
    return f"assessment-{result.town}-{result.by}-{result.period.start}-{result.period.end}.{suffix}"


def exported(request: Request, session: Session, caller: Caller, result: Assessment, kind: str) -> None:
    """Record who took the figures out, and which."""
    audit.record(
        session,
        actor=caller.username,
        action="events.assessment.export",
        target_type="town",
        target_id=result.town,
        address=client_address(request),
        detail={
            "format": kind,
            "by": result.by.value,
            "level": result.level.value if result.level else None,
            "start": result.period.start.isoformat(),
            "end": result.period.end.isoformat(),
        },
    )
    session.commit()


def download(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- the API ---------------------------------------------------------------------------------------------------------


@router.get("/api/towns/{town}/assessment")
def assessment_json(result: AssessmentDep) -> dict[str, Any]:
    """Per department, grid worker or area for a period, best score first (see :func:`requested`)."""
    return shown(result)


@router.get("/api/towns/{town}/assessment.csv")
def assessment_csv(result: AssessmentDep, request: Request, session: SessionDep, caller: CallerDep) -> Response:
    """The table as CSV in UTF-8 with a BOM, so Excel reads the Chinese right."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers(result.by))
    writer.writerows(lines(result))
    exported(request, session, caller, result, "csv")
    return download(("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", filename(result, "csv"))


@router.get("/api/towns/{town}/assessment.xlsx")
def assessment_xlsx(result: AssessmentDep, request: Request, session: SessionDep, caller: CallerDep) -> Response:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Assessment"))
    sheet.append(headers(result.by))
    for line in lines(result):
        sheet.append(line)
    data = io.BytesIO()
    book.save(data)
    exported(request, session, caller, result, "xlsx")
    return download(data.getvalue(), XLSX, filename(result, "xlsx"))


# -- the page --------------------------------------------------------------------------------------------------------


def assessable_towns(session: Session, caller: Caller) -> list[Area]:
    """The towns the caller may assess: those their grants sit in, and for wider grants those under them."""
    towns = [t for t in (session.get(Area, code) for code in caller_towns(caller)) if t is not None]
    towns += [t for t in towns_to_pick(caller, session) if t not in towns]
    return [t for t in towns if t.level == AreaLevel.town and caller.grants.allows(PERM, t.path)]


@pages.get("/events/assessment")
def assessment_page(request: Request, session: SessionDep, settings: SettingsDep, caller: CallerDep) -> Response:
    """The table, the two charts and the export links; a bad date is shown next to its field."""
    query = request.query_params
    towns = assessable_towns(session, caller)
    picked = query.get("town") or request.session.get("town")
    town = next((t for t in towns if t.code == picked), towns[0] if towns else None)
    if query.get("town") and (town is None or town.code != query["town"]):
        town = town_area(session, query["town"])
        caller.require(PERM, town.path)
    if town is None:
        raise forbidden("You do not have the permission {perm} here.", perm=PERM)
    form = {"by": query.get("by", Grouping.department), "level": query.get("level", AreaLevel.community)}
    form |= {"start": query.get("start", ""), "end": query.get("end", "")}
    errors: dict[str, str] = {}
    result = None
    try:
        result = assessed(session, settings, caller, town.code, form)
    except AppError as error:
        if not error.fields:
            raise
        errors = {f.field: message(f) for f in error.fields}
    params = {"by": form["by"], "level": form["level"]}
    if result is not None:
        params |= {"start": result.period.start.isoformat(), "end": result.period.end.isoformat()}
        form |= params
    context = {
        "town": town,
        "choices": towns if len(towns) > 1 else [],
        "chosen": town,
        "form": form,
        "errors": errors,
        "result": result,
        "groupings": [(g.value, _(GROUP_NAMES[g])) for g in Grouping],
        "levels": [(lv.value, lv.label()) for lv in AREA_LEVELS],
        "group_headers": [_(h) for h in GROUP_HEADERS[Grouping(form["by"])]] if result else [],
        "columns": [(name, _(title), decimals) for name, title, decimals in COLUMNS],
        "cell": cell,
        "query": lambda **changes: urlencode({"town": town.code, **params, **changes}),
        "export": urlencode(params),
    }
    return render(request, "events/assessment.html", context, status_code=422 if errors else 200)


router.include_router(pages)
