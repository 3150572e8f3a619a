"""Reads of settlements: one settlement for its terminal, and an institution's day (对账)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import BEIJING
from server.errors import NotFoundError
from server.settlement.models import Settlement, SettlementRefund


def for_institution(
    session: Session, *, institution_id: int, settlement_id: str
) -> tuple[Settlement, SettlementRefund | None]:
    """A settlement of this institution and its refund; NOT_FOUND for another's (or none)."""
    with session.begin():
        settlement = session.scalar(
            select(Settlement).where(
                Settlement.id == settlement_id, Settlement.institution_id == institution_id
            )
        )
        if settlement is None:
            raise NotFoundError("No settlement with this id at this institution")
        refund = session.scalar(
            select(SettlementRefund).where(SettlementRefund.settlement_id == settlement_id)
        )
        return settlement, refund


@dataclass(frozen=True)
class DayFigures:
    day: date
    count: int
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int
    refund_count: int
    refund_fen: int
    digest: str


def beijing_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return start, start + timedelta(days=1)


def day_digest(rows: list[tuple[str, int, int, int, int, int]]) -> str:
    """SHA-256 over the day's settlements sorted by id, one line each:
    `id:total_fen:fund_fen:personal_account_fen:mutual_aid_fen:cash_fen\\n`."""
    h = hashlib.sha256()
    for row in sorted(rows):
        h.update((":".join(str(v) for v in row) + "\n").encode())
    return h.hexdigest()


def reconciliation(session: Session, *, institution_id: int, day: date) -> DayFigures:
    """The institution's settlements and refunds recorded on a Beijing calendar day."""
    start, end = beijing_day_bounds(day)
    with session.begin():
        rows = [
            (r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
            for r in session.execute(
                select(
                    Settlement.id,
                    Settlement.total_fen,
                    Settlement.fund_fen,
                    Settlement.personal_account_fen,
                    Settlement.mutual_aid_fen,
                    Settlement.cash_fen,
                ).where(
                    Settlement.institution_id == institution_id,
                    Settlement.settled_at >= start,
                    Settlement.settled_at < end,
                )
            )
        ]
        refund_count, refund_fen = session.execute(
            select(func.count(), func.coalesce(func.sum(SettlementRefund.amount_fen), 0)).where(
                SettlementRefund.institution_id == institution_id,
                SettlementRefund.refunded_at >= start,
                SettlementRefund.refunded_at < end,
            )
        ).one()
    return DayFigures(
        day=day,
        count=len(rows),
        total_fen=sum(r[1] for r in rows),
        fund_fen=sum(r[2] for r in rows),
        personal_account_fen=sum(r[3] for r in rows),
        mutual_aid_fen=sum(r[4] for r in rows),
        cash_fen=sum(r[5] for r in rows),
        refund_count=int(refund_count),
        refund_fen=int(refund_fen),
        digest=day_digest(rows),
    )


def by_order_no(
    session: Session, *, institution_id: int, order_no: str
) -> tuple[Settlement, SettlementRefund | None]:
    """This institution's settlement of `order_no` and its refund; NOT_FOUND otherwise."""
    with session.begin():
        settlement_id = session.scalar(
            select(Settlement.id).where(
                Settlement.institution_id == institution_id, Settlement.order_no == order_no
            )
        )
    if settlement_id is None:
        raise NotFoundError("No settlement with this order number at this institution")
    return for_institution(session, institution_id=institution_id, settlement_id=settlement_id)
