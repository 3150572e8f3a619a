"""A 2206/2207 bill read and checked, and the figures settlement's answer gives it.

`_bill` reads a settlement request and checks it against the e-credential, the visit and its
uploaded fees, and decides the scene and the fund's share the HIS may state (cross-region only);
`_request` turns it into settlement's `SettleRequest` (with the accounts `acct_used_flag`
allows: `_accounts`); `_shares` derives
setlinfo's inscp_scp_amt, act_pay_dedc and pool_prop_selfpay from a settlement's fund_detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.his import codes
from server.his import transactions as tx
from server.his.errors import HisInputError
from server.his.money import fen_to_yuan
from server.hospital.context import (
    Ctx,
    _balance,
    _check_person,
    _live_visit,
    _peek_token,
    _visit_settled,
    psn_no,
)
from server.hospital.models import HisFeeLine
from server.privacy import mask_id_number
from server.settlement import rules as settlement_rules
from server.settlement.service import SettleRequest


@dataclass(frozen=True)
class _Bill:
    asked: tx.SettlementRequest
    person_id: int
    psn_no: str
    psn_name: str
    certno_masked: str
    insutype: str
    scene: settlement_rules.Scene
    fund_given_fen: int | None  # the HIS's own share (cross-region only); None: computed
    own_balance_fen: int

    @property
    def who(self) -> tuple[str, str, str]:
        return self.psn_no, self.psn_name, self.certno_masked


def _given_fund(asked: tx.SettlementRequest, scene: settlement_rules.Scene) -> int | None:
    """The fund's share the HIS states, for a cross-region bill only (the policy has no rule for
    it: the place of treatment's decomposition is used as is). Elsewhere it is computed, and a
    stated share other than 0 is refused rather than silently replaced."""
    given = asked.fund_pay_fen
    if scene is settlement_rules.Scene.CROSS_REGION:
        if given is None:
            raise HisInputError("fund_pay_sumamt", "异地就医结算须传入就医地医保分解的基金支付金额")
        if given > asked.medfee_fen - asked.out_of_scope_fen:
            raise HisInputError(
                "fund_pay_sumamt", "基金支付超过政策范围内金额", code="INVALID_AMOUNT"
            )
        return given
    if given:
        raise HisInputError("fund_pay_sumamt", "本地结算的基金支付由中心按待遇政策计算，请勿传入")
    return None


def _has_prescription(session: Session, asked: tx.SettlementRequest) -> bool:
    """外配处方: the bill names a prescription (`rxno`), or a live fee line of its visit (and
    batch) was uploaded with one."""
    if asked.rxno is not None:
        return True
    if asked.mdtrt_id is None:
        return False
    where = [
        HisFeeLine.mdtrt_id == asked.mdtrt_id,
        HisFeeLine.cancelled_at.is_(None),
        HisFeeLine.rxno.is_not(None),
    ]
    if asked.chrg_bchno is not None:
        where.append(HisFeeLine.chrg_bchno == asked.chrg_bchno)
    return session.scalar(select(HisFeeLine.id).where(*where).limit(1)) is not None


def _bill(ctx: Ctx, session: Session) -> _Bill:
    """Read and check a 2206/2207 request: the person, the visit and its fees, the scene."""
    asked = tx.read_settlement(ctx.env.input)
    person = _peek_token(
        session, token=asked.ec_token, institution_id=ctx.institution_id, now=ctx.now
    )
    insutype = _check_person(person, asked.psn_no, asked.insutype)
    if asked.mdtrt_id is not None:
        visit = _live_visit(session, ctx, asked.mdtrt_id)
        if visit.person_id != person.id:
            raise HisInputError("mdtrt_id", "就诊记录不属于该参保人")
        if _visit_settled(session, asked.mdtrt_id):
            raise HisInputError("mdtrt_id", "该就诊已结算")
        where = [HisFeeLine.mdtrt_id == asked.mdtrt_id, HisFeeLine.cancelled_at.is_(None)]
        if asked.chrg_bchno is not None:
            where.append(HisFeeLine.chrg_bchno == asked.chrg_bchno)
        uploaded = session.scalar(
            select(func.coalesce(func.sum(HisFeeLine.amount_fen), 0)).where(*where)
        )
        count = session.scalar(select(func.count()).select_from(HisFeeLine).where(*where))
        if count and int(uploaded or 0) != asked.medfee_fen:
            raise HisInputError(
                "medfee_sumamt",
                f"与已上传明细合计{fen_to_yuan(int(uploaded or 0))}不符",
                code="INVALID_AMOUNT",
            )
    scene = settlement_rules.Scene(
        codes.scene_for(
            asked.med_type,
            has_prescription=_has_prescription(session, asked),
            insuplc_admdvs=ctx.env.insuplc_admdvs,
            mdtrtarea_admvs=ctx.env.mdtrtarea_admvs,
        )
    )
    return _Bill(
        asked=asked,
        person_id=person.id,
        psn_no=psn_no(person),
        psn_name=person.name,
        certno_masked=mask_id_number(person.id_number),
        insutype=insutype,
        scene=scene,
        fund_given_fen=_given_fund(asked, scene),
        own_balance_fen=_balance(session, person.id),
    )


def _request(ctx: Ctx, bill: _Bill) -> SettleRequest:
    """The whole bill, as settlement sees it: fund_fen None lets the policy compute the share."""
    a = bill.asked
    return SettleRequest(
        order_no=ctx.env.msgid,
        scene=bill.scene,
        medium=settlement_rules.Medium.ECREDENTIAL,
        scan_token=a.ec_token,
        card_no=None,
        total_fen=a.medfee_fen,
        fund_fen=bill.fund_given_fen,
        fulamt_ownpay_fen=a.fulamt_ownpay_fen,
        preselfpay_fen=a.preselfpay_fen,
        overlmt_selfpay_fen=a.overlmt_selfpay_fen,
        accounts=_accounts(a.account_use),
    )


def _accounts(use: codes.AccountUse) -> settlement_rules.AccountUse:
    """acct_used_flag as settlement's accounts option: 0 none (the patient pays the burden in
    cash, no password asked), 1 the own account only, 2 the own then the family's mutual aid.
    The fund's share is the same whatever the flag; only who pays the burden changes."""
    if not use.uses_own_account:
        return settlement_rules.AccountUse.NONE
    if not use.uses_mutual_aid:
        return settlement_rules.AccountUse.OWN_ONLY
    return settlement_rules.AccountUse.ALL


@dataclass(frozen=True)
class _Shares:
    """The policy's figures of a bill for setlinfo, in fen."""

    eligible_fen: int  # inscp_scp_amt
    deductible_fen: int  # act_pay_dedc
    pool_prop_selfpay_fen: int  # the ratio's remainder inside the pool


def _shares(
    detail: Mapping[str, Any] | None, *, medfee_fen: int, out_of_scope_fen: int, fund_fen: int
) -> _Shares:
    """inscp_scp_amt, act_pay_dedc and pool_prop_selfpay from the settlement's fund_detail.

    A pooled rule: eligible = deductible + fund + pool_prop_selfpay (the part past the cap is in
    pool_prop_selfpay too). A fixed amount per visit or a share the HIS stated (cross-region):
    no deductible and no ratio, so both are 0.
    """
    if detail is None:
        return _Shares(medfee_fen - out_of_scope_fen, 0, 0)
    eligible = int(detail["eligible_fen"])
    deductible = int(detail["deductible_applied_fen"])
    if detail.get("pool") is None:
        return _Shares(eligible, 0, 0)
    return _Shares(eligible, deductible, eligible - deductible - fund_fen)
