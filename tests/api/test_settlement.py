"""Settlement at the till, refunds and the day's reconciliation, as a cashier and patient see them.

The card medium is used here (the code's own tests are in test_settlement_ecredential.py);
DOMAIN.md's worked examples are in fen.
"""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient

from tests.actors import Clerk, bearer, error_code
from tests.api.money_steps import (
    balance,
    card_bill,
    insured_with_money,
    issue_card,
    new_order_no,
    till,
)


def test_outpatient_bill_is_split_and_the_burden_paid_from_own_account(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "李明", "13900000001", 50000)
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["personal_burden_fen"] == 37828
    assert body["paid_from_accounts"] == [
        {"source": "self", "holder_masked": "李*", "amount_fen": 37828}
    ]
    assert body["cash_due_fen"] == 0
    assert body["password_checked"] is True
    assert balance(p) == 50000 - 37828


def test_what_the_account_cannot_cover_is_due_in_cash(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "张丽", "13900000002", 10000)
    r = t.post(
        "/settlements",
        card_bill(
            p.card_no,
            total_fen=302614,
            fund_fen=130854,
            scene="inpatient_discharge",
            payment_password=p.password,
        ),
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["personal_burden_fen"] == 171760
    assert body["paid_from_accounts"][0]["amount_fen"] == 10000
    assert body["cash_due_fen"] == 161760
    assert balance(p) == 0


def test_registration_fee_with_a_card_needs_no_password(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "王芳", "13900000003", 5000)
    r = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["password_checked"] is False
    assert balance(p) == 4000


def test_card_outpatient_without_the_password_is_refused_and_nothing_is_paid(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "赵强", "13900000004", 50000)
    bill = card_bill(p.card_no, total_fen=126092, fund_fen=88264)
    r = t.post("/settlements", bill)
    assert r.status_code == 422 and error_code(r) == "PASSWORD_REQUIRED"
    assert balance(p) == 50000
    # the same order, now with the password, goes through: the refusal used nothing up
    r = t.post("/settlements", {**bill, "payment_password": p.password})
    assert r.status_code == 201, r.get_json()


def test_a_wrong_password_at_the_till_counts_and_pays_nothing(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "钱伟", "13900000005", 50000)
    wrong = "000001" if p.password != "000001" else "000002"
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=wrong),
    )
    assert r.status_code == 403 and error_code(r) == "PAYMENT_PASSWORD_INVALID"
    assert r.get_json()["error"]["details"]["attempts_left"] == 4
    assert balance(p) == 50000


def test_a_burden_within_the_password_free_limit_needs_no_password(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "孙燕", "13900000006", 50000)
    r = p.phone.put(
        "/account/password-free-limit", {"limit_fen": 40000, "payment_password": p.password}
    )
    assert r.status_code == 200, r.get_json()
    r = t.post("/settlements", card_bill(p.card_no, total_fen=126092, fund_fen=88264))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["password_checked"] is False
    # above the limit the password is asked again
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=302614, fund_fen=130854, scene="inpatient_discharge"),
    )
    assert error_code(r) == "PASSWORD_REQUIRED"


def test_a_lost_card_is_refused_and_a_new_card_pays(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "周杰", "13900000007", 50000)
    assert clerk.post(f"/cards/{p.card_no}/report-lost").status_code == 200
    r = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    )
    assert r.status_code == 403 and error_code(r) == "CARD_REPORTED_LOST"
    new_card = issue_card(clerk, p.spec)
    assert new_card != p.card_no
    r = t.post(
        "/settlements", card_bill(new_card, total_fen=5000, fund_fen=4000, scene="registration")
    )
    assert r.status_code == 201, r.get_json()
    assert balance(p) == 49000


