"""The ledger upload page: a clerk imports a 台账 from the portal, watches it run and gets the error report.

The import is the command line's (:func:`import_ledger`), with one more rule:
rows for areas where the caller may not edit are rejected, each with its
reason in the report. It runs in the background (:mod:`jiceng.core.records.import_jobs`):
the upload answers at once with the job's page, which shows a progress bar
with rows per second and, when the import is done, its summary and the error
report. Only the user who started a job sees it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from jiceng.core.errors import AppError, not_found
from jiceng.core.records import import_jobs
from jiceng.core.records.tables import TABLES
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, OptionalCallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.routes.record_pages import areas_where
from jiceng.core.web.templating import render

router = APIRouter(include_in_schema=False)
JOBS = Path(tempfile.gettempdir()) / "jiceng-import-jobs"
MAX_BYTES = 100 * 1024 * 1024
WAIT_SECONDS = 2.0  # a small ledger's page shows its result without a reload
BY_PLURAL = {spec.plural: spec for spec in TABLES.values()}


def table(plural: str) -> Any:
    spec = BY_PLURAL.get(plural)
    if spec is None:
        raise not_found("There is nothing at this address.")
    return spec


def owned(job: str, caller: Caller) -> import_jobs.Status:
    try:
        status = import_jobs.read_status(JOBS, job)
    except KeyError:
        raise not_found("There is nothing at this address.") from None
    if status.owner != caller.username:
        raise not_found("There is nothing at this address.")
    return status


@router.get("/records/import/{plural}")
def upload_page(plural: str, request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    spec = table(plural)
    caller.require("records:edit")
    return render(request, "records/import.html", {"spec": spec, "areas": areas_where(session, caller, "records:edit")})


@router.post("/records/import/{plural}")
def upload(
    plural: str,
    request: Request,
    caller: OptionalCallerDep,
    settings: SettingsDep,
    ledger: Annotated[UploadFile, File()],
    area: Annotated[str, Form(max_length=15)] = "",
) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    spec = table(plural)
    caller.require("records:edit")
    name = Path(ledger.filename or "ledger").name
    with tempfile.TemporaryDirectory() as tmp:
        upload_path = Path(tmp) / name
        with upload_path.open("wb") as out:
            while chunk := ledger.file.read(1 << 20):
                out.write(chunk)
                if out.tell() > MAX_BYTES:
                    raise AppError(413, "too_large", "The request is too large.")
        grants = caller.grants
        job = import_jobs.start(
            JOBS,
            request.app.state.engine,
            settings,
            spec,
            upload_path,
            owner=caller.username,
            address=client_address(request),
            default_area=area or None,
            may_edit=lambda path: grants.allows("records:edit", path),
        )
    return RedirectResponse(f"/records/import/jobs/{job}", status_code=303)


@router.get("/records/import/jobs/{job}")
def job_page(job: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """The job's progress (the page reloads itself while it runs), then its summary; 422 when the file was unreadable."""
    owned(job, caller)
    status = import_jobs.wait(JOBS, job, WAIT_SECONDS)
    spec = TABLES[status.table]
    context = {"spec": spec, "areas": areas_where(session, caller, "records:edit"), "job": job, "status": status}
    return render(request, "records/import.html", context, status_code=422 if status.state == "failed" else 200)


@router.get("/api/import-jobs/{job}", include_in_schema=True, tags=["records"])
def job_status(job: str, caller: CallerDep) -> dict[str, Any]:
    """A portal import's progress: ``state`` running, done, failed or interrupted (its process stopped: import the file
    again); rows read of the estimated total; the summary."""
    status = owned(job, caller)
    return {
        "state": status.state,
        "file": status.file,
        "read": status.read,
        "total": status.total,
        "rows_per_second": round(status.rate),
        "summary": status.summary,
        "problem": {"message": status.problem[0], "message_en": status.problem[1]} if status.problem else None,
    }


@router.get("/records/import/jobs/{job}/errors.csv")
def report(job: str, caller: CallerDep) -> Response:
    """The error report of an import, for the user who ran it."""
    owned(job, caller)
    path = import_jobs.folder(JOBS, job) / "errors.csv"
    if not path.is_file():
        raise not_found("There is nothing at this address.")
    return FileResponse(path, media_type="text/csv; charset=utf-8", filename="errors.csv")
