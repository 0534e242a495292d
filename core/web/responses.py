"""JSON answers encoded in the route's own thread.

FastAPI validates and encodes the value a *sync* route returns against its
return annotation in a second trip to the thread pool; a route answering at
a high rate (event intake) returns a ready :class:`Response` instead. The
encoding is pydantic's, the same FastAPI would use for ``dict[str, Any]``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import TypeAdapter

_encode = TypeAdapter(dict[str, Any]).dump_json


def json_answer(payload: dict[str, Any], status_code: int = 200) -> Response:
    return Response(_encode(payload), status_code=status_code, media_type="application/json")
