"""A settlement found by the till's own order number (the counter page's look-up).

Kept apart from queries.py so the pages add reads without editing the settlement package's
files. CONTRACT.md: Scanner; a terminal sees only its own institution's settlements.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import NotFoundError
from server.settlement.models import Settlement, SettlementRefund
from server.settlement.queries import for_institution


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
