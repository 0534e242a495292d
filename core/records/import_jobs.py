"""Ledger imports from the portal run in the background, so a clerk watches a progress bar instead of a spinner.

A job is a folder holding the uploaded file and a ``status.json`` that the
importing thread rewrites (atomically) at most a few times a second: rows read
of the estimated total, rows per second, and at the end the summary or the
reason the file could not be read. Any worker process can read the status, so
the page works behind several workers; only the user who started a job may
see it. A job whose status has not been written for :data:`STALE` seconds
while running lost its process (a restart, a crash): it is shown as
interrupted, with the reassurance that matters, since an import is
idempotent: the rows committed stay, and importing the file again adds the
rest and changes nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from jiceng.core import audit
from jiceng.core.config import Settings
from jiceng.core.i18n import N_, both
from jiceng.core.records.importer import Summary, import_ledger
from jiceng.core.records.ledger import LedgerError
from jiceng.core.records.tables import TableSpec

TICK = 0.25  # seconds between status writes
KEEP = 24 * 3600  # finished jobs older than this are removed when a new one starts
STALE = 300  # seconds without a status write after which a running job counts as interrupted
INTERRUPTED = N_(
    "The import stopped before the end (the server was restarted). The rows saved so far stay; import the same "
    "file again to add the rest: rows already saved do not change."
)
BROKEN = N_(
    "The import stopped on an error of the server. The rows saved so far stay; import the same file again to add "
    "the rest, and tell your administrator if it happens again."
)
log = logging.getLogger("jiceng.import")


@dataclass
class Status:
    owner: str
    table: str
    file: str
    state: str = "running"  # running, done, failed, interrupted
    read: int = 0
    total: int | None = None
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    summary: dict[str, Any] | None = None
    problem: tuple[str, str] | None = None
    beat: float = field(default_factory=time.time)  # when the status was last written

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    @property
    def percent(self) -> int | None:
        return min(100, round(100 * self.read / self.total)) if self.total else None


def folder(root: Path, job: str) -> Path:
    if not job.isalnum():
        raise KeyError(job)
    return root / job


def read_status(root: Path, job: str) -> Status:
    """The job's status; ``KeyError`` when there is no such job."""
    try:
        data = json.loads((folder(root, job) / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise KeyError(job) from None
    if data.get("problem"):
        data["problem"] = tuple(data["problem"])
    status = Status(**data)
    if status.state == "running" and time.time() - status.beat > STALE:
        status.state, status.problem = "interrupted", both(INTERRUPTED)
    return status


def write_status(root: Path, job: str, status: Status) -> None:
    status.beat = time.time()
    target = folder(root, job) / "status.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(status), ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)


def estimate_rows(path: Path) -> int | None:
    """Data rows in the file, for the bar: lines of a CSV, the sheet's recorded size of an XLSX."""
    try:
        if path.suffix.lower() == ".xlsx":
            sheet = load_workbook(path, read_only=True).active
            return max((sheet.max_row or 1) - 1, 0) if sheet is not None else None
        with path.open("rb") as fh:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1, 0)
    except Exception:  # an unreadable file is reported by the import itself, with its reason
        return None


def start(
    root: Path,
    engine: Engine,
    settings: Settings,
    spec: TableSpec,
    upload: Path,
    *,
    owner: str,
    address: str,
    default_area: str | None,
    may_edit: Callable[[str], bool],
) -> str:
    """Move ``upload`` into a new job folder and import it in a thread; returns the job id."""
    _clean(root)
    job = secrets.token_hex(16)
    home = folder(root, job)
    home.mkdir(parents=True)
    ledger = home / upload.name
    shutil.move(upload, ledger)
    status = Status(owner=owner, table=spec.name, file=upload.name, total=estimate_rows(ledger))
    write_status(root, job, status)

    last_write = 0.0

    def progress(read: int) -> None:
        nonlocal last_write
        now = time.time()
        if now - last_write >= TICK:
            last_write = now
            status.read, status.seconds = read, now - status.started
            write_status(root, job, status)

    def run() -> None:
        try:
            summary = import_ledger(
                engine,
                spec,
                ledger,
                actor=owner,
                settings=settings,
                error_report=home / "errors.csv",
                default_area=default_area,
                progress=progress,
                may_edit=may_edit,
            )
        except LedgerError as error:
            status.state, status.problem = "failed", error.texts()
        except Exception as error:  # the database, the disk: the page must not keep waiting for it
            log.error(
                "import %s of %s failed: %s", job[:8], spec.name, type(error).__name__
            )  # no values: they may be personal
            status.state, status.problem = "failed", both(BROKEN)
        else:
            status.state, status.summary = "done", _summary(summary)
            status.read = summary.read
            _audit(engine, spec, owner, address, upload.name, summary)
        finally:
            ledger.unlink(missing_ok=True)
            status.seconds = time.time() - status.started
            write_status(root, job, status)

    threading.Thread(target=run, name=f"import-{job[:8]}", daemon=True).start()
    return job


def wait(root: Path, job: str, seconds: float) -> Status:
    """The status, waiting up to ``seconds`` for the job to finish (a small ledger's page shows its result at once)."""
    deadline = time.monotonic() + seconds
    status = read_status(root, job)
    while status.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = read_status(root, job)
    return status


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "read": summary.read,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "rejected": summary.rejected,
        "conflicts": summary.conflicts,
        "ignored_columns": list(summary.ignored_columns),
        "reasons": dict(summary.reasons.most_common(10)),
    }


def _audit(engine: Engine, spec: TableSpec, owner: str, address: str, name: str, summary: Summary) -> None:
    detail = {"file": name, **{k: getattr(summary, k) for k in ("read", "inserted", "updated", "rejected")}}
    with Session(engine) as session, session.begin():
        audit.record(
            session, actor=owner, action="records.import", target_type=spec.name, address=address, detail=detail
        )


def _clean(root: Path) -> None:
    """Remove finished jobs older than :data:`KEEP`, their error reports with them."""
    if not root.is_dir():
        return
    cutoff = time.time() - KEEP
    for home in root.iterdir():
        if home.is_dir() and home.stat().st_mtime < cutoff:
            shutil.rmtree(home, ignore_errors=True)
