"""The fund's share computed at the terminal from the benefit policy (issue 11), in fen.

A till that sends no fund_fen gets the policy's share and a fund_detail; the clerk's figures
are docs/benefit-policy.md's worked examples, for an in-service employee.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.clock import BEIJING
from tests.actors import Clerk, Terminal, error_code
from tests.api.money_steps import Insured, balance, insured_with_money, new_order_no, till


def bill(
    insured: Insured, total_fen: int, scene: str = "outpatient", **extra: Any
) -> dict[str, Any]:
    """A card bill without fund_fen: the server computes the fund's share."""
    return {
        "order_no": new_order_no(),
        "scene": scene,
        "medium": "card",
        "card_no": insured.card_no,
        "total_fen": total_fen,
        "payment_password": insured.password,
        **extra,
    }


def settle(terminal: Terminal, body: dict[str, Any]) -> dict[str, Any]:
    r = terminal.post("/settlements", body)
    assert r.status_code == 201, r.get_json()
    answer: dict[str, Any] = r.get_json()
    return answer


def pharmacy(clerk: Clerk, code: str = "P001") -> Terminal:
    r = clerk.post("/institutions", {"code": code, "name": "Pharmacy", "kind": "pharmacy"})
    assert r.status_code == 201, r.get_json()
    r = clerk.post("/terminals", {"institution_code": code})
    return Terminal(clerk.client, r.get_json()["terminal_id"], r.get_json()["secret"]).sign_in()


def year_of(insured: Insured, year: int | None = None) -> dict[str, dict[str, int]]:
    r = insured.phone.get("/account/year" + (f"?year={year}" if year else ""))
    assert r.status_code == 200, r.get_json()
    return {p["pool"]: p for p in r.get_json()["pools"]}


def test_the_worked_examples_through_the_terminal(client, clerk):
    patient = insured_with_money(client, clerk, "王在职", "13900001101", 0)
    hospital, drugstore = till(clerk), pharmacy(clerk)

    registration = settle(hospital, bill(patient, 5000, "registration"))
    assert (registration["fund_fen"], registration["personal_burden_fen"]) == (4000, 1000)
    assert registration["fund_detail"] == {
        "rule": "registration, level 3",
        "pool": None,
        "eligible_fen": 5000,
        "deductible_applied_fen": 0,
        "ratio_bp": None,
        "fixed_fen": 4000,
        "cap_left_fen": None,
    }
    # the deductible (1,800.00) is crossed at the hospital first ...
    first = settle(hospital, bill(patient, 180000))
    assert first["fund_fen"] == 0 and first["fund_detail"]["deductible_applied_fen"] == 180000
    outpatient = settle(hospital, bill(patient, 126092))
    assert (outpatient["fund_fen"], outpatient["personal_burden_fen"]) == (88264, 37828)
    assert outpatient["fund_detail"]["deductible_applied_fen"] == 0
    assert outpatient["fund_detail"]["ratio_bp"] == 7000
    # ... and counts at the pharmacy
    prescription = settle(drugstore, bill(patient, 84077, "pharmacy_prescription"))
    assert (prescription["fund_fen"], prescription["personal_burden_fen"]) == (58854, 25223)
    self_purchase = settle(drugstore, bill(patient, 3999, "pharmacy_self_purchase"))
    assert (self_purchase["fund_fen"], self_purchase["personal_burden_fen"]) == (0, 3999)
    assert year_of(patient)["outpatient"] | {"name": ""} == {
        "pool": "outpatient",
        "name": "",
        "deductible_fen": 180000,
        "deductible_used_fen": 180000,
        "deductible_left_fen": 0,
        "fund_paid_fen": 88264 + 58854,
    }


def test_out_of_scope_parts_are_not_eligible(client, clerk):
    patient = insured_with_money(client, clerk, "李部分", "13900001102", 0)
    hospital = till(clerk)
    settle(hospital, bill(patient, 180000))
    done = settle(
        hospital,
        bill(patient, 20000, fulamt_ownpay_fen=5000, preselfpay_fen=3000, overlmt_selfpay_fen=2000),
    )
    assert done["fund_detail"]["eligible_fen"] == 10000 and done["fund_fen"] == 7000


def test_a_given_fund_fen_is_used_as_is_and_leaves_the_year_alone(client, clerk):
    patient = insured_with_money(client, clerk, "赵医院", "13900001103", 0)
    done = settle(till(clerk), bill(patient, 100000, fund_fen=12345))
    assert done["fund_fen"] == 12345 and done["fund_detail"] is None
    assert year_of(patient)["outpatient"]["deductible_used_fen"] == 0


def test_bad_bills_are_refused_in_the_envelope(client, clerk):
    patient = insured_with_money(client, clerk, "钱坏单", "13900001104", 0)
    hospital = till(clerk)
    cases = [
        (bill(patient, 10000, "cross_region"), 422, "INVALID_AMOUNT", "no_benefit_rule"),
        (bill(patient, 10000, preselfpay_fen=-1), 422, "INVALID_AMOUNT", "part_negative"),
        (
            bill(patient, 10000, fulamt_ownpay_fen=6000, overlmt_selfpay_fen=4001),
            422,
            "INVALID_AMOUNT",
            "parts_exceed_total",
        ),
        # a negative total is refused as itself, not as parts exceeding it
        (bill(patient, -5), 422, "INVALID_AMOUNT", "total_not_positive"),
        (bill(patient, 10000, scene="teleport"), 400, "VALIDATION_ERROR", None),
        (bill(patient, 10000, preselfpay_fen="1"), 400, "VALIDATION_ERROR", None),
    ]
    for body, status, code, reason in cases:
        for path in ("/settlements", "/settlements/preview"):
            r = hospital.post(path, body)
            assert (r.status_code, error_code(r)) == (status, code), (path, r.get_json())
            if reason is not None:
                assert r.get_json()["error"]["details"]["reason"] == reason
    # cross-region still settles with the hospital's own fund_fen
    assert settle(hospital, bill(patient, 10000, "cross_region", fund_fen=6000))["fund_fen"] == 6000


