"""The HIS transactions' output builders: each `*_output` takes plain values and returns the
output node, money as two-decimal yuan. The settlement output checks the identities that must
hold to the fen: medfee = fund + person + hospital, person = account + cash, mutual aid inside
account. docs/his-interface.md, "Transactions".

server/his/readers.py reads the inputs; server/his/transactions.py re-exports both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.his.money import fen_to_yuan
from server.his.readers import FeeLine, Reconciliation


# --- 9001 sign-in ---------------------------------------------------------------------------
def sign_in_output(*, sign_time: str, sign_no: str) -> dict[str, Any]:
    """`{signinoutb: {sign_time: "yyyy-MM-dd HH:mm:ss", sign_no}}`."""
    return {"signinoutb": {"sign_time": sign_time, "sign_no": sign_no}}


# --- 1101 person info -------------------------------------------------------------------------
@dataclass(frozen=True)
class Insurance:
    insutype: str
    psn_type: str
    balance_fen: int
    insured_since: str  # yyyy-MM-dd
    insuplc_admdvs: str
    is_active: bool = True


def person_output(
    *,
    psn_no: str,
    certno_masked: str,
    psn_name: str,
    gend: str,
    brdy: str,
    age: int,
    insurances: Sequence[Insurance],
    naty: str | None = None,
) -> dict[str, Any]:
    """`{baseinfo: {...}, insuinfo: [...], idetinfo: []}`; psn_cert_type 01 (resident ID)."""
    return {
        "baseinfo": {
            "psn_no": psn_no,
            "psn_cert_type": "01",
            "certno": certno_masked,
            "psn_name": psn_name,
            "gend": gend,
            "naty": naty,
            "brdy": brdy,
            "age": age,
        },
        "insuinfo": [
            {
                "balc": fen_to_yuan(i.balance_fen),
                "insutype": i.insutype,
                "psn_type": i.psn_type,
                "psn_insu_stas": "1" if i.is_active else "2",
                "psn_insu_date": i.insured_since,
                "paus_insu_date": None,
                "cvlserv_flag": "0",
                "insuplc_admdvs": i.insuplc_admdvs,
                "emp_name": None,
            }
            for i in insurances
        ],
        "idetinfo": [],
    }


# --- 2201/2202 registration, 2205 fee cancellation, 2208 settlement cancellation, 2601 --------
def registration_output(*, mdtrt_id: str, psn_no: str, ipt_otp_no: str) -> dict[str, Any]:
    return {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "ipt_otp_no": ipt_otp_no}}


# --- 2204 fee details -------------------------------------------------------------------------
def fee_result_output(lines: Sequence[FeeLine]) -> dict[str, Any]:
    """`{result: [...]}`, one per line, echoing its amount; the grading is the engine's."""
    return {
        "result": [
            {
                "feedetl_sn": line.feedetl_sn,
                "det_item_fee_sumamt": fen_to_yuan(line.amount_fen),
                "cnt": line.count,
                "pric": line.price,
            }
            for line in lines
        ]
    }


# --- 2206/2207 pre-settlement and settlement ------------------------------------------------------
@dataclass(frozen=True)
class Settled:
    """A settlement's figures in fen, and who it was for."""

    mdtrt_id: str
    psn_no: str
    psn_name: str
    certno_masked: str
    insutype: str
    med_type: str
    setl_time: str  # yyyy-MM-dd HH:mm:ss
    medfee_fen: int
    fund_fen: int
    account_fen: int  # own account and mutual aid together
    mutual_aid_fen: int
    cash_fen: int
    hospital_fen: int
    balance_fen: int
    fulamt_ownpay_fen: int = 0
    overlmt_selfpay_fen: int = 0
    preselfpay_fen: int = 0
    inscp_scp_fen: int = 0
    deductible_fen: int = 0
    pool_prop_selfpay_fen: int = 0
    setl_id: str | None = None  # None for a pre-settlement (2206)
    medins_setl_id: str | None = None

    @property
    def person_fen(self) -> int:
        return self.account_fen + self.cash_fen


