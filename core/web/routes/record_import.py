"""The ledger upload page: a clerk imports a 台账 from the portal, sees the summary and gets the error report.

The import is the command line's (:func:`import_ledger`), with one more rule:
rows for areas where the caller may not edit are rejected, each with its
reason in the report. The upload is read in the request; the error report is
kept in a temporary folder and handed back through a signed, per-user link.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer

from jiceng.core import audit
from jiceng.core.errors import AppError, not_found
from jiceng.core.records.importer import import_ledger
from jiceng.core.records.ledger import LedgerError
from jiceng.core.records.tables import TABLES
from jiceng.core.web.deps import OptionalCallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.routes.record_pages import areas_where
from jiceng.core.web.templating import render

router = APIRouter(prefix="/records/import", include_in_schema=False)
REPORTS = Path(tempfile.gettempdir()) / "jiceng-import-reports"
MAX_BYTES = 100 * 1024 * 1024
BY_PLURAL = {spec.plural: spec for spec in TABLES.values()}


def signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key.get_secret_value(), salt="import-report")


@router.get("/{plural}")
def upload_page(plural: str, request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    spec = BY_PLURAL.get(plural)
    if spec is None:
        raise not_found("There is nothing at this address.")
    caller.require("records:edit")
    return render(request, "records/import.html", {"spec": spec, "areas": areas_where(session, caller, "records:edit")})


@router.post("/{plural}")
def upload(
    plural: str,
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    ledger: Annotated[UploadFile, File()],
    area: Annotated[str, Form(max_length=15)] = "",
) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    spec = BY_PLURAL.get(plural)
    if spec is None:
        raise not_found("There is nothing at this address.")
    caller.require("records:edit")
    areas = areas_where(session, caller, "records:edit")
    REPORTS.mkdir(parents=True, exist_ok=True)
    name = Path(ledger.filename or "ledger").name
    with tempfile.TemporaryDirectory() as tmp:
        upload_path = Path(tmp) / name
        with upload_path.open("wb") as out:
            shutil.copyfileobj(ledger.file, out, length=1 << 20)
        if upload_path.stat().st_size > MAX_BYTES:
            raise AppError(413, "too_large", "The request is too large.")
        report = REPORTS / f"{secrets.token_hex(16)}.csv"
        try:
            summary = import_ledger(
                request.app.state.engine,
                spec,
                upload_path,
                actor=caller.username,
                settings=settings,
                error_report=report,
                default_area=area or None,
                may_edit=lambda path: caller.grants.allows("records:edit", path),
            )
        except LedgerError as error:
            return render(
                request,
                "records/import.html",
                {"spec": spec, "areas": areas, "problem": error.texts()},
                status_code=422,
            )
    detail = {
        "file": name,
        "read": summary.read,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "rejected": summary.rejected,
    }
    audit.record(
        session,
        actor=caller.username,
        action="records.import",
        target_type=spec.name,
        address=client_address(request),
        detail=detail,
    )
    session.commit()
    token = signer(request).dumps({"f": report.name, "u": caller.username})
    return render(
        request,
        "records/import.html",
        {"spec": spec, "areas": areas, "summary": summary, "report_token": token if summary.rejected else None},
    )


@router.get("/report/{token}")
def report(token: str, request: Request, caller: OptionalCallerDep) -> Response:
    """The error report of an import, for the user who ran it."""
    try:
        data = signer(request).loads(token)
    except BadSignature:
        raise not_found("There is nothing at this address.") from None
    path = REPORTS / str(data.get("f", ""))
    if caller is None or data.get("u") != caller.username or not path.is_file():
        raise not_found("There is nothing at this address.")
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename="errors.csv")
