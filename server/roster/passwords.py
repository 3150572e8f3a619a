"""The roster's payment-password use cases: initial passwords issued after an import (or a phone
fix) and the counter's reset. DOMAIN.md: Activation; Payment password. Re-exported from
service.py.

Initial passwords are made after the import commits (so a refused import sends nothing) by
`issue_pending_passwords`; each costs one slow hash, so a large import hands them to a
background thread, and `flask issue-passwords` finishes any that a crash left pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from server.accounts.passwords import lift_lock, new_initial_password
from server.audit import record
from server.db.models import Account, Person
from server.errors import RequestValidationError
from server.privacy import mask_id_number, mask_name, mask_phone
from server.roster.queries import person_by_id_number
from server.roster.rules import is_valid_phone
from server.uow import UnitOfWork


def queue_initial_passwords(uow: UnitOfWork, account_ids: Sequence[int]) -> None:
    """Hand the slow hashing and the SMS to the jobs port (after the import committed)."""
    if account_ids:
        uow.jobs.enqueue("initial_passwords", account_ids=list(account_ids))


def issue_pending_passwords(uow: UnitOfWork, *, account_ids: Iterable[int] | None = None) -> int:
    """Give each pending account a random initial password and text it to the roster phone.

    Each account is claimed by an UPDATE ... WHERE password_pending, so two workers never send
    two passwords; the SMS goes out only after its hash is committed.
    """
    session, hasher, sms, clock = uow.session, uow.hasher, uow.sms, uow.clock
    issued = 0
    if account_ids is None:
        with session.begin():
            account_ids = list(
                session.scalars(select(Account.id).where(Account.password_pending.is_(True)))
            )
    for account_id in account_ids:
        password = new_initial_password()
        digest = hasher.hash(password)
        with session.begin():
            claimed = session.execute(
                update(Account)
                .where(Account.id == account_id, Account.password_pending.is_(True))
                .values(
                    password_hash=digest,
                    password_pending=False,
                    password_is_initial=True,
                    password_changed_at=clock.now(),
                )
            )
            phone = session.scalar(
                select(Person.phone)
                .join(Account, Account.person_id == Person.id)
                .where(Account.id == account_id)
            )
            if not claimed.rowcount or not phone:  # type: ignore[attr-defined]
                continue
            record(
                session,
                at=clock.now(),
                actor="system",
                action="password.initial_issued",
                subject=f"account:{account_id}",
            )
        sms.send(phone, "payment_password", password)
        issued += 1
    return issued


@dataclass(frozen=True)
class PasswordReset:
    account_id: int
    password: str | None  # only when the desk shows it on screen (deliver="screen")


def reset_password(
    uow: UnitOfWork,
    id_number: str,
    *,
    actor: str,
    deliver: str | None = None,
    phone: str | None = None,
) -> PasswordReset:
    """The counter's reset: a new initial password, and any lock lifted.

    Without `deliver` or `phone` (or with deliver="sms" alone) the password goes by SMS to the
    roster phone, as a pending initial password (VALIDATION_ERROR when the person has none).
    A person without a phone (a relative at the desk) gets it either on screen, returned here
    once and never logged (deliver="screen"), or by SMS to a `phone` given for this reset only,
    whose text names the masked holder. A phone with deliver="screen", or an invalid phone, is
    VALIDATION_ERROR; an unknown ID number NOT_FOUND.
    """
    if deliver not in (None, "sms", "screen"):
        raise RequestValidationError("deliver is sms or screen", field="deliver")
    if phone is not None and deliver == "screen":
        raise RequestValidationError("A phone goes with deliver=sms", field="phone")
    if phone is not None and not is_valid_phone(phone):
        raise RequestValidationError(
            "phone must be an 11-digit mainland mobile number", field="phone"
        )
    if deliver == "screen" or phone is not None:
        return _reset_at_desk(uow, id_number, actor=actor, to_phone=phone)
    session, store, clock = uow.session, uow.store, uow.clock
    now = clock.now()
    with session.begin():
        person = person_by_id_number(session, id_number)
        if not person.phone:
            raise RequestValidationError(
                "The person has no phone: show the password on screen (deliver=screen) "
                "or give a phone for this reset"
            )
        account = session.scalar(select(Account).where(Account.person_id == person.id))
        assert account is not None
        account.password_pending = True
        record(
            session, at=now, actor=actor, action="password.reset", subject=mask_id_number(id_number)
        )
        account_id = account.id
    lift_lock(store, account_id, clock)
    queue_initial_passwords(uow, [account_id])
    return PasswordReset(account_id, None)


def _reset_at_desk(
    uow: UnitOfWork, id_number: str, *, actor: str, to_phone: str | None
) -> PasswordReset:
    """Set a new initial password now: shown on screen (to_phone None) or texted to to_phone.

    The hash is made before the transaction (it is slow); a pending initial password of the
    same account is superseded (its job finds nothing pending).
    """
    session, store, clock = uow.session, uow.store, uow.clock
    password = new_initial_password()
    digest = uow.hasher.hash(password)
    now = clock.now()
    with session.begin():
        person = person_by_id_number(session, id_number)
        account = session.scalar(select(Account).where(Account.person_id == person.id))
        assert account is not None
        account.password_hash = digest
        account.password_pending = False
        account.password_is_initial = True
        account.password_changed_at = now
        holder = f"{mask_name(person.name)}（{mask_id_number(id_number)}）"
        record(
            session,
            at=now,
            actor=actor,
            action="password.reset",
            subject=mask_id_number(id_number),
            delivered="screen" if to_phone is None else f"sms:{mask_phone(to_phone)}",
        )
        account_id = account.id
    lift_lock(store, account_id, clock)
    if to_phone is None:
        return PasswordReset(account_id, password)
    uow.sms.send(to_phone, "payment_password_reset", password, holder=holder)
    return PasswordReset(account_id, None)
