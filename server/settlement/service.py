"""Settling a bill at a terminal. Issue 5, "Settlement", "Idempotency"; issue 11, the fund's
share from the benefit policy; DOMAIN.md, "The personal account and who pays what", "When a
password is needed". Refunds are in refunds.py, reads in queries.py; the read-only entry points
(`look_up`, `look_up_order`, `reconcile`) are in lookups.py and the preview (试算) in preview.py,
both re-exported here.

One settlement is one database transaction: resolve who pays (scan token or card), compute the
fund's share (or take the terminal's), decide the password, lock the person's year and the
accounts to debit in ascending id order, plan the legs, write the journal, the settlement row,
the accumulators and the audit row. The payment password is checked *between* transactions:
a first attempt that finds the password needed rolls back (so the scan token stays usable),
the password is checked against the short-lived store, and the transaction runs again.

A `fund_fen` sent by the terminal is the institution's own decomposition (医保分解): it is
checked and used as is, and the person's year is not touched (no delta is recorded). Without
it, the server computes the share with the policy and records the delta on the settlement row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.passwords import check_payment_password
from server.audit import record_now, request_id_var
from server.benefits import service as years
from server.benefits.engine import Bill
from server.errors import (
    AppError,
    OrderNoConflictError,
    PasswordRequiredError,
    TokenRevokedError,
)
from server.ledger import service as ledger
from server.ledger.rules import Kind
from server.settlement import fund, one_call, pricing, queries, rules
from server.settlement.lookups import look_up as look_up
from server.settlement.lookups import look_up_order as look_up_order
from server.settlement.lookups import reconcile as reconcile
from server.settlement.models import Settlement, SettlementRefund
from server.settlement.preview import Quote as Quote
from server.settlement.preview import preview as preview
from server.settlement.pricing import SettleRequest as SettleRequest
from server.settlement.pricing import Terminal as Terminal
from server.uow import UnitOfWork

_SETTLEMENTS = cast(Table, Settlement.__table__)

# The hot path's statements, built once: building a statement and its cache key each request
# cost more Python than the database spends running it.
_ORDER_TAKEN = select(_SETTLEMENTS.c.id).where(
    _SETTLEMENTS.c.institution_id == bindparam("institution_id"),
    _SETTLEMENTS.c.order_no == bindparam("order_no"),
)
_NEW_SETTLEMENT = insert(_SETTLEMENTS)


@dataclass(frozen=True, slots=True)
class Settled:
    """A settlement just written, as the values of its row (the columns of `Settlement`): the
    answer needs no ORM object, whose instrumented construction costs more than the rest of it."""

    id: str
    institution_id: int
    terminal_id: str
    order_no: str
    request_digest: str
    person_id: int
    presented_by_user_id: int | None
    scene: str
    medium: str
    total_fen: int
    fund_fen: int
    personal_account_fen: int
    mutual_aid_fen: int
    cash_fen: int
    legs: list[dict[str, Any]]
    password_checked: bool
    transaction_id: int
    settled_at: datetime
    request_id: str | None
    benefit_pool: str | None
    benefit_year: int | None
    deductible_used_delta_fen: int
    fund_paid_delta_fen: int
    fund_detail: dict[str, Any] | None


@dataclass(frozen=True)
class Outcome:
    settlement: Settlement | Settled  # Settled when written now, the stored row for a replay
    replayed: bool  # True when this answers an earlier request with the same order_no and body
    refund: SettlementRefund | None = None  # a replay of a settlement refunded since


class _PasswordNeeded(Exception):  # noqa: N818 (a signal between attempts, not an error)
    """Raised inside the transaction (rolling it back) when the password must be checked."""

    def __init__(self, account_id: int, password_hash: str | None) -> None:
        super().__init__("payment password needed")
        self.account_id = account_id
        self.password_hash = password_hash


def _existing(session: Session, institution_id: int, order_no: str) -> Settlement | None:
    with session.begin():
        return session.scalar(
            select(Settlement).where(
                Settlement.institution_id == institution_id, Settlement.order_no == order_no
            )
        )


def _replay(found: Settlement, digest: str) -> Outcome:
    if found.request_digest != digest:
        raise OrderNoConflictError(order_no=found.order_no)
    return Outcome(found, replayed=True)


def settle(uow: UnitOfWork, *, terminal: Terminal, request: SettleRequest) -> Outcome:
    """Settle a bill once per `(institution, order_no)`; a retry answers the first outcome (with
    any refund since). Errors as `settle_once`."""
    outcome = settle_once(uow, terminal=terminal, request=request)
    if not outcome.replayed:
        return outcome
    _, refund = queries.for_institution(
        uow.session, institution_id=terminal.institution_id, settlement_id=outcome.settlement.id
    )
    return replace(outcome, refund=refund)


def settle_once(uow: UnitOfWork, *, terminal: Terminal, request: SettleRequest) -> Outcome:
    """Settle a bill once per `(institution, order_no)`; the settlement and whether it is a replay.

    The amounts are checked first (no read: an invalid body is INVALID_AMOUNT whatever is
    stored). Then a terminal that reads its own row (`terminal.refuse_revoked`): a revoked or
    unknown one is refused with TokenRevokedError having written nothing, and learns nothing,
    not even a replay. The order check comes next, so a retry answers the first result even
    though its scan token is used up by then. Raises OrderNoConflictError, InvalidAmountError
    (also for a bill the policy has no rule for, or bad out-of-scope parts),
    ScanTokenInvalidError, NotFoundError (unknown card), CardReportedLostError,
    PasswordRequiredError, PaymentPasswordInvalidError, PasswordLockedError, TokenRevokedError.
    """
    store, hasher, clock = uow.store, uow.hasher, uow.clock
    bill = _checked_bill(request)  # before anything is read, on both paths alike
    digest = request.digest()
    verified_account: int | None = None
    while True:
        try:
            if uow.is_postgres:
                return _settle_by_call(
                    uow,
                    terminal=terminal,
                    request=request,
                    bill=bill,
                    digest=digest,
                    verified_account=verified_account,
                )
            return uow.run(
                _settle_in(
                    uow,
                    terminal=terminal,
                    request=request,
                    digest=digest,
                    verified_account=verified_account,
                ),
            )
        except _PasswordNeeded as need:
            if verified_account is not None or request.payment_password is None:
                raise PasswordRequiredError() from None
            # Outside any transaction: the store and the slow hash never run under row locks.
            check_payment_password(
                store=store,
                hasher=hasher,
                clock=clock,
                account_id=need.account_id,
                password_hash=need.password_hash,
                password=request.payment_password,
            )
            verified_account = need.account_id
        except TokenRevokedError:
            raise  # a revoked terminal is told nothing of the order, not even a replay
        except (IntegrityError, one_call.OrderTaken, AppError):
            # An identical request racing this one may have settled the order meanwhile (its
            # scan token is then used up, or our insert hit the unique order key): answer it.
            found = _existing(uow.session, terminal.institution_id, request.order_no)
            if found is not None:
                return _replay(found, digest)
            raise


def _checked_bill(request: SettleRequest) -> Bill:
    """The amounts checked (InvalidAmountError), as `pricing.price` checks them before it touches
    the scan token; no database read: the same answer whoever asks, whatever is stored."""
    bill = fund.bill_of(
        total_fen=request.total_fen,
        fulamt_ownpay_fen=request.fulamt_ownpay_fen,
        preselfpay_fen=request.preselfpay_fen,
        overlmt_selfpay_fen=request.overlmt_selfpay_fen,
    )
    rules.split_burden(
        scene=request.scene, total_fen=request.total_fen, fund_fen=request.fund_fen or 0
    )
    return bill


def _settle_by_call(
    uow: UnitOfWork,
    *,
    terminal: Terminal,
    request: SettleRequest,
    bill: Bill,
    digest: str,
    verified_account: int | None,
) -> Outcome:
    """`_settle_in` on PostgreSQL: the same rules in one call of `ec_settle` (one_call.py), on
    connections of its own: no Session is opened unless a replay reads the stored row. `bill` is
    the request's, checked by the caller."""
    now = uow.clock.now()
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "institution_id": terminal.institution_id,
        "terminal_id": terminal.terminal_id,
        "order_no": request.order_no,
        "request_digest": digest,
        "scene": request.scene.value,
        "medium": request.medium.value,
        "total_fen": request.total_fen,
        "settled_at": now,
        "request_id": request_id_var.get(),
    }
    answer = one_call.settle(
        uow.bind,  # type: ignore[arg-type]
        bill=one_call.Bill(
            settlement_id=values["id"],
            institution_id=terminal.institution_id,
            terminal_id=terminal.terminal_id,
            order_no=request.order_no,
            digest=digest,
            scene=request.scene,
            medium=request.medium,
            scan_token=request.scan_token,
            card_no=request.card_no,
            total_fen=request.total_fen,
            fund_fen=request.fund_fen,
            eligible_fen=bill.eligible_fen,
            now=now,
            request_id=values["request_id"],
            check_terminal=terminal.refuse_revoked,
            accounts=request.accounts,
        ),
        policy=uow.policy,
        password_policy=uow.password_policy,
        verified_account=verified_account,
    )
    if answer.get("password_needed"):
        raise _PasswordNeeded(int(answer["account_id"]), answer["password_hash"])
    if answer["replayed"]:
        if answer["request_digest"] != digest:
            raise OrderNoConflictError(order_no=request.order_no)
        found = _existing(uow.session, terminal.institution_id, request.order_no)
        assert found is not None
        return Outcome(found, replayed=True)
    del answer["replayed"]
    return Outcome(Settled(**values, **answer), replayed=False)


