"""The notices page and API; every route sits behind the platform's guard for this scenario."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from jiceng.scenarios.notices.models import Notice
from jiceng.sdk import ScenarioContextDep, scenario_error

pages = APIRouter()
api = APIRouter()


class NoticeIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1)


class NoticeOut(BaseModel):
    id: int
    title: str
    body: str
    author: str


def town_notices(ctx: ScenarioContextDep) -> list[Notice]:
    assert ctx.town is not None
    return ctx.store.select(Notice, Notice.town_code == ctx.town.code, order_by=Notice.id.desc(), limit=50)  # type: ignore[union-attr]


@pages.get("/", response_class=HTMLResponse)
def index(ctx: ScenarioContextDep) -> HTMLResponse:
    return ctx.render("notices/index.html", {"notices": town_notices(ctx), "can_publish": ctx.can("notices:publish")})


@api.get("/notices", response_model=list[NoticeOut])
def list_notices(ctx: ScenarioContextDep) -> list[NoticeOut]:
    return [NoticeOut.model_validate(n, from_attributes=True) for n in town_notices(ctx)]


@api.post("/notices", response_model=NoticeOut, status_code=201)
def publish(body: NoticeIn, ctx: ScenarioContextDep) -> NoticeOut:
    ctx.require("notices:publish")
    assert ctx.town is not None and ctx.user is not None
    limit = ctx.settings.max_length if ctx.settings else 2000  # type: ignore[attr-defined]
    if len(body.body) > limit:
        raise scenario_error(
            422, "too_long", f"通知正文不能超过 {limit} 个字符。", f"The notice body may not exceed {limit} characters."
        )
    signature = ctx.settings.signature if ctx.settings else ""  # type: ignore[attr-defined]
    notice = Notice(
        town_code=ctx.town.code,
        title=body.title,
        body=body.body + (f"\n\n{signature}" if signature else ""),
        author=ctx.user.username,
    )
    ctx.store.add(notice)
    ctx.store.commit()
    return NoticeOut.model_validate(notice, from_attributes=True)
