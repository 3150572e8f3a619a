"""Settling with the e-credential (医保码): scanned once, no password except at discharge,
and family mutual aid filed through the app."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.actors import Clerk, error_code
from tests.api.money_steps import (
    balance,
    card_bill,
    ecredential_bill,
    insured_with_money,
    scan_token,
    till,
)


def test_an_outpatient_bill_with_the_code_needs_no_password(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "李明", "13900000001", 50000)
    r = t.post(
        "/settlements", ecredential_bill(scan_token(t, p.phone), total_fen=126092, fund_fen=88264)
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["password_checked"] is False
    assert r.get_json()["paid_from_accounts"] == [
        {"source": "self", "holder_masked": "李*", "amount_fen": 37828}
    ]
    assert balance(p) == 50000 - 37828


def test_a_scan_token_pays_one_order_but_a_retry_of_that_order_still_answers(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "张丽", "13900000002", 50000)
    token = scan_token(t, p.phone)
    bill = ecredential_bill(token, total_fen=5000, fund_fen=4000, scene="registration")
    first = t.post("/settlements", bill)
    assert first.status_code == 201, first.get_json()
    retry = t.post("/settlements", bill)
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    other_order = t.post("/settlements", ecredential_bill(token, total_fen=5000, fund_fen=4000))
    assert other_order.status_code == 422 and error_code(other_order) == "SCAN_TOKEN_INVALID"
    assert balance(p) == 49000


def test_a_scan_token_works_only_at_the_institution_that_scanned(
    client: FlaskClient, clerk: Clerk
) -> None:
    ours, theirs = till(clerk, "H001"), till(clerk, "H002")
    p = insured_with_money(client, clerk, "王芳", "13900000003", 50000)
    token = scan_token(ours, p.phone)
    r = theirs.post("/settlements", ecredential_bill(token, total_fen=5000, fund_fen=4000))
    assert error_code(r) == "SCAN_TOKEN_INVALID"
    assert (
        ours.post(
            "/settlements", ecredential_bill(token, total_fen=5000, fund_fen=4000)
        ).status_code
        == 201
    )


def test_inpatient_discharge_asks_the_password_even_with_the_code(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "赵强", "13900000004", 500000)
    token = scan_token(t, p.phone)
    bill = ecredential_bill(token, total_fen=302614, fund_fen=130854, scene="inpatient_discharge")
    r = t.post("/settlements", bill)
    assert r.status_code == 422 and error_code(r) == "PASSWORD_REQUIRED"
    assert balance(p) == 500000
    # the refused attempt did not use the token up
    r = t.post("/settlements", {**bill, "payment_password": p.password})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["password_checked"] is True
    assert balance(p) == 500000 - 171760


def test_while_the_password_is_locked_the_code_still_pays(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "钱伟", "13900000005", 50000)
    wrong = "111112" if p.password != "111112" else "111113"
    for _ in range(5):
        t.post(
            "/settlements",
            card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=wrong),
        )
    assert p.phone.get("/account").get_json()["password_locked_until"] is not None
    r = t.post(
        "/settlements", ecredential_bill(scan_token(t, p.phone), total_fen=126092, fund_fen=88264)
    )
    assert r.status_code == 201, r.get_json()
    assert balance(p) == 50000 - 37828


def test_filed_family_accounts_pay_after_the_patients_own_in_the_patients_order(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    father = insured_with_money(client, clerk, "蒋老汉", "13900000006", 10000)
    daughter = insured_with_money(client, clerk, "蒋小红", "13900000007", 20000)
    son = insured_with_money(client, clerk, "蒋小明", "13900000008", 50000)
    for child in (son, daughter):  # filed in this order; the father reorders below
        r = child.phone.file_beneficiary(father.spec, "parent")
        assert r.status_code == 201, r.get_json()
    sources = father.phone.sources()
    assert [s["relation"] for s in sources] == ["child", "child"]
    order = [s["source_id"] for s in reversed(sources)]  # daughter's account first
    assert father.phone.reorder_sources(order).status_code == 200

    r = t.post(
        "/settlements",
        ecredential_bill(scan_token(t, father.phone), total_fen=126092, fund_fen=88264),
    )
    assert r.status_code == 201, r.get_json()
    legs = [(leg["source"], leg["amount_fen"]) for leg in r.get_json()["paid_from_accounts"]]
    assert legs == [("self", 10000), ("child", 20000), ("child", 7828)]
    assert r.get_json()["cash_due_fen"] == 0
    assert (balance(father), balance(daughter), balance(son)) == (0, 0, 50000 - 7828)
    item = daughter.phone.get("/account/transactions").get_json()["items"][0]
    assert (item["kind"], item["amount_fen"]) == ("mutual_aid_out", 20000)
    settlement_id = r.get_json()["settlement_id"]
    assert t.post(f"/settlements/{settlement_id}/refund").status_code == 200
    assert (balance(father), balance(daughter), balance(son)) == (10000, 20000, 50000)