def _settle_in(
    uow: UnitOfWork,
    *,
    terminal: Terminal,
    request: SettleRequest,
    digest: str,
    verified_account: int | None,
) -> Callable[[Session], Outcome]:
    def work(s: Session) -> Outcome:
        # The terminal's own row first (a revoked one learns nothing), then the order check, in
        # the same transaction (one round trip fewer); a plain column read, the whole row is
        # loaded only for a replay.
        pricing.refuse_revoked_terminal(s, terminal)
        earlier = s.scalar(
            _ORDER_TAKEN,
            {"institution_id": terminal.institution_id, "order_no": request.order_no},
        )
        if earlier is not None:
            found = s.get(Settlement, earlier)
            assert found is not None
            return _replay(found, digest)
        p = pricing.price(
            s,
            policy=uow.policy,
            password_policy=uow.password_policy,
            terminal=terminal,
            request=request,
            now=uow.clock.now(),
            lock=True,
        )
        if p.password_needed and verified_account != p.own_account_id:
            raise _PasswordNeeded(p.own_account_id, p.own_password_hash)
        return _write(s, terminal=terminal, request=request, digest=digest, p=p)

    return work


def _write(
    s: Session, *, terminal: Terminal, request: SettleRequest, digest: str, p: pricing.Priced
) -> Outcome:
    """The journal, the settlement row, the person's year and the audit row."""
    now, split, plan = p.now, p.split, p.plan
    own_fen = sum(leg.amount_fen for leg in plan.legs if leg.account_id == p.own_account_id)
    system = ledger.system_accounts(
        s, now=now, codes=[ledger.FUND, ledger.EXTERNAL], institution_ids=[terminal.institution_id]
    )
    lines = [
        ledger.Line(
            ledger.personal(line.account_id)
            if line.is_personal
            else ledger.system(line.account_id),
            line.amount_fen,
            line.entry_kind,
        )
        for line in rules.settlement_lines(
            plan=plan,
            own_account_id=p.own_account_id,
            split=split,
            fund_account_id=system[ledger.FUND],
            external_account_id=system[ledger.EXTERNAL],
            institution_account_id=system[f"institution:{terminal.institution_id}"],
        )
    ]
    settlement_id = str(uuid.uuid4())
    actor = f"terminal:{terminal.terminal_id}"
    request_id = request_id_var.get()
    tx_id = ledger.post(
        s,
        kind=Kind.PAYMENT,
        lines=lines,
        stamp=ledger.Stamp(now, now, actor, request_id),
        reference=f"settlement:{settlement_id}",
    )
    benefit = p.benefit
    delta = benefit.share.delta if benefit is not None else None
    values: dict[str, Any] = {
        "id": settlement_id,
        "institution_id": terminal.institution_id,
        "terminal_id": terminal.terminal_id,
        "order_no": request.order_no,
        "request_digest": digest,
        "person_id": p.person_id,
        "presented_by_user_id": p.presented_by,
        "scene": request.scene.value,
        "medium": request.medium.value,
        "total_fen": split.total_fen,
        "fund_fen": split.fund_fen,
        "personal_account_fen": own_fen,
        "mutual_aid_fen": plan.accounts_fen - own_fen,
        "cash_fen": plan.cash_fen,
        "legs": p.legs,
        "password_checked": p.password_needed,
        "transaction_id": tx_id,
        "settled_at": now,
        "request_id": request_id,
        "benefit_pool": benefit.pool if benefit is not None else None,
        "benefit_year": benefit.year if benefit is not None else None,
        "deductible_used_delta_fen": delta.deductible_used_fen if delta is not None else 0,
        "fund_paid_delta_fen": delta.fund_paid_fen if delta is not None else 0,
        "fund_detail": p.fund_detail,
    }
    s.execute(_NEW_SETTLEMENT, values)
    if benefit is not None and benefit.pool is not None and benefit.year is not None:
        years.add(
            s,
            person_id=p.person_id,
            pool=benefit.pool,
            year=benefit.year,
            before=benefit.before,
            delta=benefit.share.delta,
        )
    record_now(
        s,
        at=now,
        actor=actor,
        action="settlement.settled",
        subject=f"settlement:{settlement_id}",
        order_no=request.order_no,
        total_fen=split.total_fen,
        accounts_fen=plan.accounts_fen,
        cash_fen=plan.cash_fen,
        password_checked=p.password_needed,
    )
    # The answer is what was written; no need to read it back.
    return Outcome(Settled(**values), replayed=False)
