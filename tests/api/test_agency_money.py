"""The agency's money: monthly credits, yearly interest, manual claims, cards."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.clock import BEIJING, FrozenClock
from server.ledger.models import JournalEntry
from tests.actors import Clerk, PersonSpec, error_code
from tests.api.money_steps import balance, credit, insured_with_money


def test_a_person_is_credited_once_per_month(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "李明", "13900000001", 0)
    other = PersonSpec("王五", None)
    clerk.enrol(other)
    r = credit(clerk, "2026-11", (p.spec, 30000), (other, 20000), (p.spec, 30000))
    assert r.status_code == 201 and r.get_json() == {"credited": 2, "skipped": 1}
    r = credit(clerk, "2026-11", (p.spec, 30000))
    assert r.get_json() == {"credited": 0, "skipped": 1}
    assert balance(p) == 30000
    r = credit(clerk, "2026-10", (p.spec, 30000))
    assert r.get_json() == {"credited": 1, "skipped": 0}
    assert balance(p) == 60000


def test_a_credit_for_a_month_after_the_beijing_month_is_refused(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    p = insured_with_money(client, clerk, "钱多", "13900000009", 0)
    r = credit(clerk, "2026-12", (p.spec, 30000))
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    assert r.get_json()["error"]["details"]["field"] == "month"
    assert balance(p) == 0
    # 00:30 on 1 December in Beijing is still 30 November in UTC
    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=BEIJING))
    assert credit(clerk, "2026-12", (p.spec, 30000)).status_code == 201


def test_an_unknown_id_number_credits_nobody(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "张丽", "13900000002", 0)
    stranger = PersonSpec("陌生人", None)  # never enrolled
    r = credit(clerk, "2026-11", (p.spec, 30000), (stranger, 100))
    assert r.status_code == 404 and error_code(r) == "INSURED_NUMBER_NOT_FOUND"
    assert r.get_json()["error"]["details"]["rows"] == [1]
    assert stranger.id_number not in r.get_data(as_text=True)
    assert balance(p) == 0


@pytest.mark.parametrize(
    ("month", "amount", "status", "code"),
    [
        ("2026-11", 0, 422, "INVALID_AMOUNT"),
        ("2026-11", -100, 422, "INVALID_AMOUNT"),
        ("2026-11", 10**10, 422, "INVALID_AMOUNT"),
        ("2026-11", 100.0, 400, "VALIDATION_ERROR"),
        ("2026-13", 100, 400, "VALIDATION_ERROR"),
        ("202611", 100, 400, "VALIDATION_ERROR"),
    ],
)
def test_bad_credits_are_refused(
    client: FlaskClient, clerk: Clerk, month: str, amount: object, status: int, code: str
) -> None:
    p = insured_with_money(client, clerk, "赵强", "13900000003", 0)
    r = clerk.post(
        "/credits",
        {"month": month, "credits": [{"id_number": p.spec.id_number, "amount_fen": amount}]},
    )
    assert r.status_code == status and error_code(r) == code
    assert balance(p) == 0


def _at(clock: FrozenClock, y: int, m: int, d: int) -> None:
    clock.set(datetime(y, m, d, 9, 0, tzinfo=BEIJING))


def test_interest_is_paid_on_each_days_closing_balance_once_per_year(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    _at(clock, 2025, 1, 1)
    full = insured_with_money(client, clerk, "全年", "13900000004", 1_000_000, month="2025-01")
    half = insured_with_money(client, clerk, "半年", "13900000005", 0)
    _at(clock, 2025, 7, 1)
    assert credit(clerk, "2025-07", (half.spec, 1_000_000)).status_code == 201
    _at(clock, 2026, 1, 2)
    r = clerk.post("/interest", {"year": 2025, "annual_rate_bp": 35})
    assert r.status_code == 201 and r.get_json() == {"credited": 2, "skipped": 0}
    # 365 days × 10,000.00 yuan × 0.35% = 35.00 yuan; 184 days (Jul 1 - Dec 31) -> 17.64 yuan
    assert balance(full) == 1_000_000 + 3500
    assert balance(half) == 1_000_000 + 1764
    again = clerk.post("/interest", {"year": 2025, "annual_rate_bp": 35})
    assert again.get_json() == {"credited": 0, "skipped": 2}
    assert balance(full) == 1_003_500
    item = full.phone.get("/account/transactions").get_json()["items"][0]
    assert (item["kind"], item["amount_fen"]) == ("interest", 3500)


def test_interest_for_a_year_not_yet_ended_is_refused(client: FlaskClient, clerk: Clerk) -> None:
    r = clerk.post("/interest", {"year": 2026, "annual_rate_bp": 35})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"
    r = clerk.post("/interest", {"year": 2025, "annual_rate_bp": -1})
    assert r.status_code == 400 and error_code(r) == "VALIDATION_ERROR"


def test_a_manual_claim_is_pending_then_decided_once(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "孙燕", "13900000006", 0)
    assert (
        clerk.post(
            "/institutions", {"code": "H009", "name": "医院", "kind": "hospital"}
        ).status_code
        == 201
    )
    claim = {
        "id_number": p.spec.id_number,
        "institution_code": "H009",
        "visit_date": "2026-11-20",
        "total_fen": 126092,
        "fund_fen": 88264,
    }
    r = clerk.post("/reimbursements", claim)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    claim_id = r.get_json()["claim_id"]
    r = clerk.post(f"/reimbursements/{claim_id}/decision", {"approve": True})
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    same = clerk.post(f"/reimbursements/{claim_id}/decision", {"approve": True})
    assert same.status_code == 200 and same.get_json()["status"] == "approved"
    flip = clerk.post(f"/reimbursements/{claim_id}/decision", {"approve": False, "reason": "x"})
    assert flip.status_code == 400 and error_code(flip) == "VALIDATION_ERROR"
    # the fund's share went out once, outside the personal account
    assert balance(p) == 0
    db = client.application.extensions["wiring"].db
    with db.sessions() as s:
        moved = s.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.kind == "reimbursement", JournalEntry.amount_fen == 88264)
        )
    assert moved == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fund_fen": 126093}, "INVALID_AMOUNT"),
        ({"visit_date": "2026-12-01"}, "VALIDATION_ERROR"),
        ({"visit_date": "yesterday"}, "VALIDATION_ERROR"),
        ({"institution_code": "NOPE"}, "NOT_FOUND"),
    ],
)
def test_impossible_claims_are_refused(
    client: FlaskClient, clerk: Clerk, change: dict[str, object], code: str
) -> None:
    p = insured_with_money(client, clerk, "周杰", "13900000007", 0)
    clerk.post("/institutions", {"code": "H009", "name": "医院", "kind": "hospital"})
    claim = {
        "id_number": p.spec.id_number,
        "institution_code": "H009",
        "visit_date": "2026-11-20",
        "total_fen": 126092,
        "fund_fen": 88264,
        **change,
    }
    assert error_code(clerk.post("/reimbursements", claim)) == code


def test_cards_of_unknown_people_or_numbers_are_not_found(
    client: FlaskClient, clerk: Clerk
) -> None:
    assert error_code(clerk.post("/cards", {"id_number": "110101199001011234"})) == "NOT_FOUND"
    assert error_code(clerk.post("/cards/B123/report-lost")) == "NOT_FOUND"


def test_money_calls_are_for_the_agency_only(client: FlaskClient, clerk: Clerk) -> None:
    p = insured_with_money(client, clerk, "吴敏", "13900000008", 0)
    r = p.phone.post(
        "/admin/credits",
        {"month": "2026-11", "credits": [{"id_number": p.spec.id_number, "amount_fen": 100}]},
    )
    assert r.status_code == 403
    assert balance(p) == 0
