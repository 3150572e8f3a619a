"""A settlement or a refund the database refused (here its lock timeout: another transaction
holds a row it must lock) is SERVICE_UNAVAILABLE, "nothing was done", on the one-call path
(`ec_settle`, `ec_refund`) as on the Python reference: the server answered with an error, the
call rolled back. Only a connection that dies while the call runs is OUTCOME_UNKNOWN
(tests/service/test_refund_call.py). Nothing is written, and the same order settles (and the same
settlement refunds) once the row is free. Each refusal waits out the 2 s lock timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import text

from server.settlement.rules import Scene
from tests.service.settle_worlds import Bill, World, fresh, refund, rows, settle, unit

pytestmark = pytest.mark.postgres

PLAIN = World("3", "employee", "张三", True, 100_000, 1_000_000, "active", None, ())
BILL = Bill(Scene.REGISTRATION, 5_000, 4_000, (0, 0, 0), False)
SETTLEMENT_ID = "00000000-0000-0000-0000-000000000001"


@contextmanager
def locked(app: Flask, statement: str) -> Iterator[None]:
    """A row locked by another transaction for as long as the block runs."""
    with app.extensions["wiring"].db.engine.connect() as conn:
        conn.execute(text(statement))
        try:
            yield
        finally:
            conn.rollback()


@pytest.mark.parametrize("one_call", [True, False], ids=["ec_settle", "reference"])
def test_a_settlement_the_database_refused_is_service_unavailable_and_wrote_nothing(
    app: Flask, one_call: bool
) -> None:
    fresh(app, PLAIN)
    before = rows(app)
    with unit(app, PLAIN, one_call=one_call) as uow:
        with locked(app, "SELECT 1 FROM accounts WHERE person_id = 1 FOR UPDATE"):
            refused = settle(uow, BILL, order_no="O1", settlement_uuid=1)
        assert refused[:2] == ("refused", "SERVICE_UNAVAILABLE"), refused
        assert rows(app) == before
        again = settle(uow, BILL, order_no="O1", settlement_uuid=1)
    assert again[:2] == ("settled", False), again


@pytest.mark.parametrize("one_call", [True, False], ids=["ec_refund", "reference"])
def test_a_refund_the_database_refused_is_service_unavailable_and_wrote_nothing(
    app: Flask, one_call: bool
) -> None:
    fresh(app, PLAIN)
    with unit(app, PLAIN, one_call=one_call) as uow:
        assert settle(uow, BILL, order_no="O1", settlement_uuid=1)[0] == "settled"
        before = rows(app)
        with locked(app, "SELECT 1 FROM settlements FOR UPDATE"):  # the one settlement
            refused = refund(uow, SETTLEMENT_ID)
        assert refused[:2] == ("refused", "SERVICE_UNAVAILABLE"), refused
        assert rows(app) == before
        assert refund(uow, SETTLEMENT_ID)[0] == "refunded"
