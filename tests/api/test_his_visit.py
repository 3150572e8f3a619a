"""A whole visit through the HIS interface, as a hospital's HIS drives it (issue 12).

Scan the patient's code, decode it (1162), sign in (9001), read the person (1101), register
(2201), upload fees (2204), pre-settle (2206), settle (2207) with the own account and with the
family's mutual aid, cancel (2208), reverse a settlement whose answer was lost (2601), and
reconcile (3201). Balances and the journal are checked to the fen at each step. The fund's
share is the benefit policy's: these are first visits of the year, inside the deductible
(test_his_policy.py has the worked examples past it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.clock import FrozenClock
from server.db.models import Institution
from server.ledger.models import JournalEntry, SystemAccount
from tests.actors import Clerk, Phone
from tests.api.his_steps import His, err_code
from tests.api.money_steps import balance, credit, insured_with_money
from tests.households import app_user

D = Decimal


def qr(phone: Phone) -> str:
    r = phone.get("/credential/qr")
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["qr_text"])


def account_fen(phone: Phone) -> int:
    r = phone.get("/account")
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["balance_fen"])


def check_identities(setlinfo: dict[str, Any]) -> None:
    s = setlinfo
    assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"] + s["hosp_part_amt"]
    assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]
    assert abs(s["acct_mulaid_pay"]) <= abs(s["acct_pay"])
    for key, value in s.items():
        if isinstance(value, Decimal):
            assert value == value.quantize(D("0.01")), key


def journal(app: Flask, code: str) -> tuple[int, int]:
    """(sum of every journal entry, what the institution's account holds), in fen."""
    unit = app.extensions["wiring"].unit_of_work()
    try:
        with unit.session.begin():
            s = unit.session
            total = s.scalar(select(func.coalesce(func.sum(JournalEntry.amount_fen), 0)))
            inst = s.scalar(select(Institution.id).where(Institution.code == code))
            held = s.scalar(
                select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))
                .join(SystemAccount, SystemAccount.id == JournalEntry.system_account_id)
                .where(SystemAccount.institution_id == inst)
            )
            return int(total or 0), int(held or 0)
    finally:
        unit.close()


def settlement_input(token: str, psn_no: str, **data: Any) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "01",
            "mdtrt_cert_no": token,
            "med_type": "11",
            "psn_setlway": "01",
            "insutype": "310",
            "invono": "",
            "fulamt_ownpay_amt": 0.00,
            "overlmt_selfpay": 0.00,
            "preselfpay_amt": 0.00,
            **data,
        }
    }


