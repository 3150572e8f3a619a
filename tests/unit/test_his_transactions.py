"""The served transactions' inputs and outputs: fen inside, two-decimal yuan outside."""

import json
from decimal import Decimal

import pytest

from server.his.errors import HisInputError
from server.his.money import dumps_answer
from server.his.transactions import (
    Insurance,
    Settled,
    Totals,
    fee_result_output,
    person_output,
    read_fee_details,
    read_person_query,
    read_reconciliation,
    read_refs,
    read_reversal,
    read_settlement,
    read_sign_in,
    reconciliation_output,
    registration_output,
    settlement_output,
    sign_in_output,
)


def test_sign_in_reads_the_operator_and_answers_the_sign_no():
    assert (
        read_sign_in({"signIn": {"opter_no": "0153", "mac": "null", "ip": "10.0.0.8"}}).mac is None
    )
    assert sign_in_output(sign_time="2026-01-15 08:00:00", sign_no="S1") == {
        "signinoutb": {"sign_time": "2026-01-15 08:00:00", "sign_no": "S1"}
    }


@pytest.mark.parametrize("bad", [{}, {"signIn": "x"}, {"signIn": {"mac": "m"}}])
def test_a_sign_in_without_an_operator_is_refused(bad):
    with pytest.raises(HisInputError):
        read_sign_in(bad)


def test_person_info_takes_the_ec_token_as_the_credential_number():
    query = read_person_query({"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": "tok"}})
    assert query.ec_token == "tok"
    with pytest.raises(HisInputError, match="只受理医保电子凭证"):
        read_person_query({"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "1101"}})


def test_person_info_answers_balances_in_yuan():
    out = person_output(
        psn_no="P1",
        certno_masked="110108********5011",
        psn_name="李明",
        gend="1",
        brdy="1990-07-04",
        age=35,
        insurances=[Insurance("310", "1101", 123456, "2012-07-01", "110108")],
    )
    assert out["insuinfo"][0]["balc"] == Decimal("1234.56")
    assert out["baseinfo"]["psn_cert_type"] == "01"
    assert out["idetinfo"] == []


def test_registration_and_its_follow_ups_name_their_identifiers():
    assert registration_output(mdtrt_id="M1", psn_no="P1", ipt_otp_no="O1") == {
        "data": {"mdtrt_id": "M1", "psn_no": "P1", "ipt_otp_no": "O1"}
    }
    refs = read_refs(
        {"data": {"psn_no": "P1", "mdtrt_id": "M1", "ipt_otp_no": "O1"}},
        required=("psn_no", "mdtrt_id", "ipt_otp_no"),
    )
    assert refs.mdtrt_id == "M1" and refs.setl_id is None
    with pytest.raises(HisInputError) as caught:
        read_refs({"data": {"psn_no": "P1"}}, required=("setl_id",))
    assert caught.value.field == "setl_id"


def test_a_reversal_names_the_original_message():
    rev = read_reversal({"data": {"psn_no": "P1", "omsgid": "M" * 30, "oinfno": "2207"}})
    assert rev.oinfno == "2207"
    with pytest.raises(HisInputError, match="不可冲正"):
        read_reversal({"data": {"omsgid": "M" * 30, "oinfno": "1101"}})


LINE = {
    "feedetl_sn": "F1",
    "mdtrt_id": "M1",
    "chrg_bchno": "B1",
    "med_list_codg": "XA01",
    "det_item_fee_sumamt": "25.00",
    "pric": "12.5",
    "cnt": 2,
    "rxno": "null",
}


def test_fee_details_are_read_in_fen_and_echoed_in_yuan():
    lines = read_fee_details({"feedetail": [LINE, {**LINE, "feedetl_sn": "F2", "rxno": "R1"}]})
    assert [line.amount_fen for line in lines] == [2500, 2500]
    assert lines[0].rxno is None and lines[1].rxno == "R1"
    out = dumps_answer(fee_result_output(lines)).decode()
    assert '"det_item_fee_sumamt":25.00' in out and '"pric":12.500000' in out


@pytest.mark.parametrize(
    ("feedetail", "field"),
    [
        ([], "feedetail"),
        ([LINE, LINE], "feedetl_sn"),
        ([{**LINE, "det_item_fee_sumamt": "1.005"}], "feedetail[1].det_item_fee_sumamt"),
        (["x"], "feedetail[1]"),
    ],
)
def test_bad_fee_details_are_refused_naming_the_line(feedetail, field):
    with pytest.raises(HisInputError) as caught:
        read_fee_details({"feedetail": feedetail})
    assert caught.value.field == field


SETTLE = {
    "psn_no": "P1",
    "mdtrt_cert_type": "01",
    "mdtrt_cert_no": "tok",
    "med_type": "11",
    "medfee_sumamt": Decimal("1260.92"),
    "psn_setlway": "01",
    "mdtrt_id": "M1",
    "chrg_bchno": "B1",
    "acct_used_flag": "1",
    "insutype": "310",
    "invono": "",
    "fulamt_ownpay_amt": "0",
    "overlmt_selfpay": 0,
    "preselfpay_amt": "",
    "inscp_scp_amt": 1260.92,
}


def test_a_settlement_request_is_read_in_fen():
    req = read_settlement({"data": SETTLE})
    assert req.medfee_fen == 126092
    assert req.inscp_scp_fen == 126092
    assert req.account_use.uses_own_account and not req.account_use.uses_mutual_aid
    assert req.invono is None
    assert (req.rxno, req.fund_pay_fen, req.out_of_scope_fen) == (None, None, 0)


@pytest.mark.parametrize(("raw", "fen"), [(None, None), ("", None), ("null", None), ("0", 0)])
def test_fund_pay_sumamt_is_read_only_when_given(raw, fen):
    req = read_settlement({"data": {**SETTLE, "fund_pay_sumamt": raw}})
    assert req.fund_pay_fen == fen
    assert read_settlement({"data": {**SETTLE, "fund_pay_sumamt": "60.5"}}).fund_pay_fen == 6050


def test_the_out_of_scope_parts_may_not_pass_the_bill_but_inscp_is_not_one_of_them():
    req = read_settlement({"data": {**SETTLE, "preselfpay_amt": "260.92", "rxno": "RX1"}})
    assert (req.out_of_scope_fen, req.inscp_scp_fen, req.rxno) == (26092, 126092, "RX1")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"medfee_sumamt": "0"}, "medfee_sumamt"),
        ({"medfee_sumamt": "1.005"}, "medfee_sumamt"),
        ({"fulamt_ownpay_amt": "2000"}, "medfee_sumamt"),
        ({"mdtrt_cert_type": "03"}, "mdtrt_cert_type"),
        ({"insutype": "320"}, "insutype"),
        ({"psn_setlway": "09"}, "psn_setlway"),
        ({"acct_used_flag": "5"}, "acct_used_flag"),
        ({"psn_no": "null"}, "psn_no"),
    ],
)
def test_bad_settlement_requests_are_refused(change, field):
    with pytest.raises(HisInputError) as caught:
        read_settlement({"data": {**SETTLE, **change}})
    assert caught.value.field == field


