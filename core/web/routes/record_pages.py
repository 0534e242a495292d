"""Portal pages for the three tables (人口, 房屋, 单位): list, view, add and edit, usable on a grid worker's phone.

One builder makes every table's pages from its :class:`TableSpec` and the API's input models, on the same
service layer as the JSON API: the list reuses the API's :func:`filtered` (scope, search, filters), writes go
through :func:`service.create` and :func:`service.update` (validation, provenance, authority, optimistic
version), and scenarios hear of changes through the same ``record_changed`` notification.

Values are masked everywhere; a caller holding ``pii:view`` at the record's area can ask for the full numbers
with a reason, which is audited like the API's ``?reveal=true``. The full numbers are rendered in the answer
to that POST only (never behind a GET address a browser history or a proxy could keep).
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from jiceng.core import audit
from jiceng.core.areas import Area, get_area
from jiceng.core.errors import AppError, FieldError, describe_pydantic
from jiceng.core.i18n import N_, _, both, current_locale
from jiceng.core.records import conflicts, links, service
from jiceng.core.records.models import Gender, HouseUse, OrganisationKind, Person, PersonTag
from jiceng.core.records.notify import notify
from jiceng.core.records.schemas import HouseIn, HousePatch, OrganisationIn, OrganisationPatch, PersonIn, PersonPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TableSpec
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.routes.records import ListFilters, filtered
from jiceng.core.web.templating import render

PER_PAGE = 50
REASON_MAX = 200
#: Times are stored in UTC and shown in China Standard Time, where the portal's users are.
CST = timezone(timedelta(hours=8))
TAG_SPLIT = re.compile(r"[\s,，、;；]+")


# -- what each table's pages show ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Widget:
    """How one field is labelled, typed into and shown."""

    label: str  # msgid
    kind: str = "text"  # text, tel, date, int, decimal, select, code (an ID number or credit code: blank is None)
    choices: tuple[tuple[str, str], ...] = ()  # (value, msgid)
    required: bool = False
    maxlength: int | None = None
    hint: str | None = None  # msgid

    @property
    def blank(self) -> Any:
        """What an emptied input means when editing: an empty text, or no value."""
        return "" if self.kind in ("text", "tel") else None


GENDERS = ((Gender.male.value, N_("Male")), (Gender.female.value, N_("Female")))
USES = (
    (HouseUse.residential.value, N_("Residential")),
    (HouseUse.commercial.value, N_("Commercial")),
    (HouseUse.rental.value, N_("Rented out")),
    (HouseUse.vacant.value, N_("Vacant")),
)
KINDS = (
    (OrganisationKind.enterprise.value, N_("Enterprise")),
    (OrganisationKind.individual_business.value, N_("Individual business")),
    (OrganisationKind.social_organisation.value, N_("Social organisation")),
    (OrganisationKind.public_institution.value, N_("Public institution")),
    (OrganisationKind.government.value, N_("Government body")),
)
SOURCES = {
    "portal": N_("Portal"),
    "api": N_("API"),
    "import": N_("Ledger import"),
    "scenario": N_("Scenario"),
    "visit": N_("Visit"),
}
#: Provenance rows about a whole record rather than one field (written by the demo loader and the ledger import).
EVENTS = {"created": N_("Created"), "deleted": N_("Deleted")}
AREA = Widget(N_("Community or grid"), kind="select", required=True)
TAGS = Widget(N_("Tags"), hint=N_("Separate tags with spaces, e.g. 党员 高龄"), maxlength=200)


@dataclass(frozen=True)
class Page:
    """One table's wording and layout on the portal."""

    title: str  # msgid of the list page's title
    add: str  # msgid of the "add" page's title
    heading: str  # the field that names a record in lists and headings
    search_hint: str  # msgid of the search box's placeholder: what a search looks in
    summary: tuple[str, ...]  # fields shown under the heading in lists
    widgets: Mapping[str, Widget]


#: Fields whose values speak for themselves (a date, a masked number, an address): lists on a phone drop their labels.
BARE = frozenset(
    {"gender", "birth_date", "id_number", "phone", "current_address", "kind", "uscc", "registered_address"}
)

