"""The till looks a settlement up by its order number (the counter page's 订单号 field)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.actors import Clerk, error_code
from tests.api.money_steps import card_bill, insured_with_money, till


def test_a_settlement_is_found_by_its_order_number_with_its_refund(
    client: FlaskClient, clerk: Clerk
) -> None:
    insured = insured_with_money(client, clerk, "赵敏", "13900000021", 10_000)
    terminal = till(clerk)
    r = terminal.post(
        "/settlements",
        card_bill(
            insured.card_no,
            total_fen=3_000,
            fund_fen=1_000,
            order_no="A-1",
            payment_password=insured.password,
        ),
    )
    assert r.status_code == 201, r.get_json()
    settlement_id = r.get_json()["settlement_id"]

    found = terminal.get("/settlements/by-order/A-1")
    assert found.status_code == 200
    assert found.get_json()["settlement_id"] == settlement_id
    assert found.get_json()["status"] == "settled"

    assert terminal.post(f"/settlements/{settlement_id}/refund").status_code == 200
    assert terminal.get("/settlements/by-order/A-1").get_json()["status"] == "refunded"


def test_another_institutions_order_number_is_not_found(client: FlaskClient, clerk: Clerk) -> None:
    insured = insured_with_money(client, clerk, "钱多", "13900000022", 10_000)
    ours = till(clerk, "H001")
    theirs = till(clerk, "H002")
    r = ours.post(
        "/settlements",
        card_bill(
            insured.card_no,
            total_fen=500,
            fund_fen=0,
            order_no="B-1",
            payment_password=insured.password,
        ),
    )
    assert r.status_code == 201, r.get_json()
    assert error_code(theirs.get("/settlements/by-order/B-1")) == "NOT_FOUND"
    assert error_code(ours.get("/settlements/by-order/NOPE")) == "NOT_FOUND"


def test_an_order_number_outside_the_settlement_rule_is_a_validation_error(
    client: FlaskClient, clerk: Clerk
) -> None:
    terminal = till(clerk)
    assert error_code(terminal.get("/settlements/by-order/" + "x" * 65)) == "VALIDATION_ERROR"


def test_a_phone_cannot_look_settlements_up(client: FlaskClient, clerk: Clerk) -> None:
    insured = insured_with_money(client, clerk, "孙悦", "13900000023", 0)
    assert insured.phone.get("/terminal/settlements/by-order/A-1").status_code == 403
