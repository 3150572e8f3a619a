"""Refunding a settlement: every fen back to the account it came from, once. Issue 5, "Refunds";
issue 11: the settlement's own recorded delta comes off the person's year (docs/benefit-policy.md).

On PostgreSQL the same rules run as one call of the PL/pgSQL function `ec_refund` (issue 14,
refund_call.py): one round trip in autocommit. The Python path below is the readable reference,
and what SQLite runs; tests/service/test_settle_one_call.py proves the two write the same rows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import record, request_id_var
from server.benefits import service as years
from server.benefits.engine import YearDelta
from server.errors import AlreadyRefundedError, NotFoundError
from server.ledger import service as ledger
from server.ledger.rules import Kind
from server.settlement import refund_call
from server.settlement.models import Settlement, SettlementRefund
from server.settlement.pricing import Terminal, refuse_revoked_terminal
from server.uow import UnitOfWork


def refund(
    uow: UnitOfWork,
    *,
    terminal: Terminal,
    settlement_id: str,
) -> tuple[Settlement, SettlementRefund]:
    """Give every fen of a settlement back to the account it came from, once.

    Only the settling institution's terminals see it (NOT_FOUND otherwise). Raises
    AlreadyRefundedError on a second refund, also when many race (the settlement row is locked
    and the refund row is unique per settlement). A settlement whose fund share the policy
    computed gives its recorded delta back to the pool and year it counted in. A terminal that
    reads its own row (`terminal.refuse_revoked`) is checked first: a revoked or unknown one is
    refused with TokenRevokedError having written nothing.
    """
    clock = uow.clock
    if uow.is_postgres:
        return refund_call.refund(
            uow.session.get_bind(),  # type: ignore[arg-type]
            settlement_id=settlement_id,
            institution_id=terminal.institution_id,
            terminal_id=terminal.terminal_id,
            now=clock.now(),
            request_id=request_id_var.get(),
            check_terminal=terminal.refuse_revoked,
        )

    def work(s: Session) -> tuple[Settlement, SettlementRefund]:
        now = clock.now()
        refuse_revoked_terminal(s, terminal)
        settlement = s.scalar(
            select(Settlement)
            .where(
                Settlement.id == settlement_id,
                Settlement.institution_id == terminal.institution_id,
            )
            .with_for_update()
        )
        if settlement is None:
            raise NotFoundError("No settlement with this id at this institution")
        if s.scalar(
            select(SettlementRefund.id).where(SettlementRefund.settlement_id == settlement_id)
        ):
            raise AlreadyRefundedError()
        if settlement.benefit_pool is not None and settlement.benefit_year is not None:
            # Before the balances, in the order a settlement locks them (year row, accounts).
            years.take_off(
                s,
                person_id=settlement.person_id,
                pool=settlement.benefit_pool,
                year=settlement.benefit_year,
                delta=YearDelta(
                    settlement.deductible_used_delta_fen, settlement.fund_paid_delta_fen
                ),
            )
        ledger.lock_balances(s, [int(leg["account_id"]) for leg in settlement.legs])
        actor = f"terminal:{terminal.terminal_id}"
        request_id = request_id_var.get()
        tx_id = ledger.reverse(
            s,
            transaction_id=settlement.transaction_id,
            kind=Kind.REFUND,
            entry_kind=Kind.REFUND.value,
            stamp=ledger.Stamp(now, now, actor, request_id),
            reference=f"settlement:{settlement_id}",
        )
        done = SettlementRefund(
            settlement_id=settlement_id,
            institution_id=terminal.institution_id,
            terminal_id=terminal.terminal_id,
            amount_fen=settlement.total_fen,
            transaction_id=tx_id,
            refunded_at=now,
        )
        s.add(done)
        record(
            s,
            at=now,
            actor=actor,
            action="settlement.refunded",
            subject=f"settlement:{settlement_id}",
            amount_fen=settlement.total_fen,
        )
        s.flush()
        return settlement, done

    try:
        return uow.run(work)
    except IntegrityError:
        # The unique refund row: another refund of this settlement committed first.
        raise AlreadyRefundedError() from None
