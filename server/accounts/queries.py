"""A holder's statement: the personal account's journal entries, newest first, in pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Account, Person
from server.ledger.models import JournalEntry, JournalTransaction
from server.privacy import mask_name
from server.settlement.models import Settlement
from server.supplementary.models import SupplementaryPurchase

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
    # Whose bill or premium it was, masked, when not the holder's own: a family member's
    # settlement paid by mutual aid (mutual_aid_out, and its refund), or their premium.
    beneficiary_masked: str | None = None


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
        others = _beneficiaries(session, account_id, [r[6] for r in rows[:limit]])
    lines = [
        StatementLine(
            entry_id=int(r[0]),
            kind=r[1],
            amount_fen=int(r[2]),
            balance_after_fen=int(r[3] or 0),
            at=r[4],
            business_at=r[5],
            reference=r[6],
            beneficiary_masked=others.get(r[6]),
        )
        for r in rows[:limit]
    ]
    next_cursor = lines[-1].entry_id if len(rows) > limit else None
    return lines, next_cursor


def _beneficiaries(session: Session, account_id: int, references: list[str]) -> dict[str, str]:
    """For each settlement or premium reference that was for someone other than the account's
    holder, that person's masked name."""
    settlement_ids = {r.split(":", 1)[1] for r in references if r.startswith("settlement:")}
    purchase_ids = {r.split(":", 1)[1] for r in references if r.startswith("premium:")}
    holder = select(Account.person_id).where(Account.id == account_id).scalar_subquery()
    found: dict[str, str] = {}
    if settlement_ids:
        for settlement_id, name in session.execute(
            select(Settlement.id, Person.name)
            .join(Person, Person.id == Settlement.person_id)
            .where(Settlement.id.in_(settlement_ids), Settlement.person_id != holder)
        ):
            found[f"settlement:{settlement_id}"] = mask_name(name)
    if purchase_ids:
        for purchase_id, name in session.execute(
            select(SupplementaryPurchase.id, Person.name)
            .join(Person, Person.id == SupplementaryPurchase.insured_person_id)
            .where(
                SupplementaryPurchase.id.in_(purchase_ids),
                SupplementaryPurchase.insured_person_id != holder,
            )
        ):
            found[f"premium:{purchase_id}"] = mask_name(name)
    return found
