"""A revoked terminal cannot settle or refund (issue 14): POST /settlements and POST
/settlements/<id>/refund read the terminal's own row first (in ec_settle / ec_refund on
PostgreSQL, in the Python reference on SQLite), instead of the token check asking the store, and
refuse a revoked terminal with the same TOKEN_REVOKED, having written nothing, also when the
store has lost its mark; it is not even told that an order it settled before was settled."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.credentials.models import ScanToken
from server.db.models import AuditEvent
from server.institutions.terminals import revoked_key
from server.ledger.models import JournalTransaction
from server.settlement.models import Settlement, SettlementRefund
from tests.actors import Clerk, error_code
from tests.api.money_steps import (
    balance,
    card_bill,
    ecredential_bill,
    insured_with_money,
    scan_token,
    till,
)


def _written(app: Flask) -> tuple[int, ...]:
    """Settlements, refunds, journal transactions, audit rows and used scan tokens."""
    with app.extensions["wiring"].db.engine.connect() as conn:
        return tuple(
            int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)
            for table, where in (
                (Settlement, ()),
                (SettlementRefund, ()),
                (JournalTransaction, ()),
                (AuditEvent, ()),
                (ScanToken, (ScanToken.used_at.is_not(None),)),
            )
        )


def _revoke(app: Flask, clerk: Clerk, terminal_id: str, *, mark_lost: bool) -> None:
    assert clerk.post(f"/terminals/{terminal_id}/revoke").status_code == 200
    if mark_lost:  # the store's mark gone (a Redis restarted empty): the row still says revoked
        app.extensions["wiring"].store.delete(revoked_key(terminal_id))


@pytest.mark.parametrize("mark_lost", [False, True], ids=["marked", "mark lost"])
def test_a_revoked_terminal_cannot_settle_and_the_scan_token_stays_unused(
    app: Flask, client: FlaskClient, clerk: Clerk, mark_lost: bool
) -> None:
    t = till(clerk, "H901")
    p = insured_with_money(client, clerk, "赵一", "13900000901", 50_000)
    token = scan_token(t, p.phone)
    _revoke(app, clerk, t.terminal_id, mark_lost=mark_lost)
    before = _written(app)

    for bill in (
        ecredential_bill(token, total_fen=10_000, fund_fen=7_000),
        card_bill(p.card_no, total_fen=5_000, fund_fen=4_000, scene="registration"),
        ecredential_bill(token, total_fen=10_000, fund_fen=None),  # type: ignore[arg-type]
    ):
        r = t.post("/settlements", bill)
        assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", r.get_json()
    assert _written(app) == before  # no settlement, no money, the scan token unused
    assert balance(p) == 50_000


@pytest.mark.parametrize("mark_lost", [False, True], ids=["marked", "mark lost"])
def test_a_revoked_terminal_is_not_told_the_replay_of_its_own_order_nor_can_refund_it(
    app: Flask, client: FlaskClient, clerk: Clerk, mark_lost: bool
) -> None:
    t = till(clerk, "H902")
    p = insured_with_money(client, clerk, "钱二", "13900000902", 50_000)
    bill = card_bill(p.card_no, total_fen=5_000, fund_fen=4_000, scene="registration")
    r = t.post("/settlements", bill)
    assert r.status_code == 201, r.get_json()
    settlement_id = r.get_json()["settlement_id"]
    _revoke(app, clerk, t.terminal_id, mark_lost=mark_lost)
    before = _written(app)

    r = t.post("/settlements", bill)  # the same body: a live terminal would get the replay (200)
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", r.get_json()
    r = t.post(f"/settlements/{settlement_id}/refund")
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", r.get_json()
    r = t.post("/settlements/no-such-settlement/refund")
    assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", r.get_json()
    assert _written(app) == before
    assert balance(p) == 50_000 - 1_000  # still settled, not refunded


def test_a_revoked_terminal_sending_nonsense_to_settle_is_still_told_its_token_is_revoked(
    clerk: Clerk,
) -> None:
    t = till(clerk, "H903")
    assert clerk.post(f"/terminals/{t.terminal_id}/revoke").status_code == 200
    bodies: list[Any] = [
        {"order_no": "X"},
        card_bill("C-none", total_fen=0, fund_fen=0),
        card_bill("C-none", total_fen=100, fund_fen=200),
    ]
    for body in bodies:
        r = t.post("/settlements", body)
        assert r.status_code == 401 and error_code(r) == "TOKEN_REVOKED", (body, r.get_json())
    # A live terminal sending the same gets the body's own errors.
    live = till(clerk, "H904")
    assert error_code(live.post("/settlements", bodies[0])) == "VALIDATION_ERROR"
    assert error_code(live.post("/settlements", bodies[1])) == "INVALID_AMOUNT"
    assert error_code(live.post("/settlements", bodies[2])) == "INVALID_AMOUNT"
