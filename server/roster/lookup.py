"""The clerk's look-up of one insured person at the counter, masked.

What the desk needs to help someone: is the e-credential active, is the payment password locked
or still to be sent, which cards, which phone (masked). No full ID number or name leaves here.

DOMAIN.md: "Who uses it", "Payment password", "The e-credential".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from server.accounts.passwords import locked_until
from server.cards.models import Card
from server.db.models import Account, Credential
from server.privacy import mask_id_number, mask_name, mask_phone
from server.roster.queries import person_by_id_number
from server.uow import UnitOfWork


@dataclass(frozen=True)
class CardView:
    card_no: str
    status: str
    issued_at: datetime


@dataclass(frozen=True)
class PersonView:
    id_number_masked: str
    name_masked: str
    phone_masked: str | None
    region: str
    insurance_type: str
    person_type: str
    credential_status: str  # active | revoked | not_activated
    activated_at: datetime | None
    password_status: str  # set | pending | none (imported without a phone)
    password_locked_until: datetime | None
    cards: list[CardView]


def look_up_person(uow: UnitOfWork, *, id_number: str) -> PersonView:
    """The person with this ID number, masked. Raises NOT_FOUND when the roster has none."""
    session = uow.session
    with uow.transaction():
        person = person_by_id_number(session, id_number)
        account = session.scalar(select(Account).where(Account.person_id == person.id))
        credential = session.scalar(
            select(Credential)
            .where(Credential.person_id == person.id)
            .order_by(Credential.activated_at.desc())
            .limit(1)
        )
        cards = [
            CardView(c.card_no, c.status, c.issued_at)
            for c in session.scalars(
                select(Card).where(Card.person_id == person.id).order_by(Card.issued_at.desc())
            )
        ]
        account_id = account.id if account is not None else None
        if account is None or (account.password_hash is None and not account.password_pending):
            issue_state = "none"
        elif account.password_pending:
            issue_state = "pending"
        else:
            issue_state = "set"
        view = PersonView(
            id_number_masked=mask_id_number(person.id_number),
            name_masked=mask_name(person.name),
            phone_masked=mask_phone(person.phone) if person.phone else None,
            region=person.region,
            insurance_type=person.insurance_type,
            person_type=person.person_type,
            credential_status="not_activated" if credential is None else credential.status,
            activated_at=None if credential is None else credential.activated_at,
            password_status=issue_state,
            password_locked_until=None,
            cards=cards,
        )
    # The store only after the read transaction has ended (docs/architecture.md).
    lock = locked_until(uow.store, account_id) if account_id is not None else None
    if lock is not None and lock <= uow.clock.now():
        lock = None
    return replace(view, password_locked_until=lock)
