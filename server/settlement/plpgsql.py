"""What the PL/pgSQL calls beside this package share (ec_settle.sql, ec_refund.sql).

`statements` is the one reader of their SQL files: each statement starts at its
`-- statement: <name>` line and ends at the `$fn$` line that closes its body; the comments
between statements are not sent. `app_error` turns a function's `RAISE` back into the contract
error it names; `autocommit` lends a pooled connection for one statement in autocommit (one round
trip, one transaction).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from server.errors import AppError, all_error_classes

_STATEMENT = re.compile(r"^-- statement: (\w+)\n(.*?^\$fn\$\n)", re.MULTILINE | re.DOTALL)
_ERRORS: dict[str, type[AppError]] = {cls.code: cls for cls in all_error_classes()}
# A deadlock or a serialization failure: the statement rolled back whole, it may run again.
RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def statements(path: Path) -> dict[str, str]:
    """The file's statements by name, in file order."""
    text = path.read_text(encoding="utf-8")
    return {name: "\n" + body for name, body in _STATEMENT.findall(text)}


def app_error(exc: psycopg.errors.RaiseException, function: str) -> Exception:
    """The contract error the function raised (its message is the code, its hint the human
    message, its detail the `reason`), else a ValueError naming the function (a bug)."""
    diag = exc.diag
    cls = _ERRORS.get(diag.message_primary or "")
    if cls is None:
        return ValueError(f"{function}: {diag.message_primary}")
    details = {"reason": diag.message_detail} if diag.message_detail else {}
    return cls(diag.message_hint, **details)


def connection_lost(exc: psycopg.Error) -> bool:
    """Whether the connection itself failed (no answer from the server: a call sent may have
    committed), as opposed to the server refusing the statement (a statement or lock timeout, a
    cancel, a shutdown: it answered with an error, the call rolled back, nothing committed).
    ec_settle's and ec_refund's callers tell OUTCOME_UNKNOWN from SERVICE_UNAVAILABLE by it."""
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and (
        exc.sqlstate is None and not isinstance(exc, RETRYABLE)
    )


class autocommit:  # noqa: N801 (a context manager, used as a function)
    """A pooled connection's psycopg connection in autocommit: one statement, one round trip.

    A connection that failed is never put back into the pool.
    """

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()

    def __enter__(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = self._raw.driver_connection  # type: ignore[assignment]
        self._conn = conn
        try:
            conn.autocommit = True
        except psycopg.Error:
            self._raw.invalidate()  # a connection that fails here never goes back either
            self._raw.close()
            raise
        return conn

    def __exit__(self, kind: object, exc: object, _tb: object) -> None:
        if self._conn.closed or self._conn.broken:
            self._raw.invalidate()  # the connection is gone: never back into the pool
            self._raw.close()
            return  # the caller tells "nothing done" from "outcome unknown"
        self._conn.autocommit = False
        self._raw.close()
