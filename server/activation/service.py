"""Activation: the signed-in phone, ID number, name and region must match one roster entry; then
the payment password (with the counter's attempt limit), consent, and the person's own face.

DOMAIN.md "Activation = real-name verification": a person whose phone the agency never collected
(or collected wrongly) gets 参保人员编号不存在 (INSURED_NUMBER_NOT_FOUND) and must have it fixed.
The checks run in the order a clerk would: cheap ones first, the slow hash and the face last,
and nothing is written until every one has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.passwords import check_payment_password
from server.audit import record
from server.credentials.kits import IssuedKit, issue_offline_kit
from server.credentials.lifecycle import create_credential
from server.db.models import Account, Credential, Person, User
from server.errors import (
    AlreadyActivatedError,
    ConsentRequiredError,
    FaceMismatchError,
    InsuredNumberNotFoundError,
)
from server.roster import service as roster
from server.uow import UnitOfWork


@dataclass(frozen=True)
class ActivationForm:
    region: str
    id_number: str
    name: str
    payment_password: str
    face_image: bytes  # the live photo
    consent: bool
    device_public_key: bytes | None = None


@dataclass(frozen=True)
class Activated:
    credential_id: str
    status: str
    offline_kit: IssuedKit


def activate(uow: UnitOfWork, *, user_id: int, form: ActivationForm) -> Activated:
    """Activate the user's e-credential. Raises CONSENT_REQUIRED, ALREADY_ACTIVATED,
    INSURED_NUMBER_NOT_FOUND, PAYMENT_PASSWORD_INVALID / PASSWORD_LOCKED, FACE_MISMATCH, and
    RATE_LIMITED past the day's roster lookups."""
    session, store, hasher, clock, face, keys = (
        uow.session,
        uow.store,
        uow.hasher,
        uow.clock,
        uow.face,
        uow.keys,
    )
    if not form.consent:
        raise ConsentRequiredError()
    roster.count_lookup(store, clock, user_id=user_id)

    # Read phase: a short read-only transaction, closed before the store is called.
    with session.begin():
        user = session.get(User, user_id)
        assert user is not None
        person = session.scalar(select(Person).where(Person.id_number == form.id_number))
        if (
            person is None
            or person.name != form.name
            or person.region != form.region
            or person.phone != user.phone
        ):
            raise InsuredNumberNotFoundError()
        # One phone, one person; a revoked credential may be activated again (a new one).
        if _has_active_credential(session, person.id) or user.person_id not in (None, person.id):
            raise AlreadyActivatedError()
        account = session.scalar(select(Account).where(Account.person_id == person.id))
        assert account is not None
        account_id, password_hash = account.id, account.password_hash
        person_id, template = person.id, person.face_template

    check_payment_password(
        store=store,
        hasher=hasher,
        clock=clock,
        account_id=account_id,
        password_hash=password_hash,
        password=form.payment_password,
    )
    if not face.matches(template, form.face_image):
        raise FaceMismatchError()

    now = clock.now()
    try:
        with session.begin():
            user = session.get(User, user_id, with_for_update=True)
            assert user is not None
            if user.person_id is not None and user.person_id != person_id:
                raise AlreadyActivatedError()
            # The roster phone may have moved to a new phone since an old, revoked activation.
            session.execute(
                update(User)
                .where(User.person_id == person_id, User.id != user_id)
                .values(person_id=None)
            )
            credential = create_credential(session, person_id=person_id, user_id=user_id, now=now)
            user.person_id = person_id
            kit = issue_offline_kit(
                session,
                credential=credential,
                now=now,
                device_public_key=form.device_public_key,
                keys=keys,
            )
            record(
                session,
                at=now,
                actor=f"user:{user_id}",
                action="credential.activated",
                subject=credential.id,
            )
    except IntegrityError as exc:  # a parallel activation of the same person won
        raise AlreadyActivatedError() from exc
    return Activated(credential.id, credential.status, kit)


def _has_active_credential(session: Session, person_id: int) -> bool:
    return (
        session.scalar(
            select(Credential.id).where(
                Credential.person_id == person_id, Credential.status == "active"
            )
        )
        is not None
    )
