"""The HIS transactions of an outpatient visit before it is settled: 2201, 2202, 2204 and 2205.

2201 registers a visit (mdtrt_id) for the person an ecToken stands for and 2202 cancels one that
has no live settlement; 2204 keeps the visit's fee lines (serials unique per visit) and 2205
cancels a batch of them. `_cancel_visit` is shared with 2601's reversal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.his import codes
from server.his import transactions as tx
from server.his.envelope import (
    text_or_none,
)
from server.his.errors import HisInputError
from server.hospital.context import (
    Ctx,
    _check_person,
    _live_visit,
    _peek_token,
    _serial,
    _visit_settled,
    psn_no,
)
from server.hospital.models import HisFeeLine, HisVisit


# --- 2201 / 2202 ----------------------------------------------------------------------------
def register(ctx: Ctx) -> Mapping[str, Any]:
    """2201: an outpatient visit (mdtrt_id) for the person the ecToken stands for."""
    cert = tx.read_person_query(ctx.env.input)
    refs = tx.read_refs(ctx.env.input, required=("psn_no",))
    node = ctx.env.input["data"]
    insutype = codes.check_insutype(text_or_none(node.get("insutype")))
    session = ctx.uow.session
    mdtrt_id = _serial("M", ctx.now)
    with session.begin():
        person = _peek_token(
            session, token=cert.ec_token, institution_id=ctx.institution_id, now=ctx.now
        )
        theirs = _check_person(person, refs.psn_no, insutype)
        session.add(
            HisVisit(
                mdtrt_id=mdtrt_id,
                institution_id=ctx.institution_id,
                person_id=person.id,
                insutype=theirs,
                ipt_otp_no=(refs.ipt_otp_no or "")[:30] or None,
                msgid=ctx.env.msgid,
                registered_at=ctx.now,
            )
        )
        return tx.registration_output(
            mdtrt_id=mdtrt_id, psn_no=psn_no(person), ipt_otp_no=refs.ipt_otp_no or ""
        )


def cancel_registration(ctx: Ctx) -> Mapping[str, Any]:
    """2202: cancel a visit that has no live settlement."""
    refs = tx.read_refs(ctx.env.input, required=("mdtrt_id",))
    assert refs.mdtrt_id is not None
    session = ctx.uow.session
    with session.begin():
        _cancel_visit(session, ctx, refs.mdtrt_id)
    return {}


def _cancel_visit(session: Session, ctx: Ctx, mdtrt_id: str) -> None:
    visit = _live_visit(session, ctx, mdtrt_id)
    if _visit_settled(session, mdtrt_id):
        raise HisInputError("mdtrt_id", "该就诊已结算，请先撤销结算")
    visit.cancelled_at = ctx.now


# --- 2204 / 2205 ----------------------------------------------------------------------------
def upload_fees(ctx: Ctx) -> Mapping[str, Any]:
    """2204: keep the fee lines of live visits of this institution; serials unique per visit."""
    lines = tx.read_fee_details(ctx.env.input)
    session = ctx.uow.session
    with session.begin():
        for mdtrt_id in {line.mdtrt_id for line in lines}:
            _live_visit(session, ctx, mdtrt_id)
            if _visit_settled(session, mdtrt_id):
                raise HisInputError("mdtrt_id", "该就诊已结算，不能再上传明细")
            taken = set(
                session.scalars(
                    select(HisFeeLine.feedetl_sn).where(
                        HisFeeLine.mdtrt_id == mdtrt_id, HisFeeLine.cancelled_at.is_(None)
                    )
                )
            )
            clash = [line.feedetl_sn for line in lines if line.feedetl_sn in taken]
            if clash:
                raise HisInputError("feedetl_sn", f"费用明细流水号已上传：{clash[0][:30]}")
        for line in lines:
            session.add(
                HisFeeLine(
                    mdtrt_id=line.mdtrt_id,
                    chrg_bchno=line.chrg_bchno[:30],
                    feedetl_sn=line.feedetl_sn[:30],
                    med_list_codg=line.med_list_codg[:50],
                    rxno=line.rxno[:30] if line.rxno else None,
                    amount_fen=line.amount_fen,
                    msgid=ctx.env.msgid,
                    uploaded_at=ctx.now,
                )
            )
    return tx.fee_result_output(lines)


def cancel_fees(ctx: Ctx) -> Mapping[str, Any]:
    """2205: cancel a visit's fee lines of one batch (all batches without chrg_bchno)."""
    refs = tx.read_refs(ctx.env.input, required=("mdtrt_id",))
    assert refs.mdtrt_id is not None
    session = ctx.uow.session
    with session.begin():
        _live_visit(session, ctx, refs.mdtrt_id)
        if _visit_settled(session, refs.mdtrt_id):
            raise HisInputError("mdtrt_id", "该就诊已结算，请先撤销结算")
        where = [HisFeeLine.mdtrt_id == refs.mdtrt_id, HisFeeLine.cancelled_at.is_(None)]
        if refs.chrg_bchno is not None:
            where.append(HisFeeLine.chrg_bchno == refs.chrg_bchno)
        done = session.execute(update(HisFeeLine).where(*where).values(cancelled_at=ctx.now))
        if not done.rowcount:  # type: ignore[attr-defined]
            raise HisInputError("chrg_bchno", "没有可撤销的费用明细", code="NOT_FOUND")
    return {}
