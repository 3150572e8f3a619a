"""Concurrent settlements for one person on PostgreSQL: the person's year adds up (issue 11).

Each thread settles an outpatient bill with no fund_fen, so each locks the person's accumulator
row; afterwards the row equals the sum of the deltas the settlement rows recorded.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.benefits.models import BenefitYear
from server.settlement.models import Settlement
from tests.actors import Clerk, bearer
from tests.api.money_steps import insured_with_money, new_order_no, till

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

N = 20


def test_concurrent_settlements_leave_the_year_equal_to_the_sum_of_their_deltas(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    p = insured_with_money(client, clerk, "并发", "13900001201", 0)
    # Under the password-free limit (限额免密): twenty payments in flight at once would otherwise
    # count as twenty password attempts in flight, which the attempt limit rightly refuses.
    limit = {"limit_fen": 50000, "payment_password": p.password}
    assert p.phone.put("/account/password-free-limit", limit).status_code == 200
    start = threading.Barrier(N)

    def settle(_: int) -> int:
        c = app.test_client()
        start.wait(timeout=30)
        r = c.post(
            "/api/v1/terminal/settlements",
            headers=bearer(t.access),
            json={
                "order_no": new_order_no(),
                "scene": "outpatient",
                "medium": "card",
                "card_no": p.card_no,
                "total_fen": 50000,
            },
        )
        assert r.status_code == 201, r.get_json()
        return int(r.get_json()["fund_fen"])

    with ThreadPoolExecutor(max_workers=N) as pool:
        funds = list(pool.map(settle, range(N)))

    with app.extensions["wiring"].db.sessions() as s:
        year = s.scalars(select(BenefitYear)).one()
        used, paid = s.execute(
            select(
                func.sum(Settlement.deductible_used_delta_fen),
                func.sum(Settlement.fund_paid_delta_fen),
            )
        ).one()
    # 20 × 500.00: the first 1,800.00 is deductible, the rest at 70 %
    assert (year.deductible_used_fen, year.fund_paid_fen) == (used, paid) == (180000, sum(funds))
    assert sum(funds) == (N * 50000 - 180000) * 7 // 10
