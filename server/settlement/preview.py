"""Previewing a settlement (试算): what settling a bill would do now, with nothing written.
Issue 5, "Settlement"; the same pricing as service.py's `settle`. Re-exported from service.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.settlement import pricing
from server.settlement.pricing import SettleRequest, Terminal
from server.uow import UnitOfWork


@dataclass(frozen=True)
class Quote:
    """A previewed settlement (试算): what would be paid and by whom, with nothing written."""

    request: SettleRequest
    fund_fen: int
    personal_burden_fen: int
    legs: list[dict[str, Any]]
    cash_fen: int
    password_needed: bool
    fund_detail: dict[str, Any] | None


def preview(uow: UnitOfWork, *, terminal: Terminal, request: SettleRequest) -> Quote:
    """What settling this bill would do now (试算), writing nothing.

    The same reads as `settle` in a transaction that is always rolled back, so the scan token
    stays usable and no row (balance, year, journal) changes; nothing is locked for writing and
    the password is not asked (`password_needed` tells). The order number is not checked.
    Raises as `settle_once` does, except the password and order errors.
    """
    session = uow.session
    session.begin()
    try:
        priced = pricing.price(
            session,
            policy=uow.policy,
            password_policy=uow.password_policy,
            terminal=terminal,
            request=request,
            now=uow.clock.now(),
            lock=False,
        )
    finally:
        session.rollback()
    return Quote(
        request=request,
        fund_fen=priced.split.fund_fen,
        personal_burden_fen=priced.split.personal_burden_fen,
        legs=priced.legs,
        cash_fen=priced.plan.cash_fen,
        password_needed=priced.password_needed,
        fund_detail=priced.fund_detail,
    )
