"""One transaction, retried whole on a deadlock or serialization failure.

A lost database before the commit (connection refused, reset, a statement or lock timeout) is
SERVICE_UNAVAILABLE: nothing was done. A connection that dies during the COMMIT itself leaves the
outcome unknown (the server may have committed before the answer was lost): that is
OUTCOME_UNKNOWN, which asks the till to repeat the same order_no (idempotent) to learn it.

DOMAIN.md: none: storage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from server.errors import OutcomeUnknownError, ServiceUnavailableError

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
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            tx = s.begin()
            try:
                result = work(s)
            except BaseException:
                tx.rollback()
                raise
            committing = True
            tx.commit()
            return result
        except DBAPIError as exc:
            _forget(s)
            if attempt < attempts and is_retryable(exc):
                time.sleep(0.005 * attempt)
                continue
            if is_retryable(exc):
                raise ServiceUnavailableError() from exc
            if isinstance(exc, OperationalError | InterfaceError):
                if committing:  # the COMMIT was sent; its answer was lost
                    raise OutcomeUnknownError() from exc
                raise ServiceUnavailableError() from exc
            raise
    raise AssertionError("unreachable")


def _forget(s: Session) -> None:
    """Roll back what is left of the transaction; a dead connection is dropped from the pool."""
    try:
        s.rollback()
    except SQLAlchemyError:  # the connection is gone, or the COMMIT went through
        s.close()


def retrying(once: Callable[[], T], rollback: Callable[[], None], *, attempts: int = 5) -> T:
    """`once()` (one statement in autocommit, e.g. a scan's write), re-run after `rollback()` on a
    deadlock or serialization failure; a lost database is SERVICE_UNAVAILABLE (a scan moves no
    money, and its code is already claimed, so a repeat cannot count twice)."""
    for attempt in range(1, attempts + 1):
        try:
            return once()
        except DBAPIError as exc:
            rollback()
            if attempt < attempts and is_retryable(exc):
                time.sleep(0.005 * attempt)
                continue
            if is_retryable(exc) or isinstance(exc, OperationalError | InterfaceError):
                raise ServiceUnavailableError() from exc
            raise
    raise AssertionError("unreachable")