def test_an_unknown_card_is_not_found(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    r = t.post(
        "/settlements",
        card_bill("B000000000000", total_fen=5000, fund_fen=4000, scene="registration"),
    )
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"


def test_a_retried_order_answers_the_first_result_and_pays_once(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "吴敏", "13900000008", 50000)
    bill = card_bill(
        p.card_no,
        total_fen=84077,
        fund_fen=58854,
        scene="pharmacy_prescription",
        payment_password=p.password,
    )
    first = t.post("/settlements", bill)
    again = t.post("/settlements", bill)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert balance(p) == 50000 - 25223
    other = t.post("/settlements", {**bill, "total_fen": 84078})
    assert other.status_code == 409 and error_code(other) == "ORDER_NO_CONFLICT"
    assert balance(p) == 50000 - 25223


def test_the_same_order_number_at_another_institution_is_another_order(
    client: FlaskClient, clerk: Clerk
) -> None:
    a, b = till(clerk, "H001"), till(clerk, "H002")
    p = insured_with_money(client, clerk, "郑爽", "13900000009", 50000)
    bill = card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    assert a.post("/settlements", bill).status_code == 201
    assert b.post("/settlements", bill).status_code == 201
    assert balance(p) == 48000


@pytest.mark.parametrize(
    ("total", "fund", "scene", "status", "code"),
    [
        (5000, 5001, "outpatient", 422, "INVALID_AMOUNT"),
        (5000, -1, "outpatient", 422, "INVALID_AMOUNT"),
        (-5000, 0, "outpatient", 422, "INVALID_AMOUNT"),
        (0, 0, "outpatient", 422, "INVALID_AMOUNT"),
        (10**10, 0, "outpatient", 422, "INVALID_AMOUNT"),
        (84077, 58854, "pharmacy_self_purchase", 422, "INVALID_AMOUNT"),
        (50.5, 40, "outpatient", 400, "VALIDATION_ERROR"),
        ("5000", 4000, "outpatient", 400, "VALIDATION_ERROR"),
        (True, 0, "outpatient", 400, "VALIDATION_ERROR"),
        (5000, 4000, "surgery", 400, "VALIDATION_ERROR"),
    ],
)
def test_impossible_bills_are_refused_with_the_contract_codes(
    client: FlaskClient,
    clerk: Clerk,
    total: object,
    fund: object,
    scene: str,
    status: int,
    code: str,
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "冯涛", "13900000010", 50000)
    body = card_bill(p.card_no, total_fen=0, fund_fen=0, scene=scene, payment_password=p.password)
    r = t.post("/settlements", {**body, "total_fen": total, "fund_fen": fund})
    assert r.status_code == status and error_code(r) == code, r.get_json()
    assert balance(p) == 50000


@pytest.mark.parametrize(
    "change",
    [
        {"medium": "ecredential"},  # a card number with the e-credential medium
        {"scan_token": "abc"},  # both identities
        {"unexpected": 1},
        {"payment_password": "12345"},
    ],
)
def test_malformed_settlement_bodies_are_validation_errors(
    client: FlaskClient, clerk: Clerk, change: dict[str, object]
) -> None:
    t = till(clerk)
    body = {**card_bill("B000000000001", total_fen=5000, fund_fen=4000), **change}
    r = t.post("/settlements", body)
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_an_unknown_scan_token_is_scan_token_invalid(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    r = t.post(
        "/settlements",
        {
            "order_no": new_order_no(),
            "scene": "outpatient",
            "medium": "ecredential",
            "scan_token": "no-such-token",
            "total_fen": 5000,
            "fund_fen": 4000,
        },
    )
    assert r.status_code == 422 and error_code(r) == "SCAN_TOKEN_INVALID"


def test_only_terminals_settle(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "陈晨", "13900000011", 50000)
    r = client.post(
        "/api/v1/terminal/settlements",
        json=card_bill(p.card_no, total_fen=5000, fund_fen=4000),
        headers=bearer(clerk.token),
    )
    assert r.status_code == 403 and error_code(r) == "FORBIDDEN"
    r = p.phone.post("/terminal/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000))
    assert r.status_code == 403
    assert balance(p) == 50000


def test_a_refund_gives_every_fen_back_once(client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "褚红", "13900000012", 10000)
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    )
    settlement_id = r.get_json()["settlement_id"]
    assert r.get_json()["cash_due_fen"] == 27828
    assert balance(p) == 0
    r = t.post(f"/settlements/{settlement_id}/refund")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "refunded"
    assert balance(p) == 10000
    again = t.post(f"/settlements/{settlement_id}/refund")
    assert again.status_code == 409 and error_code(again) == "ALREADY_REFUNDED"
    assert balance(p) == 10000
    shown = t.get(f"/settlements/{settlement_id}").get_json()
    assert shown["status"] == "refunded" and shown["total_fen"] == 126092


def test_another_institution_neither_sees_nor_refunds_a_settlement(
    client: FlaskClient, clerk: Clerk
) -> None:
    ours, theirs = till(clerk, "H001"), till(clerk, "H002")
    p = insured_with_money(client, clerk, "卫东", "13900000013", 50000)
    r = ours.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    )
    settlement_id = r.get_json()["settlement_id"]
    assert error_code(theirs.get(f"/settlements/{settlement_id}")) == "NOT_FOUND"
    r = theirs.post(f"/settlements/{settlement_id}/refund")
    assert r.status_code == 404 and error_code(r) == "NOT_FOUND"
    assert balance(p) == 49000
    assert ours.get(f"/settlements/{settlement_id}").status_code == 200


def test_the_days_reconciliation_adds_up_and_its_digest_can_be_recomputed(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "沈阳", "13900000017", 30000)
    first = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    ).get_json()
    second = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    ).get_json()
    assert t.post(f"/settlements/{first['settlement_id']}/refund").status_code == 200
    r = t.get("/reconciliation?date=2026-11-24")
    assert r.status_code == 200, r.get_json()
    day = r.get_json()
    assert day["date"] == "2026-11-24" and day["institution_code"] == "H001"
    assert day["settlements"] == {
        "count": 2,
        "total_fen": 131092,
        "fund_fen": 92264,
        "personal_account_fen": 1000 + 29000,
        "mutual_aid_fen": 0,
        "cash_fen": 37828 - 29000,
    }
    assert day["refunds"] == {"count": 1, "amount_fen": 5000}
    lines = sorted(
        f"{s['settlement_id']}:{s['total_fen']}:{s['fund_fen']}:"
        f"{sum(x['amount_fen'] for x in s['paid_from_accounts'])}:0:{s['cash_due_fen']}\n"
        for s in (first, second)
    )
    assert day["digest"] == hashlib.sha256("".join(lines).encode()).hexdigest()
    other_day = t.get("/reconciliation?date=2026-11-23").get_json()
    assert other_day["settlements"]["count"] == 0 and other_day["refunds"]["count"] == 0
    for bad in ("2026-13-01", "0001-01-01", "9999-12-31", "yesterday"):
        assert error_code(t.get(f"/reconciliation?date={bad}")) == "VALIDATION_ERROR", bad