def test_a_preview_writes_nothing_and_leaves_the_scan_token_usable(client, clerk):
    from tests.api.money_steps import scan_token

    patient = insured_with_money(client, clerk, "孙试算", "13900001105", 50000)
    hospital = till(clerk)
    settle(hospital, bill(patient, 100000))  # part of the deductible used
    token = scan_token(hospital, patient.phone)
    body = {
        "order_no": new_order_no(),
        "scene": "outpatient",
        "medium": "ecredential",
        "scan_token": token,
        "total_fen": 126092,
    }
    before_balance, before_year = balance(patient), year_of(patient)
    r = hospital.post("/settlements/preview", body)
    assert r.status_code == 200, r.get_json()
    quote = r.get_json()
    # 800.00 of the deductible left, then 70 % of 460.92
    assert quote["fund_detail"]["deductible_applied_fen"] == 80000
    assert quote["fund_fen"] == 32264 and quote["personal_burden_fen"] == 93828
    assert sum(p["amount_fen"] for p in quote["paid_from_accounts"]) == before_balance, quote
    assert balance(patient) == before_balance and year_of(patient) == before_year
    # the same body settles for real, with the same figures, on the same token
    done = settle(hospital, body)
    assert (done["fund_fen"], done["personal_burden_fen"]) == (32264, 93828)
    assert done["cash_due_fen"] == quote["cash_due_fen"]


def test_a_year_of_visits_as_the_clerk_counts_it(client, clerk, clock):
    """2022, when the outpatient pool had a 20,000.00 cap, and the first day of 2023."""
    clock.set(datetime(2022, 3, 1, 9, 0, tzinfo=BEIJING))
    patient = insured_with_money(client, clerk, "周全年", "13900001106", 0, month="2022-03")
    hospital = till(clerk)

    # 1. 1,000.00: all of it in the deductible (800.00 left)
    v1 = settle(hospital, bill(patient, 100000))
    assert (v1["fund_fen"], v1["fund_detail"]["deductible_applied_fen"]) == (0, 100000)
    # 2. 1,500.00 crosses it mid-visit: 800.00 deductible, 70 % of 700.00 = 490.00
    v2 = settle(hospital, bill(patient, 150000))
    assert (v2["fund_fen"], v2["fund_detail"]["deductible_applied_fen"]) == (49000, 80000)
    assert v2["fund_detail"]["cap_left_fen"] == 2000000 - 49000
    # 3. 1,000.00 past the deductible: 700.00
    v3 = settle(hospital, bill(patient, 100000))
    assert v3["fund_fen"] == 70000
    assert year_of(patient, 2022)["outpatient"]["deductible_used_fen"] == 180000
    # 4. visit 1 is refunded after the crossing: its 1,000.00 of deductible reopens; visits 2
    #    and 3 keep what they were paid
    r = hospital.post(f"/settlements/{v1['settlement_id']}/refund")
    assert r.status_code == 200 and r.get_json()["status"] == "refunded"
    year = year_of(patient, 2022)["outpatient"]
    assert (year["deductible_used_fen"], year["deductible_left_fen"]) == (80000, 100000)
    assert year["fund_paid_fen"] == 119000
    # 5. the next 1,200.00 takes the reopened 1,000.00 first: 70 % of 200.00 = 140.00
    v5 = settle(hospital, bill(patient, 120000))
    assert (v5["fund_fen"], v5["fund_detail"]["deductible_applied_fen"]) == (14000, 100000)
    # 6. a large bill reaches the cap: 20,000.00 - 1,330.00 paid = 18,670.00 left
    v6 = settle(hospital, bill(patient, 3000000))
    assert v6["fund_fen"] == 2000000 - 133000 and v6["fund_detail"]["cap_left_fen"] == 0
    # 7. past the cap the fund pays nothing more this year
    clock.set(datetime(2022, 12, 31, 23, 59, tzinfo=BEIJING))
    v7 = settle(hospital, bill(patient, 50000))
    assert v7["fund_fen"] == 0 and v7["personal_burden_fen"] == 50000
    assert year_of(patient, 2022)["outpatient"]["fund_paid_fen"] == 2000000
    # 8. Beijing midnight (16:00 UTC): a new year, a fresh deductible, the 2023 rule (no cap)
    clock.set(datetime(2023, 1, 1, 0, 0, tzinfo=BEIJING))
    v8 = settle(hospital, bill(patient, 200000))
    assert v8["fund_detail"]["deductible_applied_fen"] == 180000
    assert v8["fund_fen"] == 14000 and v8["fund_detail"]["cap_left_fen"] is None
    assert year_of(patient)["outpatient"]["deductible_used_fen"] == 180000
    assert year_of(patient, 2022)["outpatient"]["fund_paid_fen"] == 2000000
