"""A connection lost during COMMIT is OUTCOME_UNKNOWN; one lost before it is SERVICE_UNAVAILABLE.

Issue 10, finding 5: a settlement committed while the request answered 503 SERVICE_UNAVAILABLE,
whose contract meaning is "nothing was done", so a till could settle the bill a second way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.db.models import Institution
from server.db.transaction import run_in_transaction
from server.errors import OutcomeUnknownError, ServiceUnavailableError


def lost(_session: Session | None = None) -> None:
    raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))


def add_institution(code: str):
    def work(s: Session) -> None:
        s.add(Institution(code=code, name="医院", kind="hospital", created_at=datetime.now(UTC)))

    return work


def count(app, code: str) -> int:
    with app.extensions["wiring"].db.sessions() as s:
        return int(s.scalar(select(func.count()).where(Institution.code == code)))


def test_a_connection_lost_during_commit_is_outcome_unknown(app):
    session = app.extensions["wiring"].db.sessions()
    event.listen(session, "after_commit", lost)  # committed, then the answer was lost
    with pytest.raises(OutcomeUnknownError) as info:
        run_in_transaction(session, add_institution("H-COMMIT"))
    session.close()
    assert info.value.status == 503
    assert "order_no" in info.value.message
    assert count(app, "H-COMMIT") == 1  # it did commit: "nothing was done" would have lied


def test_a_connection_lost_before_commit_is_service_unavailable(app):
    session = app.extensions["wiring"].db.sessions()

    def work(s: Session) -> None:
        add_institution("H-BEFORE")(s)
        s.flush()
        lost()

    with pytest.raises(ServiceUnavailableError):
        run_in_transaction(session, work)
    session.close()
    assert count(app, "H-BEFORE") == 0
