"""Request parsing and role checks, shared by every blueprint.

`parse(Model)` turns the JSON body into a pydantic model (unknown fields refused, strict types);
`role_required(...)` admits only a valid access token of one of the roles; `documented(...)`
records the models of a view for /openapi.json, so the spec comes from the validating models.

DOMAIN.md: none: web glue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from flask import request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from pydantic import BaseModel, ConfigDict, Field

from server.errors import (
    ForbiddenError,
    HeadersTooLargeError,
    RequestValidationError,
    UriTooLongError,
)

# Bounds on what reaches pydantic and the database (issue 10, finding 6): no body of ours nests
# deeper than a few levels, and PostgreSQL refuses a NUL in text (a 500 before this check).
MAX_JSON_DEPTH = 32
NUL = "\x00"

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


# A person as the phone names them against the roster (activation, binding, filing).
IdNumber = Annotated[str, Field(min_length=18, max_length=18)]
PersonName = Annotated[str, Field(min_length=1, max_length=64)]


class Schema(BaseModel):
    """Base of every request model: unknown fields are refused and types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Answer(BaseModel):
    """Base of response models (documentation and shaping of answers)."""

    model_config = ConfigDict(extra="forbid")


def parse(model: type[M]) -> M:
    """The JSON body as `model`.

    VALIDATION_ERROR for a body that is not a JSON object, nests deeper than MAX_JSON_DEPTH or
    holds a NUL character anywhere, before any of it reaches a model or the database.
    """
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the decoder itself can go
        data = None
    if not isinstance(data, dict):
        raise RequestValidationError("The body must be a JSON object")
    check_json(data)
    return model.model_validate(data)


def check_json(data: object) -> None:
    """VALIDATION_ERROR when `data` nests deeper than MAX_JSON_DEPTH or holds a NUL character."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                raise RequestValidationError("Text may not contain a NUL character")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise RequestValidationError(f"The body nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)


def parse_query(model: type[M]) -> M:
    """The query string as `model` (values arrive as text, so the model converts them)."""
    return model.model_validate(request.args.to_dict(), strict=False)


# The request line and headers the app accepts; gunicorn.conf.py lets a little more through so
# that these answers come in the envelope (gunicorn's own refusals past its limits are HTML).
MAX_REQUEST_LINE_BYTES = 4094
MAX_HEADERS = 100
MAX_HEADER_BYTES = 8190


def refuse_oversized_request() -> None:
    """URI_TOO_LONG (414) or HEADERS_TOO_LARGE (431) past the limits above (a before_request
    hook). Counted on the WSGI environ, as werkzeug's `request.headers` lists it (each `HTTP_*`
    key but HTTP_CONTENT_TYPE/LENGTH, and a non-empty CONTENT_TYPE/LENGTH), without building
    the list: an ASCII header's name is as long as its key less `HTTP_`."""
    env = request.environ
    target = env.get("RAW_URI") or (
        env.get("PATH_INFO", "") + ("?" + env["QUERY_STRING"] if env.get("QUERY_STRING") else "")
    )
    # Latin-1 (WSGI's strings) is one byte a character, and "replace" puts one "?" for any other.
    line_bytes = (
        len(request.method) + 1 + len(target) + 1 + len(env.get("SERVER_PROTOCOL", "HTTP/1.1"))
    )
    if line_bytes > MAX_REQUEST_LINE_BYTES:
        raise UriTooLongError()
    count = 0
    longest = 0
    for key, value in env.items():
        if key.startswith("HTTP_"):
            if key == "HTTP_CONTENT_TYPE" or key == "HTTP_CONTENT_LENGTH":
                continue
            name = len(key) - 5 if key.isascii() else len(key[5:].replace("_", "-").title())
            size = name + 2 + len(value)
        elif (key == "CONTENT_TYPE" or key == "CONTENT_LENGTH") and value:
            size = len(key) + 2 + len(value)
        else:
            continue
        count += 1
        longest = max(longest, size)
    if count > MAX_HEADERS:
        raise HeadersTooLargeError(limit=MAX_HEADERS)
    if longest > MAX_HEADER_BYTES:
        raise HeadersTooLargeError(limit_bytes=MAX_HEADER_BYTES)


def refuse_nul_in_url() -> None:
    """VALIDATION_ERROR for a NUL in the path or the query string (a before_request hook).

    The decoded path and arguments are read only when the raw ones could hold a NUL: PATH_INFO
    is already decoded, and a NUL in a decoded argument comes from a literal NUL or a `%00`."""
    env = request.environ
    query = env.get("QUERY_STRING", "")
    if NUL not in env.get("PATH_INFO", "") and NUL not in query and "%00" not in query:
        return
    if NUL in request.path or any(NUL in k or NUL in v for k, v in request.args.items(multi=True)):
        raise RequestValidationError("The address may not contain a NUL character")


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Admit only an access token whose role is one of `roles` (403 for another role)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_jwt_in_request()
            if get_jwt().get("role") not in roles:
                raise ForbiddenError(f"This call is for the {' or '.join(roles)} role")
            return view(*args, **kwargs)

        wrapper.__openapi_roles__ = roles  # type: ignore[attr-defined]
        return wrapper

    return decorate


def refresh_required(view: Callable[P, R]) -> Callable[P, R]:
    """Admit only a refresh token (POST /api/v1/auth/refresh)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        verify_jwt_in_request(refresh=True)
        return view(*args, **kwargs)

    wrapper.__openapi_roles__ = ("user (refresh token)",)  # type: ignore[attr-defined]
    return wrapper


def documented(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    answer: type[BaseModel] | None = None,
    status: int = 200,
    summary: str | None = None,
    content_type: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Attach the request and answer models of a view, for /openapi.json."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        view.__openapi__ = {  # type: ignore[attr-defined]
            "body": body,
            "query": query,
            "answer": answer,
            "status": status,
            "summary": summary,
            "content_type": content_type,
        }
        return view

    return decorate


def claims() -> dict[str, Any]:
    return dict(get_jwt())


def current_user_id() -> int:
    return int(get_jwt()["sub"])