def test_a_whole_visit_through_the_his_interface(
    app: Flask, client: FlaskClient, clerk: Clerk, clock: FrozenClock
) -> None:
    his = His.of_new_hospital(client, clock, clerk, "H11010800001")
    li = insured_with_money(client, clerk, "李明", "13900000001", 200000)

    # The patient shows the code; the HIS decodes it (1162) and signs in (9001).
    token = his.decode(qr(li.phone))
    assert his.sign_in().startswith("SN")

    # 1101: who this is, with the account balance.
    person = his.ok("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    psn_no = person["baseinfo"]["psn_no"]
    assert person["baseinfo"]["psn_name"] == "李明"
    assert "*" in person["baseinfo"]["certno"]
    assert person["insuinfo"][0]["balc"] == D("2000.00")
    assert person["insuinfo"][0]["insutype"] == "310"

    # 2201 and 2204: register, upload the bill of 1,260.92.
    reg = his.ok(
        "2201",
        {
            "data": {
                "psn_no": psn_no,
                "insutype": "310",
                "mdtrt_cert_type": "01",
                "mdtrt_cert_no": token,
                "ipt_otp_no": "MZ20261124001",
                "dept_code": "NK",
            }
        },
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    lines = [("F1", "25.00", "25.00", 1), ("F2", "1175.92", "293.98", 4), ("F3", "60.00", "30", 2)]
    fees = his.ok(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": sn,
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "chrg_bchno": "B1",
                    "med_list_codg": f"CODE{sn}",
                    "det_item_fee_sumamt": amount,
                    "pric": price,
                    "cnt": cnt,
                }
                for sn, amount, price, cnt in lines
            ]
        },
    )
    assert [x["det_item_fee_sumamt"] for x in fees["result"]] == [
        D("25.00"),
        D("1175.92"),
        D("60.00"),
    ]

    bill = settlement_input(
        token,
        psn_no,
        mdtrt_id=mdtrt_id,
        chrg_bchno="B1",
        medfee_sumamt="1260.92",
        inscp_scp_amt="1260.92",
        acct_used_flag="1",
    )
    # 2206: the figures, no money moves. The year's deductible (1,800.00) takes the whole bill.
    pre = his.ok("2206", bill)["setlinfo"]
    check_identities(pre)
    assert "setl_id" not in pre
    assert (pre["act_pay_dedc"], pre["fund_pay_sumamt"], pre["acct_pay"], pre["balc"]) == (
        D("1260.92"),
        D("0.00"),
        D("1260.92"),
        D("739.08"),
    )
    assert balance(li) == 200000
    # acct_used_flag 0: the same fund share, the patient pays the whole burden in cash.
    flag0 = his.ok("2206", {"data": {**bill["data"], "acct_used_flag": "0"}})["setlinfo"]
    check_identities(flag0)
    assert (flag0["fund_pay_sumamt"], flag0["acct_pay"], flag0["psn_cash_pay"]) == (
        D("0.00"),
        D("0.00"),
        D("1260.92"),
    )
    assert flag0["balc"] == D("2000.00")
    # The interim field is refused for a local bill: the share is computed.
    stated = his.call("2206", {"data": {**bill["data"], "fund_pay_sumamt": "882.64"}})
    assert err_code(stated) == "VALIDATION_ERROR" and "fund_pay_sumamt" in stated["err_msg"]

    # 2207 with the own account.
    settled = his.ok("2207", bill)
    setl = settled["setlinfo"]
    check_identities(setl)
    assert (setl["medfee_sumamt"], setl["fund_pay_sumamt"], setl["acct_pay"]) == (
        D("1260.92"),
        D("0.00"),
        D("1260.92"),
    )
    assert (setl["acct_mulaid_pay"], setl["psn_cash_pay"], setl["balc"]) == (
        D("0.00"),
        D("0.00"),
        D("739.08"),
    )
    assert settled["setldetail"] == []
    assert balance(li) == 73908
    assert journal(app, his.code) == (0, 126092)
    # The ecToken is used up.
    again = his.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    assert err_code(again) == "SCAN_TOKEN_INVALID"

    # 2207 with mutual aid (flag 2): the wife's own 300.00, then her husband's 500.00, then
    # cash (recorded as paid from outside: the institution receives the whole bill).
    wife, wife_phone = app_user(client, clerk, "王芳", birth="19880101")
    husband, husband_phone = app_user(client, clerk, "张伟", birth="19870101")
    assert credit(clerk, "2026-11", (wife, 30000), (husband, 50000)).status_code == 201
    assert husband_phone.file_beneficiary(wife, "spouse").status_code == 201
    wife_token = his.decode(qr(wife_phone))
    wife_psn = his.ok("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": wife_token}})[
        "baseinfo"
    ]["psn_no"]
    family_bill = settlement_input(
        wife_token,
        wife_psn,
        medfee_sumamt=1000,
        inscp_scp_amt=1000,
        acct_used_flag=2,
    )
    aid = his.ok("2207", family_bill)["setlinfo"]
    check_identities(aid)
    assert (aid["acct_pay"], aid["acct_mulaid_pay"], aid["psn_cash_pay"], aid["balc"]) == (
        D("800.00"),
        D("500.00"),
        D("200.00"),
        D("0.00"),
    )
    assert (account_fen(wife_phone), account_fen(husband_phone)) == (0, 0)
    assert journal(app, his.code) == (0, 226092)

    # 2208: the first settlement cancelled, every fen back; a second cancellation is refused.
    cancel = his.ok("2208", {"data": {"setl_id": setl["setl_id"], "psn_no": psn_no}})
    c = cancel["setlinfo"]
    check_identities(c)
    assert (c["medfee_sumamt"], c["fund_pay_sumamt"], c["acct_pay"], c["balc"]) == (
        D("-1260.92"),
        D("0.00"),
        D("-1260.92"),
        D("2000.00"),
    )
    assert c["act_pay_dedc"] == D("-1260.92")
    assert cancel["yearinfo"]["setl_cnt"] == 0
    [pool] = cancel["yearinfo"]["poolinfo"]
    assert pool["pool_name"].startswith("门诊统筹")
    assert (pool["pool"], pool["dedc_used"], pool["hifp_pay_cum"]) == (
        "outpatient",
        D("0.00"),
        D("0.00"),
    )
    assert balance(li) == 200000
    assert journal(app, his.code) == (0, 100000)
    twice = his.call("2208", {"data": {"setl_id": setl["setl_id"], "psn_no": psn_no}})
    assert err_code(twice) == "ALREADY_REFUNDED"

    # 2601: a 2207 whose answer was lost is reversed; its re-send is then refused.
    lost_token = his.decode(qr(li.phone))
    lost_msgid = his.new_msgid()
    lost_bill = settlement_input(
        lost_token,
        psn_no,
        medfee_sumamt=100,
        inscp_scp_amt=100,
        acct_used_flag=1,
    )
    his.post(his.envelope("2207", lost_bill, lost_msgid))  # the answer never reaches the HIS
    assert balance(li) == 190000
    assert (
        his.ok("2601", {"data": {"psn_no": psn_no, "omsgid": lost_msgid, "oinfno": "2207"}}) == {}
    )
    assert balance(li) == 200000
    assert journal(app, his.code) == (0, 100000)
    late = his.call("2207", lost_bill, msgid=lost_msgid)
    assert err_code(late) == "ORDER_NO_CONFLICT"
    # A msgid never seen, reversed first, is refused when it arrives late.
    never = his.new_msgid()
    assert his.ok("2601", {"data": {"omsgid": never, "oinfno": "2207"}}) == {}
    assert err_code(his.call("2207", lost_bill, msgid=never)) == "ORDER_NO_CONFLICT"
    assert balance(li) == 200000

    # 3201: only the family's settlement is live today.
    day = clock.now().date().isoformat()
    totals = {
        "insutype": "310",
        "clr_type": "11",
        "setl_optins": "110108",
        "stmt_begndate": day,
        "stmt_enddate": day,
        "medfee_sumamt": "1000.00",
        "fund_pay_sumamt": "0.00",
        "acct_pay": "800.00",
        "fixmedins_setl_cnt": 1,
    }
    ok = his.ok("3201", {"data": totals})["stmtinfo"]
    assert (ok["stmt_rslt"], ok["stmt_rslt_dscr"]) == ("0", "对账平")
    off = his.ok("3201", {"data": {**totals, "acct_pay": "799.00"}})["stmtinfo"]
    assert (off["stmt_rslt"], off["stmt_rslt_dscr"]) == (
        "1",
        "个人账户支付：机构799.00，中心800.00",
    )
