"""Portal pages of the event loop: report an event, list events, follow one and take the next step; phone first.

The pages sit on the same services as the JSON API: a report is :func:`intake.report` (with its photos in the same
transaction), a step is :func:`actions.act`, each committed once and only then told to the town's scenarios
(``notify.changed``). What a caller sees is scoped and masked by :mod:`queries` exactly as in the API, and the step
forms shown are those :func:`actions.allowed_for` allows the caller now. Errors re-render the page with each message
next to its field.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, or_, select
from starlette.datastructures import FormData, UploadFile

from jiceng.core.areas import Area, AreaLevel, within
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.enablement import path_codes
from jiceng.core.errors import AppError, FieldError, describe_pydantic
from jiceng.core.events import actions, notify, queries
from jiceng.core.events.attachments import keep, read_checked
from jiceng.core.events.clock import WorkingClock
from jiceng.core.events.intake import EventIn, report
from jiceng.core.events.lifecycle import TRANSITIONS
from jiceng.core.events.models import (
    OPEN_STATES,
    Channel,
    Department,
    DepartmentMember,
    Event,
    EventAction,
    EventAttachment,
    Priority,
    State,
)
from jiceng.core.events.types import CATEGORY_LABELS, check_attributes, of_town, offered
from jiceng.core.i18n import N_, _, both, current_locale
from jiceng.core.users import User
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.routes.record_pages import (
    FormDep,
    PageRoute,
    area_names,
    area_options,
    areas_where,
    local_time,
    message,
    pager,
    root_field,
)
from jiceng.core.web.scenario_mount import TOWN_DEPTH
from jiceng.core.web.templating import render
from jiceng.plugins.manifest import EventTypeDecl

PER_PAGE = 20
MAX_PHOTOS = 5

STATE_LABELS = {
    State.reported: N_("Waiting for acceptance"),
    State.accepted: N_("Accepted, waiting for dispatch"),
    State.rejected: N_("Not accepted"),
    State.dispatched: N_("Dispatched"),
    State.handling: N_("Being handled"),
    State.resolved: N_("Waiting for verification"),
    State.closed: N_("Closed"),
    State.evaluated: N_("Rated"),
}
CHANNEL_LABELS = {
    Channel.grid: N_("Grid worker"),
    Channel.portal: N_("Resident"),
    Channel.hotline: N_("12345 hotline"),
    Channel.open311: N_("Open311 client"),
    Channel.system: N_("Another system"),
    Channel.scenario: N_("Scenario"),
}
PRIORITY_LABELS = {Priority.normal: N_("Normal"), Priority.urgent: N_("Urgent"), Priority.critical: N_("Critical")}
MARK_LABELS = {"overdue": N_("Overdue"), "soon": N_("Due soon")}
MINE_LABELS = {"reported": N_("Reported by me"), "assigned": N_("Assigned to me or my department")}
#: What a timeline step's detail says, by key (other keys are kept for the API and the audit log).
DETAIL_LABELS = {"department": N_("Department"), "hours": N_("Working hours"), "rating": N_("Rating"), "to": N_("To")}


# -- shared by the pages and the dashboard ---------------------------------------------------------------------------


def zh() -> bool:
    return current_locale() != "en"


def type_name(event_type: EventTypeDecl | None, code: str) -> str:
    """A type's name in the current language; its code when its scenario is no longer switched on."""
    if event_type is None:
        return code
    return event_type.zh if zh() else event_type.en


def category_of(event_type: EventTypeDecl) -> str:
    """The type's category, or nothing when it only repeats the type's name (安全隐患 · 安全隐患)."""
    label = CATEGORY_LABELS[event_type.category][0 if zh() else 1]
    return "" if label == type_name(event_type, event_type.code) else label


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """People by the names they go by; an Open311 client or another system keeps its own name."""
    wanted = set(usernames)
    if not wanted:
        return {}
    return dict(session.exec(select(User.username, User.display_name).where(col(User.username).in_(wanted))).all())


