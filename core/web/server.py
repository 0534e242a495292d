"""The uvicorn factory: ``uvicorn --factory jiceng.core.web.server:build``; reads ``$JICENG_CONFIG``."""

from fastapi import FastAPI

from jiceng.core.config import load_settings
from jiceng.core.web.app import create_app


def build() -> FastAPI:
    return create_app(load_settings())
