"""Family mutual aid at the till (家庭共济): who pays, in whose order, and what each one sees.

DOMAIN.md "Family mutual aid", "The personal account and who pays what". Issue 6.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from server.clock import BEIJING, FrozenClock
from tests.actors import Phone, Terminal, error_code
from tests.api.money_steps import credit, ecredential_bill, scan_token
from tests.households import app_user, relative


def balance(phone: Phone) -> int:
    r = phone.get("/account")
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["balance_fen"])


def pay(terminal: Terminal, patient: Phone, **bill: object):
    return terminal.post("/settlements", ecredential_bill(scan_token(terminal, patient), **bill))


def legs(r) -> list[tuple[str, str, int]]:
    return [
        (x["source"], x["holder_masked"], x["amount_fen"])
        for x in r.get_json()["paid_from_accounts"]
    ]


def test_grandmothers_account_first_at_the_spouses_choice(client, clerk):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    wife, wife_phone = app_user(client, clerk, "王芳", birth="19880101")
    husband, husband_phone = app_user(client, clerk, "张伟", birth="19870101")
    grandmother, grandmother_phone = app_user(client, clerk, "李秀兰", birth="19600101")
    credit(clerk, "2026-01", (wife, 1000), (grandmother, 7000), (husband, 50000))
    assert husband_phone.file_beneficiary(wife, "spouse").status_code == 201
    assert grandmother_phone.file_beneficiary(wife, "child").status_code == 201
    by_relation = {s["relation"]: s["source_id"] for s in wife_phone.sources()}
    assert list(by_relation) == ["spouse", "parent"]  # filed in this order
    assert (
        wife_phone.reorder_sources([by_relation["parent"], by_relation["spouse"]]).status_code
        == 200
    )

    r = pay(hospital, wife_phone, total_fen=30000, fund_fen=20000)

    assert r.status_code == 201, r.get_json()
    assert legs(r) == [("self", "王*", 1000), ("parent", "李**", 7000), ("spouse", "张*", 2000)]
    assert r.get_json()["cash_due_fen"] == 0
    assert (balance(wife_phone), balance(grandmother_phone), balance(husband_phone)) == (
        0,
        0,
        48000,
    )
    for holder, amount in ((grandmother_phone, 7000), (husband_phone, 2000)):
        item = holder.get("/account/transactions").get_json()["items"][0]
        assert (item["kind"], item["direction"], item["amount_fen"]) == (
            "mutual_aid_out",
            "out",
            amount,
        )
        assert item["beneficiary_masked"] == "王*"
    own = wife_phone.get("/account/transactions").get_json()["items"][0]
    assert (own["kind"], own["beneficiary_masked"]) == ("payment", None)


def test_at_discharge_the_beneficiary_enters_their_own_password(client, clerk):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    wife, wife_phone = app_user(client, clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    wife_password, husband_password = (
        wife_phone.initial_password(),
        husband_phone.initial_password(),
    )
    if wife_password == husband_password:
        pytest.skip("the two random initial passwords happen to be equal")
    credit(clerk, "2026-01", (wife, 1000), (husband, 500000))
    husband_phone.file_beneficiary(wife, "spouse")
    bill = {"total_fen": 302614, "fund_fen": 130854, "scene": "inpatient_discharge"}

    r = pay(hospital, wife_phone, **bill, payment_password=husband_password)
    assert error_code(r) == "PAYMENT_PASSWORD_INVALID"
    assert balance(husband_phone) == 500000

    r = pay(hospital, wife_phone, **bill, payment_password=wife_password)
    assert r.status_code == 201, r.get_json()
    assert legs(r) == [("self", "王*", 1000), ("spouse", "张*", 170760)]
    assert balance(husband_phone) == 500000 - 170760


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=BEIJING))


def test_after_a_mid_year_withdrawal_the_holders_account_is_no_longer_drawn_on(
    client, clerk, clock
):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    son, son_phone = app_user(client, clerk, "张小明", birth="20000101")
    father, father_phone = app_user(client, clerk, "张伟", birth="19700101")
    credit(clerk, "2026-01", (father, 100000))
    beneficiary_id = father_phone.file_beneficiary(son, "child").get_json()["beneficiary_id"]

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=BEIJING))
    march = pay(hospital, son_phone, total_fen=126092, fund_fen=88264)
    assert legs(march) == [("parent", "张*", 37828)]

    clock.set(datetime(2026, 6, 30, 18, 0, tzinfo=BEIJING))
    assert father_phone.withdraw_beneficiary(beneficiary_id).status_code == 200

    clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=BEIJING))
    september = pay(hospital, son_phone, total_fen=126092, fund_fen=88264)
    assert september.status_code == 201, september.get_json()
    assert legs(september) == []
    assert september.get_json()["cash_due_fen"] == 37828
    assert balance(father_phone) == 100000 - 37828
    assert son_phone.sources() == []

    # The March bill is refunded after the withdrawal: its money still goes back to the father.
    assert (
        hospital.post(f"/settlements/{march.get_json()['settlement_id']}/refund").status_code == 200
    )
    assert balance(father_phone) == 100000


def test_a_proxy_code_pays_from_the_members_accounts_never_the_proxys(client, clerk):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    grandmother = relative(clerk, "陈桂英", birth="19420315")  # no phone, no app
    daughter, daughter_phone = app_user(client, clerk, "李红", birth="19700101")
    _, granddaughter_phone = app_user(client, clerk, "王丽丽", birth="19950101")
    credit(clerk, "2026-01", (grandmother, 3000), (daughter, 100000))
    member_id = granddaughter_phone.bind_member(grandmother, "grandparent").get_json()["member_id"]
    # The daughter filed her mother for mutual aid: that, not who shows the code, decides.
    daughter_phone.file_beneficiary(grandmother, "parent")
    code = granddaughter_phone.get(f"/credential/qr?member={member_id}").get_json()["qr_text"]
    token = hospital.post("/scan", {"qr_text": code}).get_json()["scan_token"]

    r = hospital.post("/settlements", ecredential_bill(token, total_fen=30000, fund_fen=20000))

    assert r.status_code == 201, r.get_json()
    assert legs(r) == [("self", "陈**", 3000), ("child", "李*", 7000)]
    assert balance(granddaughter_phone) == 0
    assert balance(daughter_phone) == 93000


def test_a_premium_for_a_filed_parent_is_paid_from_the_holders_account(client, clerk):
    mother, _ = app_user(client, clerk, "李秀兰", birth="19550101")
    son, son_phone = app_user(client, clerk, "张伟", birth="19800101")
    stranger = relative(clerk, "赵六")
    credit(clerk, "2026-01", (son, 50000))
    body = {"product_code": "BJ-PUHUI-2026", "premium_fen": 19500}

    r = son_phone.post("/supplementary-insurance/purchases", {**body, "insured": mother.id_number})
    assert (r.status_code, error_code(r)) == (422, "RELATION_NOT_ALLOWED")

    beneficiary_id = son_phone.file_beneficiary(mother, "parent").get_json()["beneficiary_id"]
    r = son_phone.post("/supplementary-insurance/purchases", {**body, "insured": mother.id_number})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["insured"] == mother.id_number[:3] + "*" * 11 + mother.id_number[-4:]
    assert balance(son_phone) == 50000 - 19500
    item = son_phone.get("/account/transactions").get_json()["items"][0]
    assert (item["kind"], item["amount_fen"], item["beneficiary_masked"]) == (
        "premium",
        19500,
        "李**",
    )

    r = son_phone.post(
        "/supplementary-insurance/purchases", {**body, "insured": stranger.id_number}
    )
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    son_phone.withdraw_beneficiary(beneficiary_id)
    r = son_phone.post(
        "/supplementary-insurance/purchases",
        {**body, "product_code": "OTHER-2026", "insured": mother.id_number},
    )
    assert error_code(r) == "RELATION_NOT_ALLOWED"
    assert balance(son_phone) == 50000 - 19500


@pytest.mark.parametrize("app_config", [{"MUTUAL_AID_DELAY_DAYS": 3}])
def test_a_filing_not_yet_in_effect_neither_pays_bills_nor_premiums(client, clerk, clock):
    hospital = clerk.hospital_with_terminal("H001").sign_in()
    wife, wife_phone = app_user(client, clerk, "王芳")
    husband, husband_phone = app_user(client, clerk, "张伟")
    credit(clerk, "2026-01", (husband, 100000))
    husband_phone.file_beneficiary(wife, "spouse")
    premium = {"product_code": "BJ-PUHUI-2026", "premium_fen": 19500, "insured": wife.id_number}

    r = pay(hospital, wife_phone, total_fen=5000, fund_fen=4000, scene="registration")
    assert (legs(r), r.get_json()["cash_due_fen"]) == ([], 1000)
    assert error_code(husband_phone.post("/supplementary-insurance/purchases", premium)) == (
        "RELATION_NOT_ALLOWED"
    )

    clock.set(datetime(2026, 1, 8, 0, 0, tzinfo=BEIJING))
    r = pay(hospital, wife_phone, total_fen=5000, fund_fen=4000, scene="registration")
    assert legs(r) == [("spouse", "张*", 1000)]
    assert husband_phone.post("/supplementary-insurance/purchases", premium).status_code == 201
