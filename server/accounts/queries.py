"""A holder's statement: the personal account's journal entries, newest first, in pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.ledger.models import JournalEntry, JournalTransaction

MAX_PAGE = 100


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    kind: str
    amount_fen: int  # signed: money in is positive
    balance_after_fen: int
    at: datetime
    business_at: datetime
    reference: str


def statement_page(
    session: Session, *, account_id: int, before_entry_id: int | None, limit: int
) -> tuple[list[StatementLine], int | None]:
    """Up to `limit` entries older than `before_entry_id`, and the cursor of the next page.

    Entry ids only grow, so "older than the last one shown" is a stable cursor: new movements
    arriving between pages never shift or repeat a line.
    """
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.amount_fen,
            JournalEntry.balance_after_fen,
            JournalEntry.recorded_at,
            JournalEntry.business_at,
            JournalTransaction.reference,
        )
        .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
        .where(JournalEntry.account_id == account_id)
        .order_by(JournalEntry.id.desc())
        .limit(limit + 1)
    )
    if before_entry_id is not None:
        query = query.where(JournalEntry.id < before_entry_id)
    with session.begin():
        rows = session.execute(query).all()
    lines = [
        StatementLine(
            entry_id=int(r[0]),
            kind=r[1],
            amount_fen=int(r[2]),
            balance_after_fen=int(r[3] or 0),
            at=r[4],
            business_at=r[5],
            reference=r[6],
        )
        for r in rows[:limit]
    ]
    next_cursor = lines[-1].entry_id if len(rows) > limit else None
    return lines, next_cursor