def members_by_department(session: Session, departments: list[Department]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Who may be assigned on dispatch: each department's name and its members (username, name), in order."""
    ids = {d.id: d for d in departments if d.id is not None}
    if not ids:
        return []
    rows = session.exec(
        select(col(DepartmentMember.department_id), col(DepartmentMember.username), col(User.display_name))
        .join(User, col(User.username) == DepartmentMember.username)
        .where(col(DepartmentMember.department_id).in_(ids))
        .order_by(col(DepartmentMember.department_id), col(User.display_name))
    ).all()
    grouped: dict[int, list[tuple[str, str]]] = {}
    for department_id, username, name in rows:
        grouped.setdefault(department_id, []).append((username, name or username))
    return [(ids[i].name, grouped[i]) for i in sorted(grouped, key=lambda i: ids[i].code)]


def state_label(state: str) -> str:
    return _(STATE_LABELS[State(state)]) if state in State.__members__ else state


@dataclass(frozen=True)
class Deadline:
    """Now, and the moment before which an open event's deadline is "due soon" (``events.warn_hours`` ahead)."""

    now: datetime
    warn_until: datetime

    @classmethod
    def of(cls, settings: Settings) -> Self:
        now = utcnow()
        return cls(now, WorkingClock(settings.events.calendar).add(now, hours=settings.events.warn_hours))

    def mark(self, state: str, deadline: datetime | None) -> str | None:
        """``overdue``, ``soon`` or nothing, for an open event's deadline."""
        if deadline is None or state not in OPEN_STATES:
            return None
        if deadline < self.now:
            return "overdue"
        return "soon" if deadline < self.warn_until else None

    def shown(self, state: str, deadline: datetime | None) -> dict[str, str] | None:
        """The deadline as a page shows it: the local time and its mark."""
        if deadline is None:
            return None
        mark = self.mark(state, deadline)
        return {"at": local_time(deadline), "mark": mark or "", "mark_label": _(MARK_LABELS[mark]) if mark else ""}


def towns_reached(session: Session, caller: Caller, perm: str) -> list[Area]:
    """The towns where ``perm`` is held: at or above the town, or at one of its communities or grids."""
    paths = caller.grants.paths(perm)
    inside = {path_codes(p)[TOWN_DEPTH - 1] for p in paths if len(path_codes(p)) >= TOWN_DEPTH}
    above = [p for p in paths if len(path_codes(p)) < TOWN_DEPTH]
    return list(
        session.exec(
            select(Area)
            .where(col(Area.level) == AreaLevel.town, or_(col(Area.code).in_(inside), within(col(Area.path), above)))
            .order_by(col(Area.code))
        ).all()
    )


def pick_town(request: Request, towns: list[Area], wanted: str | None = None) -> Area | None:
    """The town asked for (a form field or ``?town=``), else the one chosen last, else the first; remembered."""
    by_code = {t.code: t for t in towns}
    code = wanted or request.query_params.get("town") or request.session.get("town")
    town = by_code.get(code or "") or (towns[0] if towns else None)
    if town is not None and code == town.code:
        request.session["town"] = town.code
    return town


def field_errors(error: AppError) -> dict[str, str]:
    """An error's messages by input: ``attributes.size`` stays whole (each extra field is an input of its own)."""
    return {input_of(f.field): message(f) for f in error.fields}


def input_of(field: str) -> str:
    """The input an error's field path points at."""
    return field if field.startswith("attributes.") else root_field(field)


# -- reporting ---------------------------------------------------------------------------------------------------------

#: The report form's own inputs, in the order the form shows them.
REPORT_FIELDS = ("type", "title", "description", "area", "address", "priority", "reporter_contact")
REQUIRED = ("type", "title", "area")


def attribute_input(type_code: str, name: str) -> str:
    """The input name of one extra field: types may share field names, so each type's inputs are its own."""
    return f"attr:{type_code}:{name}"


@dataclass
class Filled:
    """A submitted report: what was typed (to show again), the checked body and photos, and what is wrong."""

    typed: dict[str, str]
    body: EventIn | None
    photos: list[tuple[str, bytes, str]]  # (file name, bytes, checked content type)
    errors: dict[str, str]
    photos_given: bool


def required_message(field: str) -> str:
    return message(FieldError(field, *both("This field is required.")))


def read_report(form: FormData, types: Mapping[str, EventTypeDecl], settings: Settings) -> Filled:
    """Check a report form the way the API checks its body, every problem at once and named by its input."""
    typed = {name: str(form.get(name) or "").strip() for name in REPORT_FIELDS}
    chosen = types.get(typed["type"])
    answers = (
        {f.name: str(form.get(attribute_input(chosen.code, f.name)) or "").strip() for f in chosen.fields}
        if chosen
        else {}
    )
    typed |= {f"attributes.{name}": value for name, value in answers.items()}
    errors = {name: required_message(name) for name in REQUIRED if not typed[name]}
    if chosen is not None:
        try:
            check_attributes(chosen, answers)
        except AppError as error:
            errors |= field_errors(error)
    values: dict[str, Any] = {n: typed[n] for n in REPORT_FIELDS if typed[n]}
    values["attributes"] = {name: value for name, value in answers.items() if value}
    body = None
    try:
        body = EventIn.model_validate(values)
    except ValidationError as exc:
        for problem in describe_pydantic(exc.errors()):
            errors.setdefault(input_of(problem.field), message(problem))
    uploads, photos, problem = read_photos(form, settings)
    if problem:
        errors["photos"] = problem
    return Filled(typed, None if errors else body, photos, errors, bool(uploads))


def read_photos(form: FormData, settings: Settings) -> tuple[list[UploadFile], list[tuple[str, bytes, str]], str]:
    """The files of the form's ``photos`` input, each checked (type from its content, size); what is wrong, if any."""
    uploads = [u for u in form.getlist("photos") if isinstance(u, UploadFile) and u.filename]
    if len(uploads) > MAX_PHOTOS:
        return uploads, [], message(FieldError("photos", *both("At most {count} photos.", count=MAX_PHOTOS)))
    photos = []
    for upload in uploads:
        try:
            data, kind = read_checked(upload.file, settings.events.attachments)
        except AppError as error:
            return uploads, [], message(error)
        photos.append(((upload.filename or "photo")[-200:], data, kind))
    return uploads, photos, ""


def attach(request: Request, session: Session, caller: Caller, event: Event, photo: tuple[str, bytes, str]) -> None:
    """Keep one checked photo of an event: the bytes in the store, the row and the audit entry in the transaction."""
    filename, data, kind = photo
    keep(
        session,
        request.app.state.attachments,
        event_id=event.id,  # type: ignore[arg-type]
        filename=filename,
        data=data,
        kind=kind,
        actor=caller.username,
        address=client_address(request),
    )


# -- the pages ---------------------------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def report_places(session: Session, caller: Caller) -> dict[str, list[Area]]:
    """The communities and grids where the caller may report, by town code."""
    places: dict[str, list[Area]] = {}
    for area in areas_where(session, caller, "events:report"):
        places.setdefault(queries.town_code_of(area) or "", []).append(area)
    return places


def form_page(
    request: Request,
    caller: Caller,
    session: Session,
    settings: Settings,
    *,
    typed: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    alert: str | None = None,
    photos_again: bool = False,
    status_code: int = 200,
) -> Response:
    places = report_places(session, caller)
    towns = list(session.exec(select(Area).where(col(Area.code).in_(places)).order_by(col(Area.code))).all())
    town = pick_town(request, towns, typed.get("town"))
    errors = errors or {}
    kinds = list(offered(request.app.state.host, settings, session, caller, town).values()) if town else []
    chosen = typed.get("type") or (kinds[0].code if len(kinds) == 1 else "")
    types = [
        {
            "code": t.code,
            "name": type_name(t, t.code),
            "category": category_of(t),
            "fields": [
                {
                    "input": attribute_input(t.code, f.name),
                    "id": f"attr-{i}-{f.name}",
                    "label": f.zh if zh() else f.en,
                    "kind": f.kind,
                    "required": f.required,
                    "choices": [(c.value, c.en if not zh() else c.zh) for c in f.choices],
                    "value": typed.get(f"attributes.{f.name}", "") if t.code == chosen else "",
                    "error": errors.get(f"attributes.{f.name}") if t.code == chosen else None,
                }
                for f in t.fields
            ],
        }
        for i, t in enumerate(kinds)
    ]
    areas = places.get(town.code, []) if town else []
    known = {*REPORT_FIELDS, "photos", *(f"attributes.{f.name}" for t in kinds if t.code == chosen for f in t.fields)}
    loose = [text for name, text in errors.items() if name not in known]
    return render(
        request,
        "events/form.html",
        {
            "choices": towns if len(towns) > 1 else [],
            "chosen": town,
            "types": types,
            "chosen_type": chosen,
            "areas": area_options(areas),
            "priorities": [(p.value, _(label)) for p, label in PRIORITY_LABELS.items()],
            "typed": {"priority": Priority.normal.value, "area": areas[0].code if len(areas) == 1 else "", **typed},
            "errors": errors,
            "alert": alert or (loose[0] if loose else None) or (_("Some fields are not valid.") if errors else None),
            "first_error": next((n for n in (*REPORT_FIELDS, *errors) if n in errors), None),
            "photos_again": photos_again and "photos" not in errors,
            "max_photos": MAX_PHOTOS,
            "accept": ",".join(settings.events.attachments.content_types),
        },
        status_code=status_code,
    )


@router.get("/events/new")
def new_event(request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Response:
    caller.require("events:report")
    return form_page(request, caller, session, settings, typed={})


@router.post("/events/new")
def report_event(
    request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    caller.require("events:report")
    host = request.app.state.host
    town_code = str(form.get("town") or "")
    town = session.get(Area, town_code) if town_code else None
    types = offered(host, settings, session, caller, town) if town and town.level == AreaLevel.town else {}
    filled = read_report(form, types, settings)
    typed = {**filled.typed, "town": town_code}

    def again(errors: Mapping[str, str], alert: str | None = None, status_code: int = 422) -> Response:
        return form_page(
            request,
            caller,
            session,
            settings,
            typed=typed,
            errors=errors,
            alert=alert,
            photos_again=filled.photos_given,
            status_code=status_code,
        )

    if filled.body is None:
        return again(filled.errors)
    try:
        event, _created, town = report(
            session, settings, host, caller, filled.body, address=client_address(request), request=request
        )
        for photo in filled.photos:
            attach(request, session, caller, event, photo)
        session.commit()
    except AppError as error:
        if error.status not in (403, 409, 422):
            raise
        session.rollback()
        return again(field_errors(error), alert=message(error), status_code=error.status)
    notify.changed(host, session, caller, event, notify.reported(event), town)
    return RedirectResponse(f"/events/{event.id}?done=report", status_code=303)


# -- the list ------------------------------------------------------------------------------------------------------


def type_names(
    request: Request, session: Session, settings: Settings, caller: Caller, towns: Iterable[Area]
) -> dict[str, str]:
    """The types the caller may report in the given towns (all of them for staff), by code, named."""
    kinds = offered(request.app.state.host, settings, session, caller, *towns)
    return {code: type_name(event_type, code) for code, event_type in kinds.items()}


def whole(value: str, default: int = 1) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < 10**6 else default


@router.get("/events")
def list_page(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=12)] = "",
    type: Annotated[str, Query(max_length=64)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    mine: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=120)] = "",
    town: Annotated[str, Query(max_length=15)] = "",
    page_no: Annotated[str, Query(alias="page", max_length=6)] = "1",
) -> Response:
    """Events the caller may see, newest first; a resident (who sees no area's events) lands on their own reports."""
    if not (caller.grants.holds_anywhere("events:view") or caller.grants.holds_anywhere("events:report")):
        caller.require("events:view")
    staff = caller.grants.holds_anywhere("events:view")
    towns = towns_reached(session, caller, "events:view" if staff else "events:report")
    within_town = next((t for t in towns if t.code == town), None)
    kept = {
        "state": state if state in State.__members__ else "",
        "type": type.strip(),
        "overdue": "1" if overdue else "",
        "mine": mine if staff and mine in MINE_LABELS else "",
        "q": q.strip(),
        "town": within_town.code if within_town else "",
    }
    conditions = queries.filters(
        session,
        caller,
        state=[State(kept["state"])] if kept["state"] else None,
        type_code=kept["type"] or None,
        under=within_town,
        overdue=bool(kept["overdue"]),
        mine=kept["mine"] or ("reported" if not staff else None),
        q=kept["q"] or None,
    )
    number = whole(page_no)
    rows, total = queries.page(session, conditions, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, math.ceil(min(total, queries.COUNT_CAP) / PER_PAGE))
    names = area_names(session, (r.area_code for r in rows))
    departments = queries.department_names(session, {r.department_id for r in rows if r.department_id})
    kinds = type_names(request, session, settings, caller, towns)
    clock = Deadline.of(settings)
    items = [
        {
            "href": f"/events/{r.id}",
            "code": r.code,
            "title": r.title,
            "type": kinds.get(r.type_code, r.type_code),
            "area": names.get(r.area_code, r.area_code),
            "state": str(r.state),
            "state_label": state_label(r.state),
            "department": departments[r.department_id].name if r.department_id in departments else "",
            "deadline": clock.shown(r.state, r.deadline),
            "priority": str(r.priority),
            "priority_label": _(PRIORITY_LABELS[Priority(r.priority)]) if r.priority != Priority.normal else "",
        }
        for r in rows
    ]

    return render(
        request,
        "events/list.html",
        {
            "rows": items,
            "staff": staff,
            "total": total,
            "capped": total > queries.COUNT_CAP,
            "first": (number - 1) * PER_PAGE + 1,
            "last": (number - 1) * PER_PAGE + len(items),
            **pager("/events", kept, number, pages),
            "filters": kept,
            "filtering": any(kept[k] for k in ("state", "type", "overdue", "mine", "town")),
            "states": [(s.value, _(label)) for s, label in STATE_LABELS.items()],
            "types": sorted(kinds.items(), key=lambda item: item[1]),
            "mines": [(value, _(label)) for value, label in MINE_LABELS.items()],
            "town_name": within_town.name if within_town else "",
            "can_report": caller.grants.holds_anywhere("events:report"),
        },
    )