def settled(**changes):
    figures = dict(
        mdtrt_id="M1",
        psn_no="P1",
        psn_name="李明",
        certno_masked="110108********5011",
        insutype="310",
        med_type="11",
        setl_time="2026-01-15 09:30:12",
        medfee_fen=126092,
        fund_fen=88264,
        account_fen=37828,
        mutual_aid_fen=0,
        cash_fen=0,
        hospital_fen=0,
        balance_fen=162172,
        setl_id="S1",
        inscp_scp_fen=126092,
    )
    figures.update(changes)
    return Settled(**figures)


def test_the_worked_outpatient_bill_answers_in_two_decimal_yuan():
    out = settlement_output(settled())
    info = out["setlinfo"]
    assert info["setl_id"] == "S1"
    assert info["medfee_sumamt"] == Decimal("1260.92")
    assert info["fund_pay_sumamt"] == Decimal("882.64")
    assert info["psn_part_amt"] == Decimal("378.28")
    assert info["acct_pay"] == Decimal("378.28")
    assert info["psn_cash_pay"] == Decimal("0.00")
    text = dumps_answer(out).decode()
    assert '"medfee_sumamt":1260.92' in text and '"psn_cash_pay":0.00' in text
    assert json.loads(text)["setldetail"][0]["fund_payamt"] == 882.64


def test_the_policy_figures_are_answered():
    info = settlement_output(settled(pool_prop_selfpay_fen=37828))["setlinfo"]
    assert (info["act_pay_dedc"], info["pool_prop_selfpay"], info["hifp_pay"]) == (
        Decimal("0.00"),
        Decimal("378.28"),
        Decimal("882.64"),
    )
    resident = settlement_output(settled(insutype="390"))["setldetail"]
    assert resident == [{"fund_pay_type": "390100", "fund_payamt": Decimal("882.64")}]


def test_a_pre_settlement_has_no_setl_id():
    assert "setl_id" not in settlement_output(settled(setl_id=None))["setlinfo"]


@pytest.mark.parametrize(
    "change",
    [{"fund_fen": 88265}, {"mutual_aid_fen": 40000}, {"cash_fen": -1, "account_fen": 37829}],
)
def test_broken_identities_are_bugs_not_answers(change):
    with pytest.raises(ValueError):
        settlement_output(settled(**change))


RECON = {
    "insutype": "310",
    "clr_type": "11",
    "setl_optins": "110108",
    "stmt_begndate": "2026-01-01",
    "stmt_enddate": "2026-01-31",
    "medfee_sumamt": "1260.92",
    "fund_pay_sumamt": "882.64",
    "acct_pay": "378.28",
    "fixmedins_setl_cnt": 1,
}


def test_reconciliation_balances_when_every_total_agrees():
    asked = read_reconciliation({"data": RECON})
    out = reconciliation_output(asked, Totals(126092, 88264, 37828, 1))
    assert out == {
        "stmtinfo": {"setl_optins": "110108", "stmt_rslt": "0", "stmt_rslt_dscr": "对账平"}
    }


def test_reconciliation_names_each_difference():
    asked = read_reconciliation({"data": RECON})
    out = reconciliation_output(asked, Totals(126092, 88264, 37728, 2))
    assert out["stmtinfo"]["stmt_rslt"] == "1"
    assert "个人账户支付：机构378.28，中心377.28" in out["stmtinfo"]["stmt_rslt_dscr"]
    assert "结算笔数：机构1，中心2" in out["stmtinfo"]["stmt_rslt_dscr"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clr_type": "99"}, "clr_type"),
        ({"insutype": None}, "insutype"),
        ({"fixmedins_setl_cnt": "1.5"}, "fixmedins_setl_cnt"),
        ({"stmt_enddate": "2025-12-31"}, "stmt_enddate"),
    ],
)
def test_bad_reconciliations_are_refused(change, field):
    with pytest.raises(HisInputError) as caught:
        read_reconciliation({"data": {**RECON, **change}})
    assert caught.value.field == field


def test_an_object_where_an_identifier_belongs_is_refused_naming_it():
    with pytest.raises(HisInputError) as caught:
        read_refs({"data": {"psn_no": {"x": 1}}}, required=())
    assert caught.value.field == "psn_no"
