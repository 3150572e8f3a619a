"""The HIS transactions' readers: each `read_*` takes an Envelope's input and returns a
frozen dataclass of plain values, money in fen. docs/his-interface.md, "Transactions".

server/his/outputs.py builds the answers; server/his/transactions.py re-exports both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.his.codes import (
    CLR_TYPES,
    PSN_SETLWAYS,
    AccountUse,
    account_use,
    check_code,
    check_ecredential_cert,
    check_insutype,
)
from server.his.envelope import text_or_none
from server.his.errors import HisInputError
from server.his.money import parse_count, parse_price, yuan_to_fen


def _node(input_: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The input's node `name` (an object); a JSON string holding one is tolerated."""
    node = input_.get(name)
    if node is None:
        raise HisInputError(name, "缺少输入节点")
    if not isinstance(node, Mapping):
        raise HisInputError(name, "输入节点应为JSON对象")
    return node


def _text(node: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    try:
        value = text_or_none(node.get(name))
    except HisInputError:
        raise HisInputError(name, "应为字符串") from None
    if value is None and required:
        raise HisInputError(name, "不能为空")
    return value


def _req(node: Mapping[str, Any], name: str) -> str:
    value = _text(node, name)
    assert value is not None
    return value


# --- 9001 sign-in ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SignIn:
    opter_no: str
    mac: str | None
    ip: str | None


def read_sign_in(input_: Mapping[str, Any]) -> SignIn:
    """`{signIn: {opter_no, mac, ip}}`."""
    node = _node(input_, "signIn")
    return SignIn(
        opter_no=_req(node, "opter_no"),
        mac=_text(node, "mac", required=False),
        ip=_text(node, "ip", required=False),
    )


# --- 1101 person info -------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonQuery:
    ec_token: str
    certno: str | None
    psn_name: str | None


def read_person_query(input_: Mapping[str, Any]) -> PersonQuery:
    """`{data: {mdtrt_cert_type: "01", mdtrt_cert_no: <ecToken>, ...}}`."""
    node = _node(input_, "data")
    check_ecredential_cert(_text(node, "mdtrt_cert_type", required=False))
    return PersonQuery(
        ec_token=_req(node, "mdtrt_cert_no"),
        certno=_text(node, "certno", required=False),
        psn_name=_text(node, "psn_name", required=False),
    )


# --- 2201/2202 registration, 2205 fee cancellation, 2208 settlement cancellation, 2601 --------
@dataclass(frozen=True)
class Refs:
    """The identifiers a follow-up transaction names; absent ones are None."""

    psn_no: str | None
    mdtrt_id: str | None
    ipt_otp_no: str | None
    chrg_bchno: str | None
    setl_id: str | None


def read_refs(input_: Mapping[str, Any], *, required: Sequence[str]) -> Refs:
    """The `data` node's identifiers; each of `required` must be present (2202, 2205, 2208)."""
    node = _node(input_, "data")
    values = {
        name: _text(node, name, required=name in required)
        for name in ("psn_no", "mdtrt_id", "ipt_otp_no", "chrg_bchno", "setl_id")
    }
    return Refs(**values)


@dataclass(frozen=True)
class Reversal:
    psn_no: str | None
    omsgid: str
    oinfno: str


REVERSIBLE_INFNOS = frozenset({"2201", "2204", "2207"})


def read_reversal(input_: Mapping[str, Any]) -> Reversal:
    """2601 `{data: {psn_no, omsgid, oinfno}}`; only registration, fee upload and settlement."""
    node = _node(input_, "data")
    oinfno = _req(node, "oinfno")
    if oinfno not in REVERSIBLE_INFNOS:
        raise HisInputError("oinfno", f"交易 {oinfno[:4]} 不可冲正；可冲正：2201、2204、2207")
    return Reversal(
        psn_no=_text(node, "psn_no", required=False), omsgid=_req(node, "omsgid"), oinfno=oinfno
    )


# --- 2204 fee details -------------------------------------------------------------------------
@dataclass(frozen=True)
class FeeLine:
    feedetl_sn: str
    mdtrt_id: str
    chrg_bchno: str
    med_list_codg: str
    medins_list_codg: str | None
    amount_fen: int
    price: Decimal
    count: Decimal
    rxno: str | None
    fee_ocur_time: str | None


def read_fee_details(input_: Mapping[str, Any]) -> tuple[FeeLine, ...]:
    """`{feedetail: [...]}`: at least one line, serial numbers unique. Amounts in fen."""
    lines = input_.get("feedetail")
    if not isinstance(lines, list) or not lines:
        raise HisInputError("feedetail", "应为非空数组")
    read: list[FeeLine] = []
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            raise HisInputError(f"feedetail[{n}]", "应为JSON对象")
        try:
            read.append(
                FeeLine(
                    feedetl_sn=_req(line, "feedetl_sn"),
                    mdtrt_id=_req(line, "mdtrt_id"),
                    chrg_bchno=_req(line, "chrg_bchno"),
                    med_list_codg=_req(line, "med_list_codg"),
                    medins_list_codg=_text(line, "medins_list_codg", required=False),
                    amount_fen=yuan_to_fen(line.get("det_item_fee_sumamt"), "det_item_fee_sumamt"),
                    price=parse_price(line.get("pric")),
                    count=parse_count(line.get("cnt")),
                    rxno=_text(line, "rxno", required=False),
                    fee_ocur_time=_text(line, "fee_ocur_time", required=False),
                )
            )
        except HisInputError as exc:
            raise HisInputError(
                f"feedetail[{n}].{exc.field}", exc.reason_zh, code=exc.code
            ) from None
    serials = [line.feedetl_sn for line in read]
    if len(set(serials)) != len(serials):
        raise HisInputError("feedetl_sn", "费用明细流水号重复")
    return tuple(read)


# --- 2206/2207 pre-settlement and settlement ------------------------------------------------------
@dataclass(frozen=True)
class SettlementRequest:
    psn_no: str
    ec_token: str
    med_type: str
    medfee_fen: int
    psn_setlway: str
    mdtrt_id: str | None
    chrg_bchno: str | None
    account_use: AccountUse
    insutype: str | None
    invono: str | None
    fulamt_ownpay_fen: int
    overlmt_selfpay_fen: int
    preselfpay_fen: int
    inscp_scp_fen: int  # the HIS's own figure; the answer's is computed
    rxno: str | None = None  # a prescription (外配处方) named on the bill itself
    fund_pay_fen: int | None = None  # `fund_pay_sumamt` when given (cross-region only)

    @property
    def out_of_scope_fen(self) -> int:
        return self.fulamt_ownpay_fen + self.overlmt_selfpay_fen + self.preselfpay_fen


def _given(value: Any) -> bool:
    """Whether an optional field carries a value (absent, null, "" and "null" do not)."""
    if value is None:
        return False
    return not (isinstance(value, str) and value.strip().lower() in ("", "null"))


def read_settlement(input_: Mapping[str, Any]) -> SettlementRequest:
    """2206/2207 `{data: {...}}`: the e-credential, a positive bill, amounts in fen."""
    node = _node(input_, "data")
    check_ecredential_cert(_text(node, "mdtrt_cert_type", required=False))
    medfee_fen = yuan_to_fen(node.get("medfee_sumamt"), "medfee_sumamt")
    if medfee_fen <= 0:
        raise HisInputError("medfee_sumamt", "医疗费总额应大于0", code="INVALID_AMOUNT")
    parts = {
        name: yuan_to_fen(node.get(name), name)
        for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    }
    out_of_scope = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt")
    if sum(parts[name] for name in out_of_scope) > medfee_fen:
        raise HisInputError(
            "medfee_sumamt", "全自费、超限价、先行自付之和超过医疗费总额", code="INVALID_AMOUNT"
        )
    raw_fund = node.get("fund_pay_sumamt")
    return SettlementRequest(
        psn_no=_req(node, "psn_no"),
        ec_token=_req(node, "mdtrt_cert_no"),
        med_type=_req(node, "med_type"),
        medfee_fen=medfee_fen,
        psn_setlway=check_code(
            PSN_SETLWAYS, _text(node, "psn_setlway", required=False) or "01", "psn_setlway"
        ),
        mdtrt_id=_text(node, "mdtrt_id", required=False),
        chrg_bchno=_text(node, "chrg_bchno", required=False),
        account_use=account_use(_text(node, "acct_used_flag", required=False)),
        insutype=check_insutype(_text(node, "insutype", required=False)),
        invono=_text(node, "invono", required=False),
        fulamt_ownpay_fen=parts["fulamt_ownpay_amt"],
        overlmt_selfpay_fen=parts["overlmt_selfpay"],
        preselfpay_fen=parts["preselfpay_amt"],
        inscp_scp_fen=parts["inscp_scp_amt"],
        rxno=_text(node, "rxno", required=False),
        fund_pay_fen=yuan_to_fen(raw_fund, "fund_pay_sumamt") if _given(raw_fund) else None,
    )


# --- 3201 reconciliation ------------------------------------------------------------------------
@dataclass(frozen=True)
class Reconciliation:
    insutype: str
    clr_type: str
    setl_optins: str | None
    begin_date: str
    end_date: str
    medfee_fen: int
    fund_fen: int
    account_fen: int
    settlement_count: int


def read_reconciliation(input_: Mapping[str, Any]) -> Reconciliation:
    """3201 `{data: {insutype, clr_type, setl_optins, stmt_begndate, stmt_enddate, ...}}`."""
    node = _node(input_, "data")
    count_text = _req(node, "fixmedins_setl_cnt")
    count = parse_count(count_text, "fixmedins_setl_cnt")
    if count != count.to_integral_value():
        raise HisInputError("fixmedins_setl_cnt", "结算笔数应为整数")
    begin, end = _req(node, "stmt_begndate"), _req(node, "stmt_enddate")
    if begin[:10] > end[:10]:
        raise HisInputError("stmt_enddate", "对账结束日期早于开始日期")
    return Reconciliation(
        insutype=str(check_insutype(_text(node, "insutype"), required=True)),
        clr_type=check_code(CLR_TYPES, _text(node, "clr_type"), "clr_type"),
        setl_optins=_text(node, "setl_optins", required=False),
        begin_date=begin[:10],
        end_date=end[:10],
        medfee_fen=yuan_to_fen(node.get("medfee_sumamt"), "medfee_sumamt"),
        fund_fen=yuan_to_fen(node.get("fund_pay_sumamt"), "fund_pay_sumamt"),
        account_fen=yuan_to_fen(node.get("acct_pay"), "acct_pay"),
        settlement_count=int(count),
    )
