"""The HIS cancellation of a settlement: 2208, and the refund 2601 shares with it.

`_cancel_settlement` refunds the settlement behind a HIS settlement and marks it cancelled, once;
`cancel_settlement` (2208) answers the reversing figures (negated) and the person's year so far:
their live HIS settlements of the Beijing year and the benefit accumulators per pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.benefits.service import years_of
from server.clock import BEIJING, beijing_date
from server.db.models import Person
from server.errors import AlreadyRefundedError
from server.his import transactions as tx
from server.his.errors import HisInputError
from server.his.money import fen_to_yuan
from server.hospital.context import (
    Ctx,
    _balance,
    _serial,
    psn_no,
)
from server.hospital.models import HisSettlement
from server.hospital.settling import _row_shares, _settled
from server.privacy import mask_id_number
from server.settlement.refunds import refund
from server.uow import UnitOfWork

# --- 2208 -----------------------------------------------------------------------------------
_MONEY_KEYS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "pool_prop_selfpay",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
    "hosp_part_amt",
)


def _negated(output: Mapping[str, Any]) -> dict[str, Any]:
    info = dict(output["setlinfo"])
    for key in _MONEY_KEYS:
        value: Decimal = info[key]
        info[key] = -value if value else value
    detail = [{**d, "fund_payamt": -d["fund_payamt"]} for d in output["setldetail"]]
    return {"setlinfo": info, "setldetail": detail}


def _cancel_settlement(ctx: Ctx, row_id: str) -> HisSettlement:
    """Refund the settlement behind a HIS settlement and mark it cancelled, once."""
    session, uow = ctx.uow.session, ctx.uow
    with session.begin():
        row = session.get(HisSettlement, row_id)
        assert row is not None
        if row.cancelled_at is not None:
            raise AlreadyRefundedError()
        settlement_id = row.settlement_id
    if settlement_id is not None:
        refund(uow, terminal=ctx.terminal, settlement_id=settlement_id)
    with session.begin():
        done = session.execute(
            update(HisSettlement)
            .where(HisSettlement.setl_id == row_id, HisSettlement.cancelled_at.is_(None))
            .values(cancelled_at=ctx.now, cancel_setl_id=_serial("C", ctx.now))
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise AlreadyRefundedError()
    with session.begin():
        row = session.get(HisSettlement, row_id, populate_existing=True)
        assert row is not None
        session.expunge(row)
        return row


def cancel_settlement(ctx: Ctx) -> Mapping[str, Any]:
    """2208: give every fen back; answer the reversing figures (negated) and the year so far."""
    refs = tx.read_refs(ctx.env.input, required=("setl_id",))
    session = ctx.uow.session
    with session.begin():
        found = session.get(HisSettlement, refs.setl_id)
        if found is None or found.institution_id != ctx.institution_id:
            raise HisInputError("setl_id", "结算记录不存在", code="NOT_FOUND")
        if found.cancelled_at is not None:
            raise AlreadyRefundedError()
        setl_id = found.setl_id
    row = _cancel_settlement(ctx, setl_id)
    shares = _row_shares(ctx.uow, row)
    with session.begin():
        person = session.get(Person, row.person_id)
        assert person is not None
        balance = _balance(session, person.id)
        who = (psn_no(person), person.name, mask_id_number(person.id_number))
        output = _negated(tx.settlement_output(_settled(row, who, balance, shares, cancel=True)))
        output["setlinfo"]["balc"] = fen_to_yuan(balance)
        output["yearinfo"] = _year_totals(ctx.uow, session, person.id, ctx.now)
        return output


def _year_totals(
    uow: UnitOfWork, session: Session, person_id: int, now: datetime
) -> dict[str, Any]:
    """The person's year after the cancellation: their live HIS settlements of the Beijing year
    (every institution's), and per pool the benefit accumulators (`server.benefits`), which
    count every settlement of the year whatever the channel and are what the next bill's
    deductible and cap are computed against."""
    year = beijing_date(now).year
    start = datetime(year, 1, 1, tzinfo=BEIJING)
    count, medfee, fund, account, cash = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(HisSettlement.medfee_fen), 0),
            func.coalesce(func.sum(HisSettlement.fund_fen), 0),
            func.coalesce(func.sum(HisSettlement.account_fen), 0),
            func.coalesce(func.sum(HisSettlement.cash_fen), 0),
        ).where(
            HisSettlement.person_id == person_id,
            HisSettlement.cancelled_at.is_(None),
            HisSettlement.settled_at >= start,
            HisSettlement.settled_at < start.replace(year=year + 1),
        )
    ).one()
    return {
        "year": str(year),
        "setl_cnt": int(count),
        "medfee_sumamt": fen_to_yuan(int(medfee)),
        "fund_pay_sumamt": fen_to_yuan(int(fund)),
        "acct_pay": fen_to_yuan(int(account)),
        "psn_cash_pay": fen_to_yuan(int(cash)),
        "poolinfo": [
            {
                "pool": p.pool,
                "pool_name": uow.policy.pools[p.pool].name if p.pool in uow.policy.pools else None,
                "dedc_used": fen_to_yuan(p.deductible_used_fen),
                "hifp_pay_cum": fen_to_yuan(p.fund_paid_fen),
            }
            for p in years_of(session, person_id=person_id, year=year)
        ],
    }
