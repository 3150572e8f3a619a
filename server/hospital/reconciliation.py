"""The HIS reconciliation (对总账): 3201 compares an institution's totals with ours.

Over the given Beijing dates, for one insutype and 清算类别 (`clr_type_of` a med_type), the live
HIS settlements are counted and summed and set against the institution's figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.clock import BEIJING
from server.his import transactions as tx
from server.his.errors import HisInputError
from server.hospital.context import (
    Ctx,
)
from server.hospital.models import HisSettlement

# --- 3201 -----------------------------------------------------------------------------------
_CLR_TYPE_OF_MED_TYPE_PREFIX = {"1": "11", "2": "21", "4": "41", "5": "11"}


def clr_type_of(med_type: str) -> str:
    """清算类别 of a med_type: 2x and 52 inpatient (21), 41 pharmacy, the rest outpatient (11)."""
    if med_type == "52":
        return "21"
    return _CLR_TYPE_OF_MED_TYPE_PREFIX.get(med_type[:1], "11")


def reconcile(ctx: Ctx) -> Mapping[str, Any]:
    """3201: the institution's totals against ours over the dates (live settlements only)."""
    asked = tx.read_reconciliation(ctx.env.input)
    try:
        begin, end = date.fromisoformat(asked.begin_date), date.fromisoformat(asked.end_date)
    except ValueError:
        raise HisInputError("stmt_begndate", "日期应为 yyyy-MM-dd") from None
    start = datetime(begin.year, begin.month, begin.day, tzinfo=BEIJING)
    stop = datetime(end.year, end.month, end.day, tzinfo=BEIJING) + timedelta(days=1)
    session = ctx.uow.session
    with session.begin():
        rows = session.execute(
            select(
                HisSettlement.med_type,
                HisSettlement.medfee_fen,
                HisSettlement.fund_fen,
                HisSettlement.account_fen,
            ).where(
                HisSettlement.institution_id == ctx.institution_id,
                HisSettlement.insutype == asked.insutype,
                HisSettlement.cancelled_at.is_(None),
                HisSettlement.settled_at >= start,
                HisSettlement.settled_at < stop,
            )
        ).all()
    mine = [r for r in rows if clr_type_of(r.med_type) == asked.clr_type]
    ours = tx.Totals(
        medfee_fen=sum(int(r.medfee_fen) for r in mine),
        fund_fen=sum(int(r.fund_fen) for r in mine),
        account_fen=sum(int(r.account_fen) for r in mine),
        settlement_count=len(mine),
    )
    return tx.reconciliation_output(asked, ours)
