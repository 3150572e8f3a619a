"""The HIS settlement of a bill: 2206 (the preview) and 2207 (the settlement).

Who pays: the whole bill goes to settlement with `fund_fen` None, so the benefit policy computes
the fund's share against the person's year (a cross-region bill, for which the policy has no
rule, carries the HIS's own `fund_pay_sumamt`). Settlement pays the personal burden from the
accounts `acct_used_flag` allows (2: the own account, then the family's mutual-aid accounts; 1:
the own account; 0: none), and the rest in cash (recorded as paid from outside, as at a till).
docs/his-interface.md, "Who pays", "The fund's share". `_settled` and `_row_shares` give a kept
settlement's setlinfo figures, for 2208 too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from server.his import transactions as tx
from server.hospital.bill import _bill, _request, _Shares, _shares
from server.hospital.context import (
    Ctx,
    _balance,
    _serial,
    _wire_time,
)
from server.hospital.models import HisSettlement
from server.settlement.pricing import SELF
from server.settlement.service import look_up, preview, settle
from server.uow import UnitOfWork


def pre_settle(ctx: Ctx) -> Mapping[str, Any]:
    """2206: `settlement.service.preview` of the whole bill: the figures 2207 would give now;
    writes nothing, leaves the ecToken unused."""
    session = ctx.uow.session
    with session.begin():
        bill = _bill(ctx, session)
    a = bill.asked
    quote = preview(ctx.uow, terminal=ctx.terminal, request=_request(ctx, bill))
    own_fen = sum(int(leg["amount_fen"]) for leg in quote.legs if leg["source"] == SELF)
    account_fen = sum(int(leg["amount_fen"]) for leg in quote.legs)
    shares = _shares(
        quote.fund_detail,
        medfee_fen=a.medfee_fen,
        out_of_scope_fen=a.out_of_scope_fen,
        fund_fen=quote.fund_fen,
    )
    return tx.settlement_output(
        tx.Settled(
            mdtrt_id=a.mdtrt_id or "",
            psn_no=bill.psn_no,
            psn_name=bill.psn_name,
            certno_masked=bill.certno_masked,
            insutype=bill.insutype,
            med_type=a.med_type,
            setl_time=_wire_time(ctx.now),
            medfee_fen=a.medfee_fen,
            fund_fen=quote.fund_fen,
            account_fen=account_fen,
            mutual_aid_fen=account_fen - own_fen,
            cash_fen=quote.cash_fen,
            hospital_fen=0,
            balance_fen=bill.own_balance_fen - own_fen,
            fulamt_ownpay_fen=a.fulamt_ownpay_fen,
            overlmt_selfpay_fen=a.overlmt_selfpay_fen,
            preselfpay_fen=a.preselfpay_fen,
            inscp_scp_fen=shares.eligible_fen,
            deductible_fen=shares.deductible_fen,
            pool_prop_selfpay_fen=shares.pool_prop_selfpay_fen,
            medins_setl_id=ctx.env.msgid,
        )
    )


def settle_bill(ctx: Ctx) -> Mapping[str, Any]:
    """2207: `settlement.service.settle` of the whole bill with fund_fen None (the policy's share,
    counted in the person's year) and the accounts acct_used_flag allows, keep the figures, use
    up the ecToken. The order number is the msgid, so a twin settles once."""
    session, uow = ctx.uow.session, ctx.uow
    with session.begin():
        bill = _bill(ctx, session)
    a = bill.asked
    done = settle(uow, terminal=ctx.terminal, request=_request(ctx, bill)).settlement
    fund_fen = int(done.fund_fen)
    account_fen = int(done.personal_account_fen) + int(done.mutual_aid_fen)
    shares = _shares(
        done.fund_detail,
        medfee_fen=a.medfee_fen,
        out_of_scope_fen=a.out_of_scope_fen,
        fund_fen=fund_fen,
    )
    with session.begin():
        row = session.scalar(
            select(HisSettlement).where(
                HisSettlement.institution_id == ctx.institution_id,
                HisSettlement.msgid == ctx.env.msgid,
            )
        )
        if row is None:
            row = HisSettlement(
                setl_id=_serial("S", ctx.now),
                institution_id=ctx.institution_id,
                msgid=ctx.env.msgid,
                person_id=bill.person_id,
                settlement_id=done.id,
                mdtrt_id=a.mdtrt_id,
                med_type=a.med_type,
                insutype=bill.insutype,
                medfee_fen=a.medfee_fen,
                fund_fen=fund_fen,
                account_fen=account_fen,
                mutual_aid_fen=int(done.mutual_aid_fen),
                cash_fen=int(done.cash_fen),
                fulamt_ownpay_fen=a.fulamt_ownpay_fen,
                overlmt_selfpay_fen=a.overlmt_selfpay_fen,
                preselfpay_fen=a.preselfpay_fen,
                inscp_scp_fen=shares.eligible_fen,
                settled_at=ctx.now,
            )
            session.add(row)
            session.flush()
        balance = _balance(session, bill.person_id)
        return tx.settlement_output(_settled(row, bill.who, balance, shares))


def _settled(
    row: HisSettlement,
    who: tuple[str, str, str],
    balance_fen: int,
    shares: _Shares,
    *,
    cancel: bool = False,
) -> tx.Settled:
    psn, name, certno = who
    return tx.Settled(
        setl_id=row.cancel_setl_id if cancel else row.setl_id,
        mdtrt_id=row.mdtrt_id or "",
        psn_no=psn,
        psn_name=name,
        certno_masked=certno,
        insutype=row.insutype,
        med_type=row.med_type,
        setl_time=_wire_time(row.cancelled_at if cancel and row.cancelled_at else row.settled_at),
        medfee_fen=row.medfee_fen,
        fund_fen=row.fund_fen,
        account_fen=row.account_fen,
        mutual_aid_fen=row.mutual_aid_fen,
        cash_fen=row.cash_fen,
        hospital_fen=0,
        balance_fen=balance_fen,
        fulamt_ownpay_fen=row.fulamt_ownpay_fen,
        overlmt_selfpay_fen=row.overlmt_selfpay_fen,
        preselfpay_fen=row.preselfpay_fen,
        inscp_scp_fen=shares.eligible_fen,
        deductible_fen=shares.deductible_fen,
        pool_prop_selfpay_fen=shares.pool_prop_selfpay_fen,
        medins_setl_id=row.msgid,
    )


def _row_shares(uow: UnitOfWork, row: HisSettlement) -> _Shares:
    """The policy's figures of a kept HIS settlement, from its settlement's fund_detail."""
    detail: Mapping[str, Any] | None = None
    if row.settlement_id is not None:
        done, _ = look_up(uow, institution_id=row.institution_id, settlement_id=row.settlement_id)
        detail = done.fund_detail
    out_of_scope = row.fulamt_ownpay_fen + row.overlmt_selfpay_fen + row.preselfpay_fen
    return _shares(
        detail, medfee_fen=row.medfee_fen, out_of_scope_fen=out_of_scope, fund_fen=row.fund_fen
    )
