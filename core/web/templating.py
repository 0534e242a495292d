"""Jinja2 for the portal: autoescaped, with the translation function and the locale in every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from jiceng.core import __version__
from jiceng.core.i18n import _, current_locale

TEMPLATES = Path(__file__).with_name("templates")


def make_environment() -> Environment:
    """The portal's environment; plugins will add their namespaced folders to the loader."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES)]), autoescape=select_autoescape(), auto_reload=False
    )
    env.globals.update(_=_, current_locale=current_locale, version=__version__)
    return env


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    env: Environment = request.app.state.templates
    html = env.get_template(name).render(
        request=request, caller=getattr(request.state, "caller", None), **(context or {})
    )
    return HTMLResponse(html, status_code=status_code)