PAGES = {
    PEOPLE.name: Page(
        title=N_("People"),
        add=N_("Add a person"),
        heading="name",
        search_hint=N_("Name, address or ID digits"),
        summary=("gender", "birth_date", "id_number", "phone", "current_address"),
        widgets={
            "id_number": Widget(N_("ID number"), kind="code", maxlength=24),
            "name": Widget(N_("Full name"), required=True, maxlength=50),
            "gender": Widget(N_("Gender"), kind="select", choices=GENDERS, hint=N_("Taken from the ID number.")),
            "birth_date": Widget(N_("Date of birth"), kind="date", hint=N_("Taken from the ID number.")),
            "ethnicity": Widget(N_("Ethnic group"), maxlength=20),
            "phone": Widget(N_("Phone"), kind="tel", maxlength=40),
            "hukou_address": Widget(N_("Household registration address"), maxlength=200),
            "current_address": Widget(N_("Current address"), maxlength=200),
        },
    ),
    HOUSES.name: Page(
        title=N_("Houses"),
        add=N_("Add a house"),
        heading="address",
        search_hint=N_("Address"),
        summary=("building", "unit", "room", "use"),
        widgets={
            "address": Widget(N_("Address"), required=True, maxlength=200),
            "building": Widget(N_("Building"), maxlength=20),
            "unit": Widget(N_("Unit"), maxlength=20),
            "room": Widget(N_("Room"), maxlength=20),
            "use": Widget(N_("House use"), kind="select", choices=USES, required=True),
            "owner_id": Widget(N_("Owner (person number)"), kind="int"),
            "latitude": Widget(N_("Latitude"), kind="decimal"),
            "longitude": Widget(N_("Longitude"), kind="decimal"),
        },
    ),
    ORGANISATIONS.name: Page(
        title=N_("Organisations"),
        add=N_("Add an organisation"),
        heading="name",
        search_hint=N_("Name, address or credit code"),
        summary=("kind", "uscc", "legal_representative", "phone", "registered_address"),
        widgets={
            "uscc": Widget(N_("Unified social credit code"), kind="code", maxlength=24),
            "name": Widget(N_("Organisation name"), required=True, maxlength=100),
            "kind": Widget(N_("Organisation type"), kind="select", choices=KINDS, required=True),
            "legal_representative": Widget(N_("Legal representative"), maxlength=50),
            "phone": Widget(N_("Phone"), kind="tel", maxlength=40),
            "registered_address": Widget(N_("Registered address"), maxlength=200),
            "licence_state": Widget(N_("Licence status"), maxlength=20),
            "house_id": Widget(N_("House number"), kind="int"),
        },
    ),
}


def widget(spec: TableSpec, name: str) -> Widget:
    if name == "area_code":
        return AREA
    if name == "tags":
        return TAGS
    return PAGES[spec.name].widgets[name]


