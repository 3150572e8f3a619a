"""One transaction, retried whole on a deadlock or serialization failure.

A lost database (connection refused, reset) is SERVICE_UNAVAILABLE: nothing was done.

DOMAIN.md: none: storage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from server.errors import ServiceUnavailableError

T = TypeVar("T")

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig):
            return True
    return False


def run_in_transaction(s: Session, work: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run `work` in one transaction, retrying it whole on a deadlock or serialization failure.

    `work` must only touch the database: it is re-run from the start on a retry.
    """

    def once() -> T:
        with s.begin():
            return work(s)

    return retrying(once, s.rollback, attempts=attempts)


def retrying(once: Callable[[], T], rollback: Callable[[], None], *, attempts: int = 5) -> T:
    """`once()` (one transaction, or one statement in autocommit), re-run after `rollback()` on a
    deadlock or serialization failure; a lost database is SERVICE_UNAVAILABLE."""
    for attempt in range(1, attempts + 1):
        try:
            return once()
        except DBAPIError as exc:
            rollback()
            if attempt < attempts and is_retryable(exc):
                time.sleep(0.005 * attempt)
                continue
            if isinstance(exc, OperationalError) and not is_retryable(exc):
                raise ServiceUnavailableError() from exc
            raise
    raise AssertionError("unreachable")
