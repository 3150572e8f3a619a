"""Mutual aid under parallel settlements on PostgreSQL (issue 6): a holder's account emptied by
two families of bills at once, circular filings, and a beneficiary who is also a holder.

Each thread has its own HTTP client, so the tills really overlap in the database. What must
hold is what the family would check afterwards: no account went below zero, every fen taken
from an account is in some settlement's legs, every bill is fully paid (accounts plus cash),
and nobody drew on an account that was not filed for them.
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

from tests.actors import Clerk, PersonSpec, Phone, bearer
from tests.api.money_steps import card_bill, credit, issue_card, till
from tests.households import app_user, relative

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 24  # below the engine's pool (10 + 20 overflow)


def _at_once(app: Flask, calls: list[Callable[[FlaskClient], Any]]) -> list[Any]:
    first_wave = min(len(calls), WORKERS)
    start = threading.Barrier(first_wave)

    def one(i: int) -> Any:
        client = app.test_client()
        if i < first_wave:
            start.wait(timeout=30)
        return calls[i](client)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, range(len(calls))))


def _balance(phone: Phone) -> int:
    return int(phone.get("/account").get_json()["balance_fen"])


def _bill_for(access: str, card_no: str, burden_fen: int) -> Callable[[FlaskClient], Any]:
    """A registration fee paid by card (no password at registration), all of it personal."""

    def call(c: FlaskClient) -> tuple[int, list[tuple[str, str, int]], int]:
        r = c.post(
            "/api/v1/terminal/settlements",
            headers=bearer(access),
            json=card_bill(card_no, total_fen=burden_fen, fund_fen=0, scene="registration"),
        )
        body = r.get_json()
        legs = [
            (x["source"], x["holder_masked"], x["amount_fen"])
            for x in body.get("paid_from_accounts", [])
        ]
        return r.status_code, legs, body.get("cash_due_fen", -1)

    return call


def _check_every_bill_is_paid(results: list[Any], burden_fen: int) -> None:
    assert Counter(status for status, _, _ in results) == {201: len(results)}
    for _, legs, cash in results:
        assert sum(amount for _, _, amount in legs) + cash == burden_fen
        assert all(amount > 0 for _, _, amount in legs)


def _taken_from(results: list[Any], holder_masked: str) -> int:
    return sum(a for _, legs, _ in results for _, who, a in legs if who == holder_masked)


def test_a_holders_account_emptied_by_his_own_and_his_wifes_bills_at_once(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    husband, husband_phone = app_user(client, clerk, "张伟")
    wife = relative(clerk, "王芳")  # no app: she pays by card
    credit(clerk, "2026-11", (husband, 10_000))
    husband_phone.file_beneficiary(wife, "spouse")
    his_card, her_card = issue_card(clerk, husband), issue_card(clerk, wife)
    calls = [_bill_for(t.access, card, 200) for _ in range(50) for card in (his_card, her_card)]

    results = _at_once(app, calls)

    _check_every_bill_is_paid(results, 200)
    assert _taken_from(results, "张*") == 10_000  # exactly the balance, never more
    assert _balance(husband_phone) == 0
    assert sum(cash for _, _, cash in results) == 100 * 200 - 10_000


def test_circular_filings_pay_each_other_without_deadlock_or_overdraft(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    wife, wife_phone = app_user(client, clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    credit(clerk, "2026-11", (wife, 5_000), (husband, 5_000))
    husband_phone.file_beneficiary(wife, "spouse")
    wife_phone.file_beneficiary(husband, "spouse")
    cards = issue_card(clerk, wife), issue_card(clerk, husband)
    calls = [_bill_for(t.access, card, 300) for _ in range(20) for card in cards]

    results = _at_once(app, calls)

    _check_every_bill_is_paid(results, 300)
    assert {source for _, legs, _ in results for source, _, _ in legs} <= {"self", "spouse"}
    assert _taken_from(results, "王*") == 5_000
    assert _taken_from(results, "张*") == 5_000
    assert (_balance(wife_phone), _balance(husband_phone)) == (0, 0)


def test_a_beneficiary_who_is_also_a_holder_passes_nothing_on_under_load(
    app: Flask, client: FlaskClient, clerk: Clerk
) -> None:
    t = till(clerk)
    grandmother, grandmother_phone = app_user(client, clerk, "李秀兰", birth="19500101")
    mother, mother_phone = app_user(client, clerk, "王芳", birth="19750101")
    child: PersonSpec = relative(clerk, "张小明", birth="20150101")
    credit(clerk, "2026-11", (grandmother, 3_000), (mother, 3_000))
    grandmother_phone.file_beneficiary(mother, "child")  # the mother draws on the grandmother
    mother_phone.file_beneficiary(child, "child")  # the child draws on the mother, only
    mothers, childs = issue_card(clerk, mother), issue_card(clerk, child)
    calls = [_bill_for(t.access, card, 250) for _ in range(20) for card in (mothers, childs)]

    results = _at_once(app, calls)

    _check_every_bill_is_paid(results, 250)
    childs_results = results[1::2]
    assert all(who != "李**" for _, legs, _ in childs_results for _, who, _ in legs)
    # Every bill tries the mother's account first, so it always ends empty. How much of the
    # grandmother's is used depends on how the bills interleave (only the mother's own bills reach
    # it, once her account is empty); what never varies: each fen taken is a fen gone from its
    # account, and while the grandmother still has money no bill of the mother's pays cash.
    left = _balance(grandmother_phone)
    assert _balance(mother_phone) == 0
    assert _taken_from(results, "王*") == 3_000
    assert _taken_from(results, "李**") == 3_000 - left
    if left > 0:
        assert all(cash == 0 for _, _, cash in results[0::2])
