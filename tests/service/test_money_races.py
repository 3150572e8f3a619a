"""Races on PostgreSQL: many tills at once against one account, one order and one refund.

Each thread has its own HTTP client, so requests really overlap in the database (row locks,
unique keys); the assertions are what the patient and the cashier would see afterwards.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.settlement.models import Settlement
from tests.actors import Clerk, bearer, error_code
from tests.api.money_steps import balance, card_bill, insured_with_money, till

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 24  # below the engine's pool (10 + 20 overflow), so every thread gets a connection


def _at_once(n: int, app: Flask, call: Callable[[FlaskClient], Any]) -> list[Any]:
    """Run `call` n times from WORKERS threads, the first wave released together."""
    first_wave = min(n, WORKERS)
    start = threading.Barrier(first_wave)

    def one(i: int) -> Any:
        client = app.test_client()
        if i < first_wave:  # the first wave starts together; the rest follow as threads free up
            start.wait(timeout=30)
        return call(client)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, range(n)))


def test_two_hundred_tills_at_once_take_exactly_the_balance_and_never_more(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "李明", "13900000001", 10_000)

    def settle(c: FlaskClient) -> tuple[int, int]:
        r = c.post(
            "/api/v1/terminal/settlements",
            headers=bearer(t.access),
            json=card_bill(p.card_no, total_fen=100, fund_fen=0, scene="registration"),
        )
        body = r.get_json()
        paid = sum(leg["amount_fen"] for leg in body.get("paid_from_accounts", []))
        return r.status_code, paid

    results = _at_once(200, app, settle)
    assert Counter(status for status, _ in results) == {201: 200}
    assert Counter(paid for _, paid in results) == {100: 100, 0: 100}
    assert balance(p) == 0


def test_twenty_refunds_at_once_refund_once(app: Flask, client: FlaskClient, clerk: Clerk) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "张丽", "13900000002", 50_000)
    r = t.post(
        "/settlements",
        card_bill(p.card_no, total_fen=126092, fund_fen=88264, payment_password=p.password),
    )
    settlement_id = r.get_json()["settlement_id"]
    assert balance(p) == 50_000 - 37828

    def refund(c: FlaskClient) -> tuple[int, str | None]:
        r = c.post(f"/api/v1/terminal/settlements/{settlement_id}/refund", headers=bearer(t.access))
        return r.status_code, error_code(r)

    results = _at_once(20, app, refund)
    assert Counter(results) == {(200, None): 1, (409, "ALREADY_REFUNDED"): 19}
    assert balance(p) == 50_000


def test_a_hundred_posts_of_one_order_make_one_settlement(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "王芳", "13900000003", 50_000)
    bill = card_bill(p.card_no, total_fen=5000, fund_fen=4000, scene="registration")

    def post(c: FlaskClient) -> tuple[int, str]:
        r = c.post("/api/v1/terminal/settlements", headers=bearer(t.access), json=bill)
        return r.status_code, r.get_json().get("settlement_id", error_code(r))

    results = _at_once(100, app, post)
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1 and statuses[200] == 99
    assert len({sid for _, sid in results}) == 1
    assert balance(p) == 49_000
    db = app.extensions["wiring"].db
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Settlement)) == 1


def test_ten_racing_imports_of_one_month_credit_each_person_once(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    people = [insured_with_money(client, clerk, f"同月{i}", f"1390000010{i}", 0) for i in range(3)]
    body = {
        "month": "2026-11",
        "credits": [{"id_number": p.spec.id_number, "amount_fen": 30000} for p in people],
    }

    def post(c: FlaskClient) -> tuple[int, int]:
        r = c.post("/api/v1/admin/credits", headers=bearer(clerk.token), json=body)
        return r.status_code, r.get_json().get("credited", -1)

    results = _at_once(10, app, post)
    assert Counter(status for status, _ in results) == {201: 10}
    assert sum(credited for _, credited in results) == 3
    assert [balance(p) for p in people] == [30000, 30000, 30000]
