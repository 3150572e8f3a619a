"""Structured JSON logs with a request id; ID and phone numbers masked in every line.

Every record goes through `RedactingJsonFormatter`: the message and the extra fields are passed
through privacy.redact, and fields named like secrets are dropped, so a careless log call cannot
leak a full ID number, a password, a code or a token.

The access line (one per request, logger `server.access`) is the same JSON object the formatter
would write for it (`ts`, `level`, `logger`, `msg` = "METHOD path status" redacted, `request_id`,
`status`, `ms`), but built here from a fixed format and written straight to the handler that
`configure_logging` installs: a LogRecord and the formatter's walk over its attributes cost about
five times the line itself (issue 14), on every route. It is written only when `server.access`
is enabled for INFO and logging was configured (wsgi.py), as before. This module also keeps the
request's start time (`g.request_started`), which server/metrics.py reads.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request

from server.audit import request_id_var
from server.privacy import redact

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_WORDS = ("password", "secret", "token", "code", "seed", "key", "authorization")


class RedactingJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                continue
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


_ACCESS = logging.getLogger("server.access")
# The handler configure_logging installed: the access line is written to it directly.
_handler: logging.StreamHandler[Any] | None = None


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """JSON lines on `stream` (stderr by default) for every logger, the access line included."""
    global _handler
    handler: logging.StreamHandler[Any] = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    _handler = handler
    # Werkzeug's access log prints raw paths (which may hold an ID number): ours replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


# json.dumps with a keyword builds a new encoder on every call; the access line's one is made once.
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode


def access_line(
    *, at: float, method: str, path: str, status: int, ms: float, request_id: str
) -> str:
    """The access line's JSON, as RedactingJsonFormatter writes a record with `status` and `ms`
    extras (`request_id` is the checked one of `_start`: letters, digits and dashes)."""
    ts = datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds")
    msg = _JSON_TEXT(redact(f"{method} {path} {status}"))
    return (
        f'{{"ts": "{ts}", "level": "INFO", "logger": "server.access", "msg": {msg}, '
        f'"request_id": "{request_id}", "status": {status}, "ms": {ms!r}}}'
    )


def _write_access(handler: logging.StreamHandler[Any], line: str) -> None:
    handler.acquire()
    try:
        handler.stream.write(line + handler.terminator)
        handler.flush()
    except Exception:  # as Handler.emit: a broken log stream never fails the request
        handler.handleError(logging.makeLogRecord({"msg": "access line not written"}))
    finally:
        handler.release()


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        rid = request.environ.get("HTTP_X_REQUEST_ID", "")
        if not (0 < len(rid) <= 64 and rid.replace("-", "").isalnum()):
            rid = uuid.uuid4().hex
        g.request_id = rid
        g.request_id_token = request_id_var.set(rid)

    @app.after_request
    def _finish(response: Response) -> Response:
        rid: str = g.get("request_id", "")
        response.headers["X-Request-ID"] = rid
        started: float | None = g.get("request_started")
        handler = _handler
        if handler is not None and _ACCESS.isEnabledFor(logging.INFO):
            ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
            _write_access(
                handler,
                access_line(
                    at=time.time(),
                    method=request.method,
                    path=request.path,
                    status=response.status_code,
                    ms=round(ms, 2),
                    request_id=rid,
                ),
            )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        tok = g.pop("request_id_token", None)
        if tok is not None:
            request_id_var.reset(tok)
