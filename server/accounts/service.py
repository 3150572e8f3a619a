"""The holder's own account settings: the payment password and the password-free limit.

DOMAIN.md, "Payment password": change with the old one; weak ones are refused; the password-free
limit (限额免密) needs the password to change. The password is checked (store + slow hash)
before the transaction that writes, never under a row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.password_rules import weakness
from server.accounts.passwords import check_payment_password, locked_until
from server.accounts.queries import StatementLine, statement_page
from server.audit import record
from server.db.models import Account, Person, User
from server.errors import InvalidAmountError, NotActivatedError, WeakPasswordError
from server.money import MAX_AMOUNT_FEN
from server.uow import UnitOfWork


@dataclass(frozen=True)
class Holder:
    user_id: int
    person_id: int
    account_id: int
    id_number: str
    phone: str | None
    password_hash: str | None


def holder_of(session: Session, user_id: int) -> Holder:
    """The signed-in user's person and personal account; NOT_ACTIVATED before activation."""
    with session.begin():
        row = session.execute(
            select(Person.id, Account.id, Person.id_number, Person.phone, Account.password_hash)
            .join(User, User.person_id == Person.id)
            .join(Account, Account.person_id == Person.id)
            .where(User.id == user_id)
        ).one_or_none()
    if row is None:
        raise NotActivatedError()
    return Holder(user_id, row[0], row[1], row[2], row[3], row[4])


def _actor(user_id: int) -> str:
    return f"user:{user_id}"


def _check_password(uow: UnitOfWork, holder: Holder, password: str) -> None:
    """The holder's payment password, checked like at a till (store + slow hash, no row lock)."""
    check_payment_password(
        store=uow.store,
        hasher=uow.hasher,
        clock=uow.clock,
        account_id=holder.account_id,
        password_hash=holder.password_hash,
        password=password,
    )


def change_payment_password(
    uow: UnitOfWork,
    *,
    user_id: int,
    old_password: str,
    new_password: str,
) -> None:
    """Replace the payment password, given the old one.

    The new one is judged first (WEAK_PASSWORD, details `reason`), so a weak choice costs no
    attempt; then the old one is checked like at a till (PAYMENT_PASSWORD_INVALID with
    `attempts_left`, PASSWORD_LOCKED with `locked_until`).
    """
    session, hasher, clock = uow.session, uow.hasher, uow.clock
    holder = holder_of(session, user_id)
    why = weakness(new_password, id_number=holder.id_number, phone=holder.phone)
    if why is not None:
        raise WeakPasswordError(reason=why.value)
    _check_password(uow, holder, old_password)
    new_hash = hasher.hash(new_password)
    now = clock.now()
    with session.begin():
        session.execute(
            update(Account)
            .where(Account.id == holder.account_id)
            .values(
                password_hash=new_hash,
                password_is_initial=False,
                password_pending=False,
                password_changed_at=now,
            )
        )
        record(
            session,
            at=now,
            actor=_actor(user_id),
            action="password.changed",
            subject=f"account:{holder.account_id}",
        )


def set_password_free_limit(
    uow: UnitOfWork,
    *,
    user_id: int,
    limit_fen: int,
    payment_password: str,
) -> None:
    """Set the amount up to which a payment asks no password; needs the payment password."""
    session, clock = uow.session, uow.clock
    if not 0 <= limit_fen < MAX_AMOUNT_FEN:
        raise InvalidAmountError("limit_fen is 0 .. 10^10-1 fen", reason="limit_out_of_range")
    holder = holder_of(session, user_id)
    _check_password(uow, holder, payment_password)
    now = clock.now()
    with session.begin():
        session.execute(
            update(Account)
            .where(Account.id == holder.account_id)
            .values(password_free_limit_fen=limit_fen)
        )
        record(
            session,
            at=now,
            actor=_actor(user_id),
            action="password_free_limit.set",
            subject=f"account:{holder.account_id}",
            limit_fen=limit_fen,
        )


@dataclass(frozen=True)
class Summary:
    balance_fen: int
    password_free_limit_fen: int
    password_locked_until: datetime | None


def summary(uow: UnitOfWork, *, user_id: int) -> Summary:
    """The holder's balance, password-free limit and any password lock."""
    session, store = uow.session, uow.store
    holder = holder_of(session, user_id)
    with session.begin():
        balance, limit = session.execute(
            select(Account.balance_fen, Account.password_free_limit_fen).where(
                Account.id == holder.account_id
            )
        ).one()
    return Summary(int(balance), int(limit), locked_until(store, holder.account_id))


def statement(
    uow: UnitOfWork, *, user_id: int, before_entry_id: int | None, limit: int
) -> tuple[list[StatementLine], int | None]:
    """A page of the holder's statement, newest first, and the cursor of the next page."""
    holder = holder_of(uow.session, user_id)
    return statement_page(
        uow.session, account_id=holder.account_id, before_entry_id=before_entry_id, limit=limit
    )
