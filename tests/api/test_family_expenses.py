"""A proxy reads a bound member's yearly medical expenses (亲情账户, 001). Issue 6.

A son takes his mother, who has no phone, to hospital with her code on his phone, over two
years; her bills, a refund, and manual claims end up in the right year's figures.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from server.clock import BEIJING, FrozenClock
from tests.actors import Clerk, Phone, Terminal, error_code
from tests.api.money_steps import credit, ecredential_bill
from tests.households import app_user, relative


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2025, 3, 1, 9, 0, tzinfo=BEIJING))


def at(clock: FrozenClock, *when: int) -> None:
    clock.set(datetime(*when, tzinfo=BEIJING))


def settle_for(terminal: Terminal, proxy: Phone, member_id: str, **bill: object) -> str:
    """The proxy shows the member's code; the till scans it and settles the bill."""
    r = proxy.get(f"/credential/qr?member={member_id}")
    assert r.status_code == 200, r.get_json()
    r = terminal.post("/scan", {"qr_text": r.get_json()["qr_text"]})
    assert r.status_code == 200, r.get_json()
    r = terminal.post("/settlements", ecredential_bill(r.get_json()["scan_token"], **bill))
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["settlement_id"])


def claim(clerk: Clerk, person, visit_date: str, total_fen: int, fund_fen: int) -> str:
    r = clerk.post(
        "/reimbursements",
        {
            "id_number": person.id_number,
            "institution_code": "H001",
            "visit_date": visit_date,
            "total_fen": total_fen,
            "fund_fen": fund_fen,
        },
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["claim_id"])


def decide(clerk: Clerk, claim_id: str, approve: bool) -> None:
    r = clerk.post(f"/reimbursements/{claim_id}/decision", {"approve": approve})
    assert r.status_code == 200, r.get_json()


def test_a_proxy_sees_a_members_expenses_for_last_year_and_this_year(client, clerk, clock):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    mother = relative(clerk, "陈桂英", birth="19500101")  # no phone, no app
    son, son_phone = app_user(client, clerk, "李强", birth="19750101")
    member_id = son_phone.bind_member(mother, "parent").get_json()["member_id"]
    assert credit(clerk, "2025-03", (mother, 50000), (son, 30000)).status_code == 201

    # 2025: an outpatient bill her account covers, and a late-night prescription it half covers.
    at(clock, 2025, 3, 2, 10, 0)
    settle_for(hospital, son_phone, member_id, total_fen=126092, fund_fen=88264)
    at(clock, 2025, 12, 31, 23, 30)
    settle_for(
        hospital,
        son_phone,
        member_id,
        total_fen=84077,
        fund_fen=58854,
        scene="pharmacy_prescription",
    )

    # 2026: 00:30 on New Year's day in Beijing (still 2025 in UTC); the son's filed account
    # pays what her empty account cannot.
    at(clock, 2026, 1, 1, 0, 10)
    assert son_phone.file_beneficiary(mother, "parent").status_code == 201
    at(clock, 2026, 1, 1, 0, 30)
    settle_for(hospital, son_phone, member_id, total_fen=5000, fund_fen=4000, scene="registration")
    at(clock, 2026, 3, 10, 9, 0)
    refunded = settle_for(hospital, son_phone, member_id, total_fen=126092, fund_fen=88264)
    assert hospital.post(f"/settlements/{refunded}/refund").status_code == 200
    # The system was down on 2 May: she paid in full, the agency approved the claim.
    at(clock, 2026, 5, 20, 9, 0)
    decide(clerk, claim(clerk, mother, "2026-05-02", 302614, 130854), approve=True)
    decide(clerk, claim(clerk, mother, "2026-05-03", 10000, 5000), approve=False)
    claim(clerk, mother, "2026-05-04", 20000, 8000)  # still pending

    last = son_phone.member_expenses(member_id, 2025)
    this = son_phone.member_expenses(member_id, 2026)

    assert last.status_code == 200, last.get_json()
    body = last.get_json()
    assert (body["year"], body["total_fen"], body["fund_fen"]) == (2025, 210169, 147118)
    assert (body["personal_account_fen"], body["mutual_aid_fen"], body["cash_fen"]) == (
        50000,
        0,
        13051,
    )
    assert [
        (v["date"], v["scene"], v["personal_account_fen"], v["cash_fen"]) for v in body["visits"]
    ] == [
        ("2025-03-02", "outpatient", 37828, 0),
        ("2025-12-31", "pharmacy_prescription", 12172, 13051),
    ]
    assert body["visits"][0]["institution"] == "Hospital H001"

    body = this.get_json()
    assert (body["year"], body["total_fen"], body["fund_fen"]) == (2026, 307614, 134854)
    assert (body["personal_account_fen"], body["mutual_aid_fen"], body["cash_fen"]) == (
        1000,
        1000,
        171760,
    )
    assert [(v["date"], v["kind"], v["scene"]) for v in body["visits"]] == [
        ("2026-01-01", "settlement", "registration"),
        ("2026-05-02", "manual_claim", None),
    ]
    assert son_phone.get(f"/family/members/{member_id}/expenses").get_json()["year"] == 2026


def test_a_year_without_visits_is_all_zero(client, clerk):
    mother = relative(clerk, "陈桂英", birth="19500101")
    _, son_phone = app_user(client, clerk, "李强", birth="19750101")
    member_id = son_phone.bind_member(mother, "parent").get_json()["member_id"]

    body = son_phone.member_expenses(member_id, 2024).get_json()

    assert body == {
        "member_id": member_id,
        "year": 2024,
        "total_fen": 0,
        "fund_fen": 0,
        "personal_account_fen": 0,
        "mutual_aid_fen": 0,
        "cash_fen": 0,
        "visits": [],
    }


def test_only_a_relative_who_bound_the_member_may_read_the_expenses(client, clerk):
    mother = relative(clerk, "陈桂英", birth="19500101")
    _, son_phone = app_user(client, clerk, "李强", birth="19750101")
    _, neighbour = app_user(client, clerk, "赵六", birth="19700101")
    member_id = son_phone.bind_member(mother, "parent").get_json()["member_id"]

    r = neighbour.member_expenses(member_id, 2025)
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")

    son_phone.unbind_member(member_id)
    r = son_phone.member_expenses(member_id, 2025)
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")


@pytest.mark.parametrize("year", ["abc", "1800", "20266", "2025.5"])
def test_a_bad_year_is_a_validation_error(client, clerk, year):
    mother = relative(clerk, "陈桂英", birth="19500101")
    _, son_phone = app_user(client, clerk, "李强", birth="19750101")
    member_id = son_phone.bind_member(mother, "parent").get_json()["member_id"]

    r = son_phone.get(f"/family/members/{member_id}/expenses?year={year}")

    assert (r.status_code, error_code(r)) == (400, "VALIDATION_ERROR")
