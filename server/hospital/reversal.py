"""The HIS reversal (冲正): 2601 undoes what an earlier message did.

A registration (2201), a fee upload (2204) or a settlement (2207) is undone through the same
paths as 2202, 2205 and 2208; a message never seen is remembered as reversed, so that a late
arrival of it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from server.his import transactions as tx
from server.his.errors import HisInputError
from server.hospital.cancelling import _cancel_settlement
from server.hospital.context import (
    Ctx,
    _live_visit,
    _visit_settled,
)
from server.hospital.models import HisFeeLine, HisMessage, HisSettlement, HisVisit
from server.hospital.visits import _cancel_visit


# --- 2601 -----------------------------------------------------------------------------------
def reverse(ctx: Ctx) -> Mapping[str, Any]:
    """2601: undo what message `omsgid` did (a registration, a fee upload, a settlement).

    A message never seen is remembered as reversed, so that a late arrival of it is refused.
    """
    asked = tx.read_reversal(ctx.env.input)
    session = ctx.uow.session
    key = (ctx.code, asked.omsgid)
    with session.begin():
        row = session.get(HisMessage, key)
        if row is None:
            session.add(
                HisMessage(
                    fixmedins_code=ctx.code,
                    msgid=asked.omsgid,
                    infno=asked.oinfno,
                    received_at=ctx.now,
                    reversed_at=ctx.now,
                )
            )
        else:
            if row.infno != asked.oinfno:
                raise HisInputError("oinfno", f"原报文的交易编号为 {row.infno}")
            if row.reversed_at is not None:
                return {}
    if row is not None and row.code is None:
        _undo(ctx, asked.oinfno, asked.omsgid)
    elif row is None:
        _undo(ctx, asked.oinfno, asked.omsgid)  # settled but its log row lost: undo it too
    with session.begin():
        session.execute(
            update(HisMessage)
            .where(HisMessage.fixmedins_code == ctx.code, HisMessage.msgid == asked.omsgid)
            .values(reversed_at=ctx.now)
        )
    return {}


def _undo(ctx: Ctx, oinfno: str, omsgid: str) -> None:
    session = ctx.uow.session
    if oinfno == "2207":
        with session.begin():
            setl_id = session.scalar(
                select(HisSettlement.setl_id).where(
                    HisSettlement.institution_id == ctx.institution_id,
                    HisSettlement.msgid == omsgid,
                    HisSettlement.cancelled_at.is_(None),
                )
            )
        if setl_id is not None:
            _cancel_settlement(ctx, setl_id)
        return
    with session.begin():
        if oinfno == "2201":
            visit = session.scalar(
                select(HisVisit).where(
                    HisVisit.institution_id == ctx.institution_id,
                    HisVisit.msgid == omsgid,
                    HisVisit.cancelled_at.is_(None),
                )
            )
            if visit is not None:
                _cancel_visit(session, ctx, visit.mdtrt_id)
        else:  # 2204
            lines = list(
                session.scalars(
                    select(HisFeeLine).where(
                        HisFeeLine.msgid == omsgid, HisFeeLine.cancelled_at.is_(None)
                    )
                )
            )
            for line in lines:
                _live_visit(session, ctx, line.mdtrt_id)
                if _visit_settled(session, line.mdtrt_id):
                    raise HisInputError("omsgid", "该就诊已结算，请先撤销结算")
                line.cancelled_at = ctx.now
