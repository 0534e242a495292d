"""Per-request locale: the ``lang`` cookie, else Accept-Language, else the configured default."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from jiceng.core.i18n import normalize_locale, reset_locale, set_locale

LANG_COOKIE = "lang"


def pick_locale(headers: Headers, default: str) -> str:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == LANG_COOKIE and normalize_locale(value):
            return normalize_locale(value)  # type: ignore[return-value]
    for item in headers.get("accept-language", "").split(","):
        found = normalize_locale(item.split(";")[0].strip())
        if found:
            return found
    return default


class LocaleMiddleware:
    """Pure ASGI so the locale context variable is visible to the endpoint and its templates."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = pick_locale(Headers(scope=scope), self.default)
        scope.setdefault("state", {})["locale"] = locale
        token = set_locale(locale)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_locale(token)
