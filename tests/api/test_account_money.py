"""The holder's account in the app: balance, statement, payment password, limit, premiums."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from server.clock import FrozenClock
from tests.actors import Clerk, PersonSpec, Phone, error_code
from tests.api.money_steps import balance, card_bill, credit, insured_with_money, till

STRONG = "739164"


def test_the_account_shows_balance_limit_and_no_lock(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "李明", "13900000001", 123456)
    r = p.phone.get("/account")
    assert r.get_json() == {
        "balance_fen": 123456,
        "password_free_limit_fen": 0,
        "password_locked_until": None,
    }


def test_an_account_before_activation_is_not_activated(client: FlaskClient, clerk: Clerk) -> None:
    spec = PersonSpec("王五", "13900000002")
    clerk.enrol(spec)
    phone = Phone(client, spec.phone or "").sign_in()
    r = phone.get("/account")
    assert r.status_code == 409 and error_code(r) == "NOT_ACTIVATED"


def test_a_changed_password_pays_and_the_old_one_no_longer_does(
    client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "张丽", "13900000003", 100000)
    r = p.phone.put(
        "/account/payment-password", {"old_password": p.password, "new_password": STRONG}
    )
    assert r.status_code == 200, r.get_json()
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    )
    assert error_code(r) == "PAYMENT_PASSWORD_INVALID"
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=STRONG),
    )
    assert r.status_code == 201, r.get_json()


def test_weak_new_passwords_are_refused_without_costing_an_attempt(
    client: FlaskClient, clerk: Clerk
) -> None:
    p = insured_with_money(client, clerk, "赵强", "13900000004", 0)
    birth = p.spec.id_number[8:14]  # YYMMDD inside the ID number
    for weak in ("000000", "123456", "888888", "987654", birth, "000004"):
        r = p.phone.put(
            "/account/payment-password", {"old_password": p.password, "new_password": weak}
        )
        assert r.status_code == 422 and error_code(r) == "WEAK_PASSWORD", weak
    # none of the refusals counted as a wrong entry: the fifth-wrong lock is still far away
    wrong = "111112" if p.password != "111112" else "111113"
    r = p.phone.put("/account/payment-password", {"old_password": wrong, "new_password": STRONG})
    assert r.get_json()["error"]["details"]["attempts_left"] == 4


def test_fifth_wrong_password_in_a_day_locks_24_hours_and_a_reset_lifts_it(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "钱伟", "13900000005", 100000)
    wrong = "111112" if p.password != "111112" else "111113"
    codes = [
        error_code(
            p.phone.put(
                "/account/payment-password", {"old_password": wrong, "new_password": STRONG}
            )
        )
        for _ in range(5)
    ]
    assert codes == ["PAYMENT_PASSWORD_INVALID"] * 4 + ["PASSWORD_LOCKED"]
    shown = p.phone.get("/account").get_json()
    assert shown["password_locked_until"] == "2026-11-25T10:00:00+08:00"
    # locked: even the right password is refused at the till ...
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    )
    assert r.status_code == 423 and error_code(r) == "PASSWORD_LOCKED"
    # ... while a payment that asks no password still goes through
    r = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    )
    assert r.status_code == 201
    # the counter's reset sends a new password and lifts the lock
    assert clerk.reset_password(p.spec.id_number).status_code == 200
    new_password = p.phone.initial_password()
    assert p.phone.get("/account").get_json()["password_locked_until"] is None
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=new_password),
    )
    assert r.status_code == 201, r.get_json()


def test_the_password_free_limit_needs_the_password(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "孙燕", "13900000006", 0)
    wrong = "111112" if p.password != "111112" else "111113"
    r = p.phone.put("/account/password-free-limit", {"limit_fen": 20000, "payment_password": wrong})
    assert error_code(r) == "PAYMENT_PASSWORD_INVALID"
    assert p.phone.get("/account").get_json()["password_free_limit_fen"] == 0
    r = p.phone.put("/account/password-free-limit", {"limit_fen": 20000})
    assert error_code(r) == "VALIDATION_ERROR"
    r = p.phone.put(
        "/account/password-free-limit", {"limit_fen": -1, "payment_password": p.password}
    )
    assert error_code(r) == "INVALID_AMOUNT"
    r = p.phone.put(
        "/account/password-free-limit", {"limit_fen": 20000, "payment_password": p.password}
    )
    assert r.status_code == 200
    assert p.phone.get("/account").get_json()["password_free_limit_fen"] == 20000


def test_the_statement_pages_newest_first_with_a_cursor(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "周杰", "13900000007", 100000, month="2026-10")
    clock.advance(3600)
    assert credit(clerk, "2026-11", (p.spec, 2000)).status_code == 201
    clock.advance(3600)
    paid = t.post(
        "/settlements", card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")
    ).get_json()
    clock.advance(3600)
    assert t.post(f"/settlements/{paid['settlement_id']}/refund").status_code == 200

    first = p.phone.get("/account/transactions?limit=2").get_json()
    assert [
        (i["kind"], i["direction"], i["amount_fen"], i["balance_after_fen"]) for i in first["items"]
    ] == [("refund", "in", 1000, 102000), ("payment", "out", 1000, 101000)]
    assert first["next_cursor"] is not None
    rest = p.phone.get(f"/account/transactions?limit=2&cursor={first['next_cursor']}").get_json()
    assert [(i["kind"], i["amount_fen"]) for i in rest["items"]] == [
        ("credit", 2000),
        ("credit", 100000),
    ]
    assert rest["next_cursor"] is None
    assert rest["items"][-1]["at"] == "2026-11-24T10:00:00+08:00"
    for cursor in ("abc", "-1", "9" * 19):
        bad = p.phone.get(f"/account/transactions?cursor={cursor}")
        assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR", cursor


def test_a_premium_is_paid_only_when_the_account_covers_all_of_it(
    client: FlaskClient, clerk: Clerk
) -> None:
    p = insured_with_money(client, clerk, "吴敏", "13900000008", 10000)
    body = {"product_code": "BJ-PUHUI-2026", "premium_fen": 19500, "insured": "self"}
    r = p.phone.post("/supplementary-insurance/purchases", body)
    assert r.status_code == 422 and error_code(r) == "INSUFFICIENT_BALANCE"
    assert balance(p) == 10000
    assert credit(clerk, "2026-10", (p.spec, 10000)).status_code == 201
    r = p.phone.post("/supplementary-insurance/purchases", body)
    assert r.status_code == 201, r.get_json()
    assert balance(p) == 500
    again = p.phone.post("/supplementary-insurance/purchases", body)
    assert again.status_code == 200
    assert again.get_json()["purchase_id"] == r.get_json()["purchase_id"]
    assert balance(p) == 500
    items = p.phone.get("/account/transactions").get_json()["items"]
    assert (items[0]["kind"], items[0]["amount_fen"]) == ("premium", 19500)


def test_a_lock_ends_after_24_hours(client: FlaskClient, clerk: Clerk, clock: FrozenClock) -> None:
    p = insured_with_money(client, clerk, "郑爽", "13900000009", 0)
    wrong = "111112" if p.password != "111112" else "111113"
    for _ in range(5):
        p.phone.put("/account/password-free-limit", {"limit_fen": 1, "payment_password": wrong})
    assert p.phone.get("/account").get_json()["password_locked_until"] is not None
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    assert p.phone.get("/account").get_json()["password_locked_until"] is None
    r = p.phone.put(
        "/account/password-free-limit", {"limit_fen": 1, "payment_password": p.password}
    )
    assert r.status_code == 200