def shown(spec: TableSpec, name: str, value: Any) -> str:
    """A value as the pages show it: choices translated, dates in ISO form, nothing as an empty string."""
    if isinstance(value, Enum):
        value = value.value
    if value is None or value == "":
        return ""
    choices = dict(widget(spec, name).choices) if name in PAGES[spec.name].widgets else {}
    if str(value) in choices:
        return _(choices[str(value)])
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def local_time(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return aware.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def history_row(spec: TableSpec, change: Mapping[str, Any]) -> dict[str, Any]:
    """One provenance row as the record page lists it: a field's old and new value, or an event."""
    name, event = change["field"], change["field"] in EVENTS
    row = {
        "label": _(EVENTS[name]) if event else field_label(spec, name),
        "event": event,
        "old": "" if event else shown(spec, name, change["old"]),
        "new": "" if event else shown(spec, name, change["new"]),
        "source": _(SOURCES[change["source"]]) if change["source"] in SOURCES else change["source"],
        "source_ref": change["source_ref"],
        "actor": change["actor"],
        "at": local_time(change["at"]),
    }
    given = (change["new"] or "").split(",")
    if name == "created" and all(n in spec.fields for n in given):  # a ledger import names the fields it gave
        row["new"] = "、".join(_(widget(spec, n).label) for n in given)
    return row


def field_label(spec: TableSpec, name: str) -> str:
    """A field's label, or for a link written by :mod:`links` (``house.owner``) the other table and the kind."""
    if name in spec.fields:
        return _(widget(spec, name).label)
    link = links.link_field(name)
    if link is None:
        return name
    other, kind = link
    return f"{_(PAGES[other.name].title)} · {_(links.KIND_LABELS[kind])}"


# -- links -----------------------------------------------------------------------------------------------------------

#: The linked tables a record's page lists, in order.
LINKED = {
    PEOPLE.name: (HOUSES, ORGANISATIONS),
    HOUSES.name: (PEOPLE, ORGANISATIONS),
    ORGANISATIONS.name: (HOUSES, PEOPLE),
}
#: How a linked record is named in those lists, and the code shown beside it (masked like every list).
LINK_TITLE = {
    PEOPLE.name: ("name",),
    HOUSES.name: ("address", "building", "unit", "room"),
    ORGANISATIONS.name: ("name",),
}
LINK_CODE = {PEOPLE.name: "id_number", ORGANISATIONS.name: "uscc"}


def link_sections(session: Session, caller: Caller, spec: TableSpec, record: Any) -> list[dict[str, Any]]:
    """The record's links, one section per linked table: the other record (masked), the kind and the period."""
    sections = []
    for other in LINKED[spec.name]:
        found = links.links_of(session, caller, spec, record, other)
        items = []
        for link in found["data"]:
            data = link[other.name]
            since, until = link["since"], link["until"]
            items.append(
                {
                    "href": f"/records/{other.plural}/{data['id']}",
                    "title": " ".join(str(data[n]) for n in LINK_TITLE[other.name] if data[n]) or "—",
                    "code": data.get(LINK_CODE.get(other.name, "")) or "",
                    "kind": _(links.KIND_LABELS[link["kind"]]),
                    "period": f"{since or ''} – {until or ''}".strip() if since or until else "",
                    "active": link["active"],
                }
            )
        sections.append({"title": _(PAGES[other.name].title), "links": items, "hidden": found["hidden"]})
    return sections


def pager(base: str, kept: Mapping[str, str], number: int, pages: int) -> dict[str, Any]:
    """What ``_pager.html`` shows: this page of how many, and links to its neighbours that keep the filters."""

    def link(n: int) -> str:
        return f"{base}?" + urlencode({k: v for k, v in {**kept, "page": str(n)}.items() if v})

    return {
        "page": number,
        "pages": pages,
        "prev_href": link(number - 1) if number > 1 else None,
        "next_href": link(number + 1) if number < pages else None,
    }


def message(error: FieldError | AppError) -> str:
    """The Chinese or English text of an error, for the current locale."""
    return error.message if current_locale() == "zh_CN" else error.message_en


# -- areas -----------------------------------------------------------------------------------------------------------


def areas_where(session: Session, caller: Caller, perm: str) -> list[Area]:
    """The communities and grids where the caller holds ``perm``, in tree order."""
    return list(
        session.exec(
            select(Area)
            .where(caller.grants.filter(perm, col(Area.path)), col(Area.level).in_(service.RECORD_LEVELS))
            .order_by(col(Area.path))
        ).all()
    )


def area_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = set(codes)
    if not wanted:
        return {}
    return dict(session.exec(select(Area.code, Area.name).where(col(Area.code).in_(wanted))).all())


def area_options(areas: Iterable[Area]) -> list[dict[str, str]]:
    return [{"code": a.code, "name": a.name} for a in areas]


# -- errors on pages -------------------------------------------------------------------------------------------------


class PageRoute(APIRoute):
    """A portal page: errors become the error page (whatever the Accept header), 401 the login page."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as error:
                if error.status == 401:
                    return RedirectResponse(f"/login?next={quote(back_to(request), safe='/')}", status_code=303)
                return render(request, "error.html", {"error": error}, status_code=error.status)
            except RequestValidationError as exc:
                error = AppError(422, "invalid", "Some fields are not valid.", fields=describe_pydantic(exc.errors()))
                return render(request, "error.html", {"error": error}, status_code=422)

        return page


def back_to(request: Request) -> str:
    """Where to come back after logging in: this page, or for a POST the page its form is on."""
    path = request.url.path
    if request.method == "GET":
        return path + (f"?{request.url.query}" if request.url.query else "")
    return path.removesuffix("/reveal")


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


# -- reading a form --------------------------------------------------------------------------------------------------


@dataclass
class Filled:
    """A submitted form: what was typed (to show again), the model built from it, and what is wrong."""

    typed: dict[str, str]
    body: BaseModel | None
    errors: dict[str, str]


def root_field(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def read_form(
    spec: TableSpec,
    model: type[BaseModel],
    form: FormData,
    *,
    editing: bool,
    keep_blank: frozenset[str] = frozenset(),
    extra: Mapping[str, Any] | None = None,
) -> Filled:
    """Validate a submitted form with the API's input ``model``.

    Adding: blank inputs are left out, so defaults apply and required fields say "required".
    Editing: a blank input empties the field, except the fields in ``keep_blank`` (masked personal values the
    caller could not see), which keep their value.
    """
    names = ["area_code", *spec.fields, *(["tags"] if spec is PEOPLE else [])]
    typed = {name: str(form.get(name) or "").strip() for name in names}
    data: dict[str, Any] = dict(extra or {})
    errors: dict[str, str] = {}
    for name in names:
        value, w = typed[name], widget(spec, name)
        if name == "tags":
            tags = [t for t in TAG_SPLIT.split(value) if t]
            if tags or editing:
                data["tags"] = tags
        elif value:
            data[name] = value
        elif w.required:
            errors[name] = message(FieldError(name, *both("This field is required.")))
        elif editing and name not in keep_blank:
            data[name] = w.blank
    body = None
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        for problem in describe_pydantic(exc.errors()):
            errors.setdefault(root_field(problem.field), message(problem))
    return Filled(typed, None if errors else body, errors)


def invalid() -> AppError:
    return AppError(422, "invalid", "Some fields are not valid.")


def app_error_fields(error: AppError) -> dict[str, str]:
    return {root_field(f.field): message(f) for f in error.fields}


# -- the pages -------------------------------------------------------------------------------------------------------


def build(spec: TableSpec, create_model: type[BaseModel], patch_model: type[BaseModel]) -> APIRouter:
    """The list, record, add and edit pages of one table, under ``/records/{plural}``."""
    router = APIRouter(prefix=f"/records/{spec.plural}", include_in_schema=False, route_class=PageRoute)
    page = PAGES[spec.name]
    model = spec.model
    base = f"/records/{spec.plural}"
    people = spec is PEOPLE

    def labelled(values: Mapping[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
        return [
            {
                "name": n,
                "label": _(widget(spec, n).label),
                "value": shown(spec, n, values.get(n)),
                "personal": n in spec.personal,
                "bare": n in BARE,
            }
            for n in names
        ]

    def base_context(caller: Caller) -> dict[str, Any]:
        return {
            "spec": spec,
            "base": base,
            "table_title": _(page.title),
            "add_title": _(page.add),
            "search_hint": _(page.search_hint),
            "can_add": caller.grants.holds_anywhere("records:edit"),
        }

    # -- list ----------------------------------------------------------------------------------------------------

    @router.get("")
    def list_page(
        request: Request,
        caller: CallerDep,
        session: SessionDep,
        q: Annotated[str, Query(max_length=100)] = "",
        area: Annotated[str, Query(max_length=15)] = "",
        tag: Annotated[str, Query(max_length=20)] = "",
        age_min: Annotated[str, Query(max_length=3)] = "",
        age_max: Annotated[str, Query(max_length=3)] = "",
        page_no: Annotated[str, Query(alias="page", max_length=6)] = "1",
    ) -> Response:
        caller.require("records:view")
        areas = areas_where(session, caller, "records:view")
        chosen = area if area in {a.code for a in areas} else ""
        low, high = (whole(age_min), whole(age_max)) if people else (None, None)
        filters = ListFilters(
            q=q.strip() or None,
            under=chosen or None,
            tag=[tag] if people and tag else [],
            age_min=low,
            age_max=high,
        )
        query = filtered(spec, caller, session, filters)
        total = service.count(session, query)
        pages = max(1, math.ceil(total / PER_PAGE))
        number = min(max(whole(page_no) or 1, 1), pages)
        records = session.exec(
            query.order_by(col(model.id).desc()).offset((number - 1) * PER_PAGE).limit(PER_PAGE)  # type: ignore[attr-defined]
        ).all()
        tags = service.tags_of(session, [r.id for r in records]) if people else {}
        names = area_names(session, (r.area_code for r in records))
        rows = []
        for record in records:
            data = service.present(spec, record, reveal=False, tags=tags.get(record.id))
            rows.append(
                {
                    "id": record.id,
                    "heading": data[page.heading] or "—",
                    "summary": [item for item in labelled(data, page.summary) if item["value"]],
                    "tags": data.get("tags") or [],
                    "area": names.get(record.area_code, record.area_code),
                    "href": f"{base}/{record.id}"
                    if caller.grants.allows("records:view", record.area_path)
                    else None,  # a search reaches further than viewing: such rows are listed, not opened
                }
            )
        kept = {
            "q": q.strip(),
            "area": chosen,
            "tag": tag if people else "",
            "age_min": "" if low is None else str(low),
            "age_max": "" if high is None else str(high),
        }

        return render(
            request,
            "records/list.html",
            {
                **base_context(caller),
                "rows": rows,
                "total": total,
                **pager(base, kept, number, pages),
                "first": (number - 1) * PER_PAGE + 1 if total else 0,
                "last": min(number * PER_PAGE, total),
                "filters": kept,
                "filtering": any(kept[k] for k in ("area", "tag", "age_min", "age_max")),
                "areas": area_options(areas),
                "tag_choices": visible_tags(session, caller) if people else [],
            },
        )

    # -- add (before /{record_id}, which would otherwise take "new" for an id) ------------------------------------

    def form_page(
        request: Request,
        caller: Caller,
        session: Session,
        *,
        typed: Mapping[str, str],
        record: Any = None,
        errors: Mapping[str, str] | None = None,
        alert: str | None = None,
        keep_blank: frozenset[str] = frozenset(),
        status_code: int = 200,
    ) -> Response:
        areas = areas_where(session, caller, "records:edit")
        if record is not None and record.area_code not in {a.code for a in areas}:
            areas.insert(0, get_area(session, record.area_code))
        names = [*spec.fields, *(["tags"] if people else [])]
        fields = []
        for n in names:
            w, error = widget(spec, n), (errors or {}).get(n)
            hint = n in keep_blank or w.hint
            fields.append(
                {
                    "name": n,
                    "widget": w,
                    "label": _(w.label),
                    "value": typed.get(n, ""),
                    "error": error,
                    "choices": [(value, _(label)) for value, label in w.choices],
                    "keep_hint": n in keep_blank,
                    "hint": _(w.hint) if w.hint else None,
                    "describedby": " ".join([*([f"{n}-error"] if error else []), *([f"{n}-hint"] if hint else [])]),
                }
            )
        known = {"area_code", "version", *names}
        loose = [text for name, text in (errors or {}).items() if name not in known]
        return render(
            request,
            "records/form.html",
            {
                **base_context(caller),
                "record": record,
                "heading": _("Edit") if record is not None else _(page.add),
                "action": f"{base}/{record.id}/edit" if record is not None else f"{base}/new",
                "cancel": f"{base}/{record.id}" if record is not None else base,
                "fields": fields,
                "area": {
                    "label": _(AREA.label),
                    "value": typed.get("area_code", ""),
                    "error": (errors or {}).get("area_code"),
                    "choices": area_options(areas),
                },
                "record_version": typed.get("version", ""),
                "record_name": (getattr(record, page.heading) or "—") if record is not None else None,
                "alert": alert or (loose[0] if loose else None) or (message(invalid()) if errors else None),
                "first_error": next((n for n in ("area_code", *names) if n in (errors or {})), None),
                "stale": status_code == 409,
            },
            status_code=status_code,
        )

    @router.get("/new")
    def new_page(request: Request, caller: CallerDep, session: SessionDep) -> Response:
        caller.require("records:edit")
        choices = areas_where(session, caller, "records:edit")
        typed = {"area_code": choices[0].code if len(choices) == 1 else ""}
        if spec is HOUSES:
            typed["use"] = HouseUse.residential.value
        return form_page(request, caller, session, typed=typed)

    @router.post("/new")
    def add(request: Request, caller: CallerDep, session: SessionDep, form: FormDep) -> Response:
        caller.require("records:edit")
        filled = read_form(spec, create_model, form, editing=False)
        if filled.body is None:
            return form_page(request, caller, session, typed=filled.typed, errors=filled.errors, status_code=422)
        body: Any = filled.body
        caller.require("records:edit", get_area(session, body.area_code).path)
        try:
            record = service.create(session, spec, body, source=service.Source(caller.via_kind, caller.username))
            session.commit()
        except AppError as error:
            if error.status not in (409, 422):
                raise
            session.rollback()
            return form_page(
                request,
                caller,
                session,
                typed=filled.typed,
                errors=app_error_fields(error),
                alert=message(error),
                status_code=error.status,
            )
        given = {n: (None, getattr(record, n)) for n in spec.fields if service.text(getattr(record, n)) is not None}
        notify(request.app.state.host, session, caller, spec, record, given, caller.via_kind)
        return RedirectResponse(f"{base}/{record.id}?saved=1", status_code=303)

    # -- one record ----------------------------------------------------------------------------------------------

    def record_page(
        request: Request,
        caller: Caller,
        session: Session,
        record: Any,
        *,
        reveal: bool = False,
        reason: str = "",
        reason_error: str | None = None,
        status_code: int = 200,
    ) -> Response:
        tags = service.tags_of(session, [record.id]).get(record.id) if people else None
        data = service.present(spec, record, reveal=reveal, tags=tags)
        held = [n for n in request.query_params.get("held", "").split(",") if n in spec.fields]
        history = [history_row(spec, h) for h in service.history(session, spec, record.id, reveal=reveal)]
        response = render(
            request,
            "records/view.html",
            {
                **base_context(caller),
                "record": record,
                "heading": data[page.heading] or "—",
                "fields": labelled(data, spec.fields),
                "tags": data.get("tags") or [],
                "area": area_names(session, [record.area_code]).get(record.area_code, record.area_code),
                "updated": local_time(record.updated_at),
                "history": history,
                "links": link_sections(session, caller, spec, record),
                "conflicts": [
                    conflicts.shown(spec, c, reveal=reveal) | {"field_label": widget(spec, c.field).label}
                    for c in conflicts.open_for(session, spec, record.id)
                ],
                "can_edit": caller.grants.allows("records:edit", record.area_path),
                "can_reveal": bool(spec.personal) and caller.grants.allows("pii:view", record.area_path),
                "revealed": reveal,
                "reason": reason,
                "reason_error": reason_error,
                "saved": request.query_params.get("saved") == "1",
                "held": ", ".join(_(widget(spec, n).label) for n in held),
            },
            status_code=status_code,
        )
        if reveal:
            response.headers["Cache-Control"] = "no-store"
        return response

    @router.get("/{record_id}")
    def view(request: Request, record_id: int, caller: CallerDep, session: SessionDep) -> Response:
        record = service.get_record(session, spec, record_id)
        caller.require("records:view", record.area_path)
        return record_page(request, caller, session, record)

    if spec.personal:  # a table with nothing masked has nothing to reveal

        @router.post("/{record_id}/reveal")
        def reveal(request: Request, record_id: int, caller: CallerDep, session: SessionDep, form: FormDep) -> Response:
            record = service.get_record(session, spec, record_id)
            caller.require("records:view", record.area_path)
            caller.require("pii:view", record.area_path)
            reason = str(form.get("reason") or "").strip()
            problem = None
            if not reason:
                problem = both("This field is required.")
            elif len(reason) > REASON_MAX:
                problem = both("Too long: at most {max_length} characters.", max_length=REASON_MAX)
            if problem:
                error = message(FieldError("reason", *problem))
                return record_page(request, caller, session, record, reason=reason, reason_error=error, status_code=422)
            audit.record(
                session,
                actor=caller.username,
                action="pii.view",
                target_type=spec.name,
                target_id=str(record_id),
                address=client_address(request),
                detail={"reason": reason, "via": "portal"},
            )
            session.commit()
            return record_page(request, caller, session, record, reveal=True, reason=reason)

    # -- edit ----------------------------------------------------------------------------------------------------

    def hidden_personal(caller: Caller, record: Any) -> frozenset[str]:
        """Personal fields the caller cannot see here: their inputs start empty and blank keeps the value."""
        return frozenset() if caller.grants.allows("pii:view", record.area_path) else spec.personal

    @router.get("/{record_id}/edit")
    def edit_page(request: Request, record_id: int, caller: CallerDep, session: SessionDep) -> Response:
        record = service.get_record(session, spec, record_id)
        caller.require("records:edit", record.area_path)
        hidden = hidden_personal(caller, record)
        typed = {n: "" if n in hidden else shown_raw(getattr(record, n)) for n in spec.fields}
        typed |= {"area_code": record.area_code, "version": str(record.version)}
        if people:
            typed["tags"] = " ".join(service.tags_of(session, [record.id]).get(record.id, []))
        return form_page(request, caller, session, typed=typed, record=record, keep_blank=hidden)

    @router.post("/{record_id}/edit")
    def edit(
        request: Request, record_id: int, caller: CallerDep, session: SessionDep, settings: SettingsDep, form: FormDep
    ) -> Response:
        record = service.get_record(session, spec, record_id)
        caller.require("records:edit", record.area_path)
        hidden = hidden_personal(caller, record)
        version = str(form.get("version") or "").strip()
        filled = read_form(spec, patch_model, form, editing=True, keep_blank=hidden, extra={"version": version})
        filled.typed["version"] = version

        def again(errors: Mapping[str, str], alert: str | None = None, status_code: int = 422) -> Response:
            typed = {**filled.typed, **{n: "" for n in hidden}}  # never echo what the caller may not see
            return form_page(
                request,
                caller,
                session,
                typed=typed,
                record=record,
                errors=errors,
                alert=alert,
                keep_blank=hidden,
                status_code=status_code,
            )

        if filled.body is None:
            return again(filled.errors)
        body: Any = filled.body
        if body.area_code != record.area_code:  # moving it: the caller must be able to edit there too
            caller.require("records:edit", get_area(session, body.area_code).path)
        try:
            outcome = service.update(
                session, spec, record, body, source=service.Source(caller.via_kind, caller.username), settings=settings
            )
            session.commit()
        except AppError as error:
            if error.status not in (409, 422):
                raise
            session.rollback()
            record = service.get_record(session, spec, record_id)
            return again(app_error_fields(error), alert=message(error), status_code=error.status)
        record = service.get_record(session, spec, record_id)
        notify(request.app.state.host, session, caller, spec, record, outcome.values, caller.via_kind)
        query = {"saved": "1", **({"held": ",".join(outcome.conflicts)} if outcome.conflicts else {})}
        return RedirectResponse(f"{base}/{record_id}?{urlencode(query)}", status_code=303)

    return router


def whole(value: str) -> int | None:
    """A whole number typed into a filter, or None when it is blank or not one."""
    value = value.strip()
    return int(value) if value.isdigit() and int(value) <= 200 else None


def shown_raw(value: Any) -> str:
    """A stored value as an input's starting text."""
    return service.text(value) or ""


def visible_tags(session: Session, caller: Caller) -> list[str]:
    """The tags used on people the caller can see, for the tag filter."""
    return list(
        session.exec(
            select(PersonTag.tag)
            .join(Person, col(Person.id) == col(PersonTag.person_id))
            .where(col(Person.deleted_at).is_(None), caller.grants.filter("records:view", col(Person.area_path)))
            .distinct()
            .order_by(col(PersonTag.tag))
            .limit(100)
        ).all()
    )


router = APIRouter(include_in_schema=False)
router.include_router(build(PEOPLE, PersonIn, PersonPatch))
router.include_router(build(HOUSES, HouseIn, HousePatch))
router.include_router(build(ORGANISATIONS, OrganisationIn, OrganisationPatch))