# -- one event -----------------------------------------------------------------------------------------------------

#: The inputs a step's form may carry (:class:`actions.ActionIn`).
STEP_FIELDS = ("note", "department", "assignee", "hours", "rating", "version")


def timeline_row(action: EventAction, departments: Mapping[str, str], people: Mapping[str, str]) -> dict[str, Any]:
    """One step of the timeline: what was done (the step's label), by whom, when, from which state to which, why."""
    label = _(TRANSITIONS[action.action].msgid) if action.action in TRANSITIONS else _("Reported")
    details = []
    for name, value in action.detail.items():
        if name in DETAIL_LABELS and value is not None:
            shown = departments.get(value, value) if name == "department" else value
            details.append(f"{_(DETAIL_LABELS[name])}: {shown}")
    if action.action == "report" and action.detail.get("channel") in Channel.__members__:
        details.append(_(CHANNEL_LABELS[Channel(action.detail["channel"])]))
    return {
        "label": label,
        "actor": people.get(action.actor, action.actor),
        "at": local_time(action.at),
        "from": state_label(action.from_state) if action.from_state else "",
        "to": state_label(action.to_state),
        "moved": action.from_state != action.to_state,
        "note": action.note,
        "details": details,
    }


def step_forms(
    event: Event,
    allowed: list[str],
    departments: list[Department],
    *,
    failed: str | None,
    typed: Mapping[str, str],
    errors: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One small form per step the caller may take now; the one that failed keeps what was typed and its errors."""
    forms = []
    for name in allowed:
        step = TRANSITIONS[name]
        mine = name == failed
        values = typed if mine else {}
        forms.append(
            {
                "name": name,
                "label": _(step.msgid),
                "note": step.note_required,
                "department": name in ("dispatch", "reassign"),
                "hours": name == "request_extension",
                "rating": name == "evaluate",
                "typed": {
                    "note": values.get("note", ""),
                    "department": values.get("department") or event.suggested_department,
                    "assignee": values.get("assignee", ""),
                    "hours": values.get("hours", ""),
                    "rating": values.get("rating", ""),
                },
                "errors": errors if mine else {},
                "open": mine,
                "danger": name in ("reject", "rework", "return", "deny_extension"),
            }
        )
    return forms


def event_page(
    request: Request,
    caller: Caller,
    session: Session,
    settings: Settings,
    event: Event,
    *,
    failed: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    alert: str | None = None,
    photo_error: str = "",
    status_code: int = 200,
) -> Response:
    assert event.id is not None
    town = session.get(Area, event.town_code)
    event_type = of_town(request.app.state.host, settings, session, town).get(event.type_code) if town else None
    departments = list(
        session.exec(
            select(Department).where(col(Department.town_code) == event.town_code).order_by(col(Department.code))
        ).all()
    )
    shown = queries.present(event, caller, {d.id: d for d in departments if d.id is not None})
    labels = {f.name: (f.zh if zh() else f.en, f) for f in event_type.fields} if event_type else {}
    photos = session.exec(
        select(EventAttachment).where(col(EventAttachment.event_id) == event.id).order_by(col(EventAttachment.id))
    ).all()
    done = request.query_params.get("done", "")
    clock = Deadline.of(settings)
    steps = queries.timeline(session, event.id)
    people = display_names(session, {event.reporter, event.assignee or "", *(a.actor for a in steps)})
    names = {d.code: d.name for d in departments}
    return render(
        request,
        "events/view.html",
        {
            "event": shown,
            "type": type_name(event_type, event.type_code),
            "category": category_of(event_type) if event_type else event.category,
            "reporter": people.get(event.reporter, event.reporter),
            "assignee": people.get(event.assignee or "", event.assignee),
            "suggested": names.get(event.suggested_department, event.suggested_department),
            "area": area_names(session, [event.area_code]).get(event.area_code, event.area_code),
            "state_label": state_label(event.state),
            "channel": _(CHANNEL_LABELS[Channel(event.channel)]),
            "priority": _(PRIORITY_LABELS[Priority(event.priority)]),
            "deadline": clock.shown(event.state, event.deadline),
            "created": local_time(event.created_at),
            "attributes": [
                (labels[name][0], labels[name][1].label(value, not zh())) if name in labels else (name, value)
                for name, value in event.attributes.items()
            ],
            "photos": [
                {
                    "href": f"/api/events/{event.id}/attachments/{p.id}",
                    "name": p.filename,
                    "image": p.content_type.startswith("image/"),
                }
                for p in photos
            ],
            "timeline": [timeline_row(a, names, people) for a in steps],
            "steps": step_forms(
                event,
                actions.allowed_for(session, caller, event),
                departments,
                failed=failed,
                typed=typed or {},
                errors=errors or {},
            ),
            "departments": [(d.code, d.name) for d in departments],
            "members": members_by_department(session, departments),
            "can_add_photos": event.state in OPEN_STATES,
            "accept": ",".join(settings.events.attachments.content_types),
            "max_photos": MAX_PHOTOS,
            "photo_error": photo_error,
            "alert": alert,
            "done": _("Reported.")
            if done == "report"
            else _("Photos added.")
            if done == "photos"
            else _("Done: {step}", step=_(TRANSITIONS[done].msgid))
            if done in TRANSITIONS
            else "",
        },
        status_code=status_code,
    )


@router.get("/events/{event_id:int}")
def view(request: Request, event_id: int, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Response:
    return event_page(request, caller, session, settings, queries.get_event(session, caller, event_id))


@router.post("/events/{event_id:int}/photos")
def add_photos(
    request: Request, event_id: int, caller: CallerDep, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """More photos of an open event, from anyone who may see it (as the API's attachments): on the spot, later."""
    event = queries.get_event(session, caller, event_id)
    if event.state not in OPEN_STATES:  # closed while the page was open
        alert = _("Files can be attached only while the event is open.")
        return event_page(request, caller, session, settings, event, alert=alert, status_code=409)
    uploads, photos, problem = read_photos(form, settings)
    if problem or not uploads:
        problem = problem or required_message("photos")
        return event_page(request, caller, session, settings, event, photo_error=problem, status_code=422)
    for photo in photos:
        attach(request, session, caller, event, photo)
    session.commit()
    return RedirectResponse(f"/events/{event_id}?done=photos", status_code=303)


@router.post("/events/{event_id:int}/steps/{name}")
def take_step(
    request: Request,
    event_id: int,
    name: str,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Take one step from its form; a refused step (409) or a missing input (422) shows the page again with why."""
    event = queries.get_event(session, caller, event_id)
    typed = {n: str(form.get(n) or "").strip() for n in STEP_FIELDS}

    def again(errors: Mapping[str, str], alert: str | None, status_code: int) -> Response:
        return event_page(
            request,
            caller,
            session,
            settings,
            event,
            failed=name,
            typed=typed,
            errors=errors,
            alert=alert,
            status_code=status_code,
        )

    try:
        data = actions.ActionIn.model_validate({n: v for n, v in typed.items() if v})
    except ValidationError as exc:
        errors = {input_of(p.field): message(p) for p in describe_pydantic(exc.errors())}
        return again(errors, _("Some fields are not valid."), 422)
    host = request.app.state.host
    town = session.get(Area, event.town_code)
    event_type = of_town(host, settings, session, town).get(event.type_code) if town else None
    try:
        change = actions.act(session, settings, caller, event, name, data, event_type, address=client_address(request))
        session.commit()
    except AppError as error:
        if error.status not in (409, 422):
            raise
        session.rollback()
        return again(field_errors(error), message(error), error.status)
    notify.changed(host, session, caller, event, change)
    return RedirectResponse(f"/events/{event_id}?done={name}", status_code=303)
