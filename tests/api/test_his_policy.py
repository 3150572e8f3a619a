"""The fund's share through the HIS interface is the benefit policy's (issues 11 and 12).

docs/benefit-policy.md's worked examples for an in-service employee at a level-3 hospital, sent as
an HIS sends them: the deductible crossed first, then a registration (50.00 -> 40.00 / 10.00) and
an outpatient bill (1,260.92 -> 882.64 / 378.28). The identities hold to the fen, the person's
year on the phone shows what the fund paid, and 2208 gives it back. A pharmacy bill with a
prescription (rxno) is 外配处方, without one a self purchase; a cross-region bill carries the
HIS's own share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from server.clock import FrozenClock
from tests.actors import Clerk, Phone
from tests.api.his_steps import His, err_code, loads
from tests.api.money_steps import Insured, balance, insured_with_money

D = Decimal


def token_of(his: His, phone: Phone) -> str:
    r = phone.get("/credential/qr")
    assert r.status_code == 200, r.get_json()
    return his.decode(str(r.get_json()["qr_text"]))


def psn_no_of(his: His, token: str) -> str:
    out = his.ok("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    return str(out["baseinfo"]["psn_no"])


def bill(token: str, psn_no: str, med_type: str, medfee: str, **data: Any) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "01",
            "mdtrt_cert_no": token,
            "med_type": med_type,
            "medfee_sumamt": medfee,
            "psn_setlway": "01",
            "insutype": "310",
            "acct_used_flag": "2",
            "fulamt_ownpay_amt": "0.00",
            "overlmt_selfpay": "0.00",
            "preselfpay_amt": "0.00",
            **data,
        }
    }


def settle(his: His, phone: Phone, med_type: str, medfee: str, **data: Any) -> dict[str, Any]:
    token = token_of(his, phone)
    return his.ok("2207", bill(token, psn_no_of(his, token), med_type, medfee, **data))


def check(setlinfo: dict[str, Any]) -> None:
    """The identities of docs/his-interface.md, to the fen."""
    s = setlinfo
    assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"] + s["hosp_part_amt"]
    assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]
    assert abs(s["acct_mulaid_pay"]) <= abs(s["acct_pay"])
    assert s["hifp_pay"] == s["fund_pay_sumamt"]
    assert s["inscp_scp_amt"] == (
        s["medfee_sumamt"] - s["fulamt_ownpay_amt"] - s["overlmt_selfpay"] - s["preselfpay_amt"]
    )
    if s["act_pay_dedc"] or s["pool_prop_selfpay"]:  # a pooled rule
        assert s["inscp_scp_amt"] == s["act_pay_dedc"] + s["pool_prop_selfpay"] + s["hifp_pay"]
    for key, value in s.items():
        if isinstance(value, Decimal):
            assert value == value.quantize(D("0.01")), key


def year(insured: Insured) -> dict[str, Any]:
    r = insured.phone.get("/account/year")
    assert r.status_code == 200, r.get_json()
    return {p["pool"]: p for p in r.get_json()["pools"]}["outpatient"]


def figures(s: dict[str, Any], *keys: str) -> tuple[Decimal, ...]:
    return tuple(s[k] for k in keys)


def test_the_worked_examples_through_the_his(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    his = His.of_new_hospital(client, clock, clerk, "H11010800001")
    his.sign_in()
    wang = insured_with_money(client, clerk, "王在职", "13900001201", 200000)

    # The deductible (1,800.00 for an employee in service) is crossed first: the fund pays 0.
    first = settle(his, wang.phone, "11", "1800.00")["setlinfo"]
    check(first)
    assert figures(first, "act_pay_dedc", "hifp_pay", "psn_part_amt", "acct_pay", "balc") == (
        D("1800.00"),
        D("0.00"),
        D("1800.00"),
        D("1800.00"),
        D("200.00"),
    )

    # Registration at a level-3 hospital: a fixed 40.00 per visit, outside the deductible.
    registration = settle(his, wang.phone, "12", "50.00")
    reg = registration["setlinfo"]
    check(reg)
    assert figures(reg, "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "act_pay_dedc") == (
        D("40.00"),
        D("40.00"),
        D("10.00"),
        D("0.00"),
    )
    assert registration["setldetail"] == [{"fund_pay_type": "310100", "fund_payamt": D("40.00")}]

    # Outpatient, past the deductible: 70 % of 1,260.92 = 882.644 -> 882.64. The pre-settlement
    # gives the same figures and moves nothing.
    token = token_of(his, wang.phone)
    outpatient = bill(token, psn_no_of(his, token), "11", "1260.92")
    pre = his.ok("2206", outpatient)["setlinfo"]
    assert balance(wang) == 19000 and year(wang)["fund_paid_fen"] == 0
    done = his.ok("2207", outpatient)
    setl = done["setlinfo"]
    check(setl)
    check(pre)
    keys = ("inscp_scp_amt", "act_pay_dedc", "pool_prop_selfpay", "hifp_pay", "psn_part_amt")
    assert figures(pre, *keys) == figures(setl, *keys)
    assert figures(setl, *keys) == (
        D("1260.92"),
        D("0.00"),
        D("378.28"),
        D("882.64"),
        D("378.28"),
    )
    # The own account pays what it holds (190.00), the rest is cash.
    assert figures(setl, "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "balc") == (
        D("190.00"),
        D("0.00"),
        D("188.28"),
        D("0.00"),
    )
    assert done["setldetail"] == [{"fund_pay_type": "310100", "fund_payamt": D("882.64")}]

    # The person's year, on the phone: the deductible used, and what the pooled fund paid (the
    # registration's fixed amount counts in no pool).
    assert (year(wang)["deductible_used_fen"], year(wang)["fund_paid_fen"]) == (180000, 88264)

    # 2208 gives the outpatient bill back, and the year with it.
    cancel = his.ok("2208", {"data": {"setl_id": setl["setl_id"]}})
    c = cancel["setlinfo"]
    check(c)
    assert figures(c, "medfee_sumamt", "hifp_pay", "pool_prop_selfpay", "acct_pay", "balc") == (
        D("-1260.92"),
        D("-882.64"),
        D("-378.28"),
        D("-190.00"),
        D("190.00"),
    )
    [pool] = cancel["yearinfo"]["poolinfo"]
    assert figures(pool, "dedc_used", "hifp_pay_cum") == (D("1800.00"), D("0.00"))
    assert cancel["yearinfo"]["setl_cnt"] == 2
    assert (year(wang)["deductible_used_fen"], year(wang)["fund_paid_fen"]) == (180000, 0)
    # ... and cancelling the first visit reopens the deductible.
    his.ok("2208", {"data": {"setl_id": first["setl_id"]}})
    assert (year(wang)["deductible_used_fen"], year(wang)["fund_paid_fen"]) == (0, 0)
    assert balance(wang) == 199000  # only the registration's 10.00 is still paid


def pharmacy_his(client: FlaskClient, clock: FrozenClock, clerk: Clerk, code: str) -> His:
    r = clerk.post("/institutions", {"code": code, "name": f"药店{code}", "kind": "pharmacy"})
    assert r.status_code == 201, r.get_json()
    r = clerk.post(f"/institutions/{code}/his-keys")
    assert r.status_code == 201, r.get_json()
    his = His(client, clock, code, r.get_json()["access_key"], r.get_json()["secret"])
    his.sign_in()
    return his


def test_a_pharmacy_bill_with_a_prescription_is_pooled_without_one_a_self_purchase(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    hospital = His.of_new_hospital(client, clock, clerk, "H11010800001")
    hospital.sign_in()
    drugstore = pharmacy_his(client, clock, clerk, "P11010800001")
    zhao = insured_with_money(client, clerk, "赵外配", "13900001202", 500000)
    settle(hospital, zhao.phone, "11", "1800.00")  # past the deductible

    # 外配处方 uploaded with 2204: a visit whose fee line carries rxno.
    token = token_of(drugstore, zhao.phone)
    psn = psn_no_of(drugstore, token)
    visit = drugstore.ok(
        "2201", {"data": {"psn_no": psn, "mdtrt_cert_type": "01", "mdtrt_cert_no": token}}
    )["data"]["mdtrt_id"]
    drugstore.ok(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": "F1",
                    "mdtrt_id": visit,
                    "chrg_bchno": "B1",
                    "med_list_codg": "XA10BAA001",
                    "det_item_fee_sumamt": "840.77",
                    "pric": "840.77",
                    "cnt": 1,
                    "rxno": "RX20261124001",
                }
            ]
        },
    )
    rx = drugstore.ok("2207", bill(token, psn, "41", "840.77", mdtrt_id=visit, chrg_bchno="B1"))
    check(rx["setlinfo"])
    assert figures(rx["setlinfo"], "hifp_pay", "pool_prop_selfpay", "psn_part_amt") == (
        D("588.54"),
        D("252.23"),
        D("252.23"),
    )
    # 外配处方 named on the bill itself, no visit.
    named = settle(drugstore, zhao.phone, "41", "100.00", rxno="RX20261124002")["setlinfo"]
    assert figures(named, "hifp_pay", "psn_part_amt") == (D("70.00"), D("30.00"))
    # No prescription: a self purchase (自主购买), outside basic insurance.
    own = settle(drugstore, zhao.phone, "41", "39.99")
    assert figures(own["setlinfo"], "hifp_pay", "acct_pay") == (D("0.00"), D("39.99"))
    assert own["setldetail"] == []
    assert year(zhao)["fund_paid_fen"] == 58854 + 7000


def test_a_cross_region_bill_carries_the_his_share_and_leaves_the_year_alone(
    client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    his = His.of_new_hospital(client, clock, clerk, "H11010800001")
    his.sign_in()
    sun = insured_with_money(client, clerk, "孙异地", "13900001203", 100000)

    def cross(**data: Any) -> dict[str, Any]:
        token = token_of(his, sun.phone)
        env = his.envelope("2207", bill(token, psn_no_of(his, token), "11", "100.00", **data))
        env["insuplc_admdvs"] = "310101"  # insured in Shanghai, treated in Beijing
        r = his.post(env)
        assert r.status_code == 200, r.get_data(as_text=True)
        answer: dict[str, Any] = loads(r.get_data())
        return answer

    assert err_code(cross()) == "VALIDATION_ERROR"
    assert err_code(cross(fund_pay_sumamt="100.01")) == "INVALID_AMOUNT"
    done = cross(fund_pay_sumamt="60.00")
    assert done["infcode"] == 0, done["err_msg"]
    s = done["output"]["setlinfo"]
    check(s)
    assert figures(s, "hifp_pay", "act_pay_dedc", "pool_prop_selfpay", "acct_pay") == (
        D("60.00"),
        D("0.00"),
        D("0.00"),
        D("40.00"),
    )
    assert (year(sun)["deductible_used_fen"], year(sun)["fund_paid_fen"]) == (0, 0)
