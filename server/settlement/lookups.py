"""The read-only entry points of settlement: one settlement by id or by the institution's own
order number, and the day's figures (对账). Issue 5, "Settlement"; the reads are in queries.py.
Re-exported from service.py.
"""

from __future__ import annotations

from datetime import date

from server.settlement import queries
from server.settlement.models import Settlement, SettlementRefund
from server.uow import UnitOfWork


def look_up(
    uow: UnitOfWork, *, institution_id: int, settlement_id: str
) -> tuple[Settlement, SettlementRefund | None]:
    """One settlement of the institution and its refund; NOT_FOUND for another's."""
    return queries.for_institution(
        uow.session, institution_id=institution_id, settlement_id=settlement_id
    )


def look_up_order(
    uow: UnitOfWork, *, institution_id: int, order_no: str
) -> tuple[Settlement, SettlementRefund | None]:
    """The institution's settlement of its own `order_no` (the till's look-up); NOT_FOUND else."""
    return queries.by_order_no(uow.session, institution_id=institution_id, order_no=order_no)


def reconcile(uow: UnitOfWork, *, institution_id: int, day: date) -> queries.DayFigures:
    """The institution's figures for one Beijing day (对账)."""
    return queries.reconciliation(uow.session, institution_id=institution_id, day=day)
