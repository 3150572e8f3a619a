"""Settling a bill at a terminal, and refunding it. Issue 5, "Settlement", "Idempotency",
"Refunds"; DOMAIN.md, "The personal account and who pays what", "When a password is needed".

One settlement is one database transaction: resolve who pays (scan token or card), decide the
password, lock the accounts to debit in ascending id order, plan the legs, write the journal,
the settlement row and the audit row. The payment password is checked *between* transactions:
a first attempt that finds the password needed rolls back (so the scan token stays usable),
the password is checked against the short-lived store, and the transaction runs again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.passwords import check_payment_password
from server.audit import record, record_now, request_id_var
from server.cards.models import Card
from server.clock import Clock
from server.credentials.scanning import redeem_scan_token
from server.db.models import Account, Person
from server.errors import (
    AlreadyRefundedError,
    AppError,
    CardReportedLostError,
    NotFoundError,
    OrderNoConflictError,
    PasswordRequiredError,
)
from server.ledger import service as ledger
from server.ledger.rules import Kind
from server.mutual_aid.queries import drawable_sources
from server.privacy import mask_name
from server.settlement import queries, rules
from server.settlement.models import Settlement, SettlementRefund
from server.uow import UnitOfWork

SELF = "self"
_SETTLEMENTS = cast(Table, Settlement.__table__)
_ACCOUNTS = cast(Table, Account.__table__)
_PERSONS = cast(Table, Person.__table__)

# The hot path's statements, built once: building a statement and its cache key each request
# cost more Python than the database spends running it.
_ORDER_TAKEN = select(_SETTLEMENTS.c.id).where(
    _SETTLEMENTS.c.institution_id == bindparam("institution_id"),
    _SETTLEMENTS.c.order_no == bindparam("order_no"),
)
# Every account this bill may debit, locked in one statement in ascending id order. Most
# patients have no mutual-aid source: their statement has no IN list to render per request.
_LOCKABLE = select(
    _ACCOUNTS.c.id,
    _ACCOUNTS.c.person_id,
    _ACCOUNTS.c.balance_fen,
    _ACCOUNTS.c.password_hash,
    _ACCOUNTS.c.password_free_limit_fen,
    _PERSONS.c.name,
).join(_PERSONS, _PERSONS.c.id == _ACCOUNTS.c.person_id)
_LOCK_OWN_ACCOUNT = (
    _LOCKABLE.where(_ACCOUNTS.c.person_id == bindparam("person_id"))
    .order_by(_ACCOUNTS.c.id)
    .with_for_update(of=_ACCOUNTS)
)
_LOCK_ACCOUNTS = (
    _LOCKABLE.where(
        or_(
            _ACCOUNTS.c.person_id == bindparam("person_id"),
            _ACCOUNTS.c.id.in_(bindparam("source_ids", expanding=True)),
        )
    )
    .order_by(_ACCOUNTS.c.id)
    .with_for_update(of=_ACCOUNTS)
)
_NEW_SETTLEMENT = insert(_SETTLEMENTS)


@dataclass(frozen=True)
class SettleRequest:
    """A terminal's bill, as plain values (the route parsed and checked the shapes)."""

    order_no: str
    scene: rules.Scene
    medium: rules.Medium
    scan_token: str | None
    card_no: str | None
    total_fen: int
    fund_fen: int
    # Never in a repr (a log line or a traceback must not show it) nor in the digest.
    payment_password: str | None = field(default=None, repr=False)

    def digest(self) -> str:
        """SHA-256 of the body without the password: what makes a retry "the same body"."""
        body = {
            "order_no": self.order_no,
            "scene": self.scene.value,
            "medium": self.medium.value,
            "scan_token": self.scan_token,
            "card_no": self.card_no,
            "total_fen": self.total_fen,
            "fund_fen": self.fund_fen,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Terminal:
    terminal_id: str
    institution_id: int


@dataclass(frozen=True)
class Outcome:
    settlement: Settlement
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


def look_up(
    uow: UnitOfWork, *, institution_id: int, settlement_id: str
) -> tuple[Settlement, SettlementRefund | None]:
    """One settlement of the institution and its refund; NOT_FOUND for another's."""
    return queries.for_institution(
        uow.session, institution_id=institution_id, settlement_id=settlement_id
    )


def reconcile(uow: UnitOfWork, *, institution_id: int, day: date) -> queries.DayFigures:
    """The institution's figures for one Beijing day (对账)."""
    return queries.reconciliation(uow.session, institution_id=institution_id, day=day)


def settle_once(uow: UnitOfWork, *, terminal: Terminal, request: SettleRequest) -> Outcome:
    """Settle a bill once per `(institution, order_no)`; the settlement and whether it is a replay.

    The order check comes first, so a retry answers the first result even though its scan token
    is used up by then. Raises OrderNoConflictError, InvalidAmountError, ScanTokenInvalidError,
    NotFoundError (unknown card), CardReportedLostError, PasswordRequiredError,
    PaymentPasswordInvalidError, PasswordLockedError.
    """
    session, store, hasher, clock = uow.session, uow.store, uow.hasher, uow.clock
    digest = request.digest()
    verified_account: int | None = None
    while True:
        try:
            return uow.run(
                _settle_in(
                    clock=clock,
                    policy=uow.password_policy,
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
        except (IntegrityError, AppError):
            # An identical request racing this one may have settled the order meanwhile (its
            # scan token is then used up, or our insert hit the unique order key): answer it.
            found = _existing(session, terminal.institution_id, request.order_no)
            if found is not None:
                return _replay(found, digest)
            raise


def _settle_in(
    *,
    clock: Clock,
    policy: rules.PasswordPolicy,
    terminal: Terminal,
    request: SettleRequest,
    digest: str,
    verified_account: int | None,
) -> Callable[[Session], Outcome]:
    def work(s: Session) -> Outcome:
        # The order check comes first, in the same transaction (one round trip fewer); a plain
        # column read, the whole row is loaded only for a replay.
        earlier = s.scalar(
            _ORDER_TAKEN,
            {"institution_id": terminal.institution_id, "order_no": request.order_no},
        )
        if earlier is not None:
            found = s.get(Settlement, earlier)
            assert found is not None
            return _replay(found, digest)
        split = rules.split_burden(
            scene=request.scene, total_fen=request.total_fen, fund_fen=request.fund_fen
        )
        now = clock.now()
        presented_by: int | None = None
        if request.medium is rules.Medium.ECREDENTIAL:
            assert request.scan_token is not None  # the request model requires it
            grant = redeem_scan_token(
                s, token=request.scan_token, institution_id=terminal.institution_id, now=now
            )
            person_id, presented_by = grant.person_id, grant.presented_by_user_id
        else:
            assert request.card_no is not None
            person_id = _card_holder(s, request.card_no)
        sources = (
            drawable_sources(s, beneficiary_person_id=person_id, at=now)
            if split.personal_burden_fen > 0
            else []
        )
        locked = (
            s.execute(
                _LOCK_ACCOUNTS,
                {"person_id": person_id, "source_ids": [src.account_id for src in sources]},
            ).all()
            if sources
            else s.execute(_LOCK_OWN_ACCOUNT, {"person_id": person_id}).all()
        )
        own = next((row for row in locked if row.person_id == person_id), None)
        if own is None:
            raise NotFoundError("This insured person has no personal account")
        password_needed = rules.needs_password(
            policy,
            scene=request.scene,
            medium=request.medium,
            personal_burden_fen=split.personal_burden_fen,
            password_free_limit_fen=own.password_free_limit_fen,
        )
        if password_needed and verified_account != own.id:
            raise _PasswordNeeded(own.id, own.password_hash)

        balances = {row.id: int(row.balance_fen) for row in locked}
        sources = [src for src in sources if src.account_id != own.id]
        plan = rules.plan_payment(
            burden_fen=split.personal_burden_fen,
            own=rules.Source(own.id, balances[own.id]),
            mutual_aid=[rules.Source(src.account_id, balances[src.account_id]) for src in sources],
        )
        about = {src.account_id: (src.relation, src.holder_masked) for src in sources}
        about[own.id] = (SELF, mask_name(own.name))
        legs = [
            {
                "account_id": leg.account_id,
                "source": about[leg.account_id][0],
                "holder_masked": about[leg.account_id][1],
                "amount_fen": leg.amount_fen,
            }
            for leg in plan.legs
        ]
        own_fen = sum(leg.amount_fen for leg in plan.legs if leg.account_id == own.id)

        system = ledger.system_accounts(
            s,
            now=now,
            codes=[ledger.FUND, ledger.EXTERNAL],
            institution_ids=[terminal.institution_id],
        )
        lines = [
            ledger.Line(
                ledger.personal(leg.account_id),
                -leg.amount_fen,
                Kind.PAYMENT.value if leg.account_id == own.id else "mutual_aid_out",
            )
            for leg in plan.legs
        ]
        if split.fund_fen:
            lines.append(
                ledger.Line(ledger.system(system[ledger.FUND]), -split.fund_fen, "payment")
            )
        if plan.cash_fen:
            lines.append(
                ledger.Line(ledger.system(system[ledger.EXTERNAL]), -plan.cash_fen, "payment")
            )
        lines.append(
            ledger.Line(
                ledger.system(system[f"institution:{terminal.institution_id}"]),
                split.total_fen,
                "payment",
            )
        )
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
        values: dict[str, Any] = {
            "id": settlement_id,
            "institution_id": terminal.institution_id,
            "terminal_id": terminal.terminal_id,
            "order_no": request.order_no,
            "request_digest": digest,
            "person_id": person_id,
            "presented_by_user_id": presented_by,
            "scene": request.scene.value,
            "medium": request.medium.value,
            "total_fen": split.total_fen,
            "fund_fen": split.fund_fen,
            "personal_account_fen": own_fen,
            "mutual_aid_fen": plan.accounts_fen - own_fen,
            "cash_fen": plan.cash_fen,
            "legs": legs,
            "password_checked": password_needed,
            "transaction_id": tx_id,
            "settled_at": now,
            "request_id": request_id,
        }
        s.execute(_NEW_SETTLEMENT, values)
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
            password_checked=password_needed,
        )
        # The answer is what was written; no need to read it back.
        return Outcome(Settlement(**values), replayed=False)

    return work


def _card_holder(s: Session, card_no: str) -> int:
    card = s.get(Card, card_no)
    if card is None:
        raise NotFoundError("No card with this number")
    if card.status != "active":
        # A replaced card is as unusable as a lost one; the e-credential still pays (001).
        raise CardReportedLostError()
    return card.person_id


def refund(
    uow: UnitOfWork,
    *,
    terminal: Terminal,
    settlement_id: str,
) -> tuple[Settlement, SettlementRefund]:
    """Give every fen of a settlement back to the account it came from, once.

    Only the settling institution's terminals see it (NOT_FOUND otherwise). Raises
    AlreadyRefundedError on a second refund, also when many race (the settlement row is locked
    and the refund row is unique per settlement).
    """
    clock = uow.clock

    def work(s: Session) -> tuple[Settlement, SettlementRefund]:
        now = clock.now()
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


def refund_of(session: Session, settlement_id: str) -> SettlementRefund | None:
    """The refund of a settlement, if any (call inside a transaction)."""
    return session.scalar(
        select(SettlementRefund).where(SettlementRefund.settlement_id == settlement_id)
    )