def test_every_settlement_answer_is_the_documented_one(client: FlaskClient, clerk: Clerk) -> None:
    """The answers are built as plain data on the hot path: they keep SettlementAnswer's shape
    (fresh, replayed, shown, refunded; with the fund's share given and computed)."""
    from server.terminal.routes import SettlementAnswer

    t = till(clerk)
    p = insured_with_money(client, clerk, "郑洁", "13900000014", 50000)
    given = card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password)
    computed = card_bill(p.card_no, total_fen=20000, fund_fen=0, payment_password=p.password)
    del computed["fund_fen"]  # the server computes the share and explains it in fund_detail
    for bill in (given, computed):
        first = t.post("/settlements", bill)
        assert first.status_code == 201, first.get_json()
        answer = SettlementAnswer.model_validate(first.get_json())
        assert (answer.fund_detail is None) == ("fund_fen" in bill)
        assert answer.model_dump() == first.get_json()
        settlement_id = answer.settlement_id
        again = t.post("/settlements", bill)
        shown = t.get(f"/settlements/{settlement_id}")
        refunded = t.post(f"/settlements/{settlement_id}/refund")
        for r in (again, shown, refunded):
            assert SettlementAnswer.model_validate(r.get_json()).model_dump() == r.get_json()
        assert refunded.get_json()["status"] == "refunded"