def settlement_output(settled: Settled) -> dict[str, Any]:
    """`{setlinfo: {...}, setldetail: [...]}` after checking the identities to the fen.

    An identity that does not hold is a bug of the caller (ValueError), never an answer.
    """
    s = settled
    amounts = (
        s.medfee_fen,
        s.fund_fen,
        s.account_fen,
        s.mutual_aid_fen,
        s.cash_fen,
        s.hospital_fen,
    )
    if any(a < 0 for a in amounts):
        raise ValueError("settlement amounts cannot be negative")
    if s.medfee_fen != s.fund_fen + s.person_fen + s.hospital_fen:
        raise ValueError("medfee_sumamt != fund_pay_sumamt + psn_part_amt + hosp_part_amt")
    if s.mutual_aid_fen > s.account_fen:
        raise ValueError("acct_mulaid_pay is part of acct_pay and cannot exceed it")
    setlinfo: dict[str, Any] = {
        "mdtrt_id": s.mdtrt_id,
        "psn_no": s.psn_no,
        "psn_name": s.psn_name,
        "psn_cert_type": "01",
        "certno": s.certno_masked,
        "insutype": s.insutype,
        "med_type": s.med_type,
        "setl_time": s.setl_time,
        "medfee_sumamt": fen_to_yuan(s.medfee_fen),
        "fulamt_ownpay_amt": fen_to_yuan(s.fulamt_ownpay_fen),
        "overlmt_selfpay": fen_to_yuan(s.overlmt_selfpay_fen),
        "preselfpay_amt": fen_to_yuan(s.preselfpay_fen),
        "inscp_scp_amt": fen_to_yuan(s.inscp_scp_fen),
        "act_pay_dedc": fen_to_yuan(s.deductible_fen),
        "pool_prop_selfpay": fen_to_yuan(s.pool_prop_selfpay_fen),
        "hifp_pay": fen_to_yuan(s.fund_fen),
        "fund_pay_sumamt": fen_to_yuan(s.fund_fen),
        "psn_part_amt": fen_to_yuan(s.person_fen),
        "acct_pay": fen_to_yuan(s.account_fen),
        "acct_mulaid_pay": fen_to_yuan(s.mutual_aid_fen),
        "psn_cash_pay": fen_to_yuan(s.cash_fen),
        "hosp_part_amt": fen_to_yuan(s.hospital_fen),
        "balc": fen_to_yuan(s.balance_fen),
        "medins_setl_id": s.medins_setl_id,
    }
    if s.setl_id is not None:
        setlinfo = {"setl_id": s.setl_id, **setlinfo}
    detail = (
        [
            {
                "fund_pay_type": "310100" if s.insutype == "310" else "390100",
                "fund_payamt": fen_to_yuan(s.fund_fen),
            }
        ]
        if s.fund_fen
        else []
    )
    return {"setlinfo": setlinfo, "setldetail": detail}


# --- 3201 reconciliation ------------------------------------------------------------------------
@dataclass(frozen=True)
class Totals:
    medfee_fen: int
    fund_fen: int
    account_fen: int
    settlement_count: int


def reconciliation_output(asked: Reconciliation, ours: Totals) -> dict[str, Any]:
    """`{stmtinfo: {setl_optins, stmt_rslt, stmt_rslt_dscr}}`: "0" balanced, "1" not."""
    theirs = Totals(asked.medfee_fen, asked.fund_fen, asked.account_fen, asked.settlement_count)
    differences = [
        f"{label}：机构{fmt(a)}，中心{fmt(b)}"
        for label, a, b, fmt in (
            ("医疗费总额", theirs.medfee_fen, ours.medfee_fen, _yuan_text),
            ("基金支付总额", theirs.fund_fen, ours.fund_fen, _yuan_text),
            ("个人账户支付", theirs.account_fen, ours.account_fen, _yuan_text),
            ("结算笔数", theirs.settlement_count, ours.settlement_count, str),
        )
        if a != b
    ]
    return {
        "stmtinfo": {
            "setl_optins": asked.setl_optins,
            "stmt_rslt": "1" if differences else "0",
            "stmt_rslt_dscr": "；".join(differences) if differences else "对账平",
        }
    }


def _yuan_text(fen: int) -> str:
    return str(fen_to_yuan(fen))
