"""The error handlers: every failure answers in the contract's envelope.

Domain code raises `server.errors.AppError`s; only these handlers format them. Anything that is not
an AppError, a pydantic ValidationError or an HTTPException is a bug: it is logged and answered with
a 500 in the envelope.

DOMAIN.md: none: web glue.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from server import metrics
from server.errors import (
    AppError,
    ForbiddenError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestValidationError,
    ServiceUnavailableError,
    UnauthorizedError,
)

log = logging.getLogger(__name__)


def _json(error: AppError) -> tuple[Response, int]:
    metrics.count_error(error)
    response = jsonify(error.envelope())
    if isinstance(error, RateLimitedError) and "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response, error.status


def _validation_details(exc: ValidationError) -> dict[str, Any]:
    # Never echo the input back: it may hold a password or an ID number.
    return {
        "errors": [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
    }


_HTTP_TO_ERROR: dict[int, type[AppError]] = {
    400: RequestValidationError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
    415: RequestValidationError,
    429: RateLimitedError,
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> tuple[Response, int]:
        if exc.status >= 500:
            log.warning("refused: %s", exc.code)
        return _json(exc)

    @app.errorhandler(ValidationError)
    def _pydantic(exc: ValidationError) -> tuple[Response, int]:
        return _json(RequestValidationError(**_validation_details(exc)))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        cls = _HTTP_TO_ERROR.get(exc.code or 500)
        if cls is None:
            log.error("unmapped HTTP error %s", exc.code)
            return _json(AppError())
        return _json(cls())

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> tuple[Response, int]:
        # The database cannot be reached (down, restarted, overloaded): refuse, never guess.
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return _json(ServiceUnavailableError(dependency="database"))

    @app.errorhandler(PoolTimeoutError)
    def _pool_exhausted(exc: PoolTimeoutError) -> tuple[Response, int]:
        # Every connection is held (a frozen database): refuse within the pool timeout.
        log.warning("database pool exhausted")
        return _json(ServiceUnavailableError(dependency="database"))

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> tuple[Response, int]:
        # The type and where it happened, never the message: a driver's message may quote the
        # statement's parameters (names, ID numbers). The formatter adds the request id.
        log.error(
            "unhandled error",
            extra={
                "error": type(exc).__name__,
                "where": "".join(traceback.format_tb(exc.__traceback__)[-3:]),
            },
        )
        return _json(AppError())
