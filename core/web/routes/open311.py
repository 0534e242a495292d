"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, service definitions, service requests.

Every answer comes as ``.json`` or ``.xml``; errors too, in the
specification's shape (``[{"code", "description"}]``, ``<errors><error>``)
with the HTTP status (400, 403 for a bad ``api_key``, 404), each description
in Chinese and English. Posting needs an ``api_key`` (``jiceng open311 key``
or ``/admin/open311``); reading does not, and never shows personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import status as http
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from jiceng.core.areas import Area
from jiceng.core.errors import AppError, bad_request, describe_pydantic, not_found
from jiceng.core.events import notify
from jiceng.core.i18n import N_, _, both
from jiceng.core.open311 import mapping, reports
from jiceng.core.open311 import xml as xml_form
from jiceng.core.open311.keys import client_for_key
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.deps import SessionDep, SettingsDep, client_address

FORMATS = ("json", "xml")


def _format(request: Request) -> str:
    fmt = request.path_params.get("fmt")
    return "xml" if fmt == "xml" or (fmt is None and request.url.path.endswith(".xml")) else "json"


def answer(request: Request, root: str, value: Any, item: str | None = None, status_code: int = 200) -> Response:
    """``value`` as JSON, or as XML under ``root`` (a list's entries named ``item``), as the path asks."""
    if _format(request) == "xml":
        return Response(xml_form.render(root, value, item), status_code=status_code, media_type="text/xml")
    return JSONResponse(value, status_code=status_code)


def error_answer(request: Request, error: AppError) -> Response:
    status_code, items = mapping.errors(error)
    return answer(request, "errors", items, "error", status_code=status_code)


class Open311Route(APIRoute):
    """Errors leave in the specification's shape, not the platform's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as error:
                return error_answer(request, error)
            except RequestValidationError as exc:
                fields = describe_pydantic(exc.errors())
                return error_answer(request, AppError(400, "invalid", "Some fields are not valid.", fields=fields))

        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise not_found("Only .json and .xml are served here, not .{format}.", format=fmt)


def host_of(request: Request) -> PluginHost:
    return request.app.state.host


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    check_format(fmt)
    url = str(request.base_url) + "open311/v2/"
    contact = mapping.joined(*both(N_("The command centre of your town.")))
    key_service = mapping.joined(*both(N_("Ask your town's administrator for an API key (page /admin/open311).")))
    return answer(request, "discovery", mapping.discovery(url, contact, key_service))


@router.get("/services.{fmt}")
def services(
    fmt: str, request: Request, session: SessionDep, settings: SettingsDep, jurisdiction_id: str | None = None
) -> Response:
    """GET Service List: the town's public event types."""
    check_format(fmt)
    town = reports.town_for(session, jurisdiction_id)
    types = reports.public_types(session, host_of(request), settings, town)
    return answer(request, "services", [mapping.service(t) for t in types.values()], "service")


@router.get("/services/{service_code}.{fmt}")
def service_definition(
    service_code: str,
    fmt: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
) -> Response:
    """GET Service Definition: the event type's form fields as attributes."""
    check_format(fmt)
    town = reports.town_for(session, jurisdiction_id)
    event_type = reports.service_type(reports.public_types(session, host_of(request), settings, town), service_code)
    return answer(request, "service_definition", mapping.definition(event_type))


async def posted_form(request: Request) -> reports.Posted:
    """The form the specification asks for (``application/x-www-form-urlencoded``; multipart is read too)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise bad_request("Send the service request as a form (application/x-www-form-urlencoded).")
    form = await request.form()
    return reports.Posted.of(form.multi_items())


@router.post("/requests.{fmt}", status_code=http.HTTP_201_CREATED)
def post_request(
    fmt: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    posted: Annotated[reports.Posted, Depends(posted_form)],
) -> Response:
    """POST Service Request: a new event from the client holding ``api_key``."""
    check_format(fmt)
    client = client_for_key(session, posted.get("api_key"))
    if client is None:
        raise AppError(403, "forbidden", "The api_key is missing, unknown or revoked.")
    host = host_of(request)
    event = reports.post_request(session, settings, host, client, posted, address=client_address(request))
    session.commit()
    notify.changed(host, session, None, event, notify.reported(event))
    town = session.get(Area, event.town_code)
    notice = _("Received by the command centre of {town}.", town=town.name if town else event.town_code)
    created = [{"service_request_id": event.code, "service_notice": notice, "account_id": None}]
    return answer(request, "service_requests", created, "request", status_code=http.HTTP_201_CREATED)


@router.get("/requests.{fmt}")
def get_requests(
    fmt: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str = "",
    end_date: str = "",
    status: str | None = None,
) -> Response:
    """GET Service Requests: newest first, the last 90 days unless dates are given, at most 1,000."""
    check_format(fmt)
    town = reports.town_for(session, jurisdiction_id)
    found = reports.find_requests(
        session,
        host_of(request),
        settings,
        town,
        ids=reports.split(service_request_id),
        service_codes=reports.split(service_code),
        start=start_date.strip(),
        end=end_date.strip(),
        statuses=reports.split(status),
    )
    return answer(request, "service_requests", found, "request")


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(
    service_request_id: str,
    fmt: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
) -> Response:
    """GET Service Request: one request, as a list of one."""
    check_format(fmt)
    town = reports.town_for(session, jurisdiction_id)
    found = reports.find_requests(session, host_of(request), settings, town, ids=[service_request_id])
    if not found:
        raise not_found("No service request {id}.", id=service_request_id)
    return answer(request, "service_requests", found, "request")


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def nothing_here(rest: str) -> Response:
    """Anything else under ``/open311/v2/`` answers 404 in the specification's shape too."""
    raise not_found("There is nothing at this address.")
