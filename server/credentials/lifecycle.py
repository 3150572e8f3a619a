"""A person's e-credential row: made at activation, found for each phone call, revoked.

DOMAIN.md, "The e-credential" (one active credential per person; revoking it stops every code
and kit) and "Family proxy accounts (亲情账户)" (a member's kit is presented by the binder).
Activation (server/activation/service.py) calls `create_credential` inside its own transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record
from server.db.models import Credential
from server.errors import CredentialRevokedError, NotActivatedError
from server.family.queries import ProxyMember, proxy_member
from server.roster.queries import person_by_id_number
from server.uow import UnitOfWork


def create_credential(
    session: Session, *, person_id: int, user_id: int, now: datetime
) -> Credential:
    """A new active credential for a person; call inside the caller's transaction."""
    credential = Credential(
        id=str(uuid.uuid4()),
        person_id=person_id,
        user_id=user_id,
        status="active",
        activated_at=now,
    )
    session.add(credential)
    session.flush()
    return credential


def current_credential(session: Session, user_id: int) -> Credential:
    """The user's active credential.

    Raises CREDENTIAL_REVOKED when the latest one is revoked (activate again), NOT_ACTIVATED
    when there never was one.
    """
    latest = session.scalar(
        select(Credential)
        .where(Credential.user_id == user_id)
        .order_by((Credential.status == "active").desc(), Credential.activated_at.desc())
        .limit(1)
    )
    if latest is None:
        raise NotActivatedError()
    if latest.status != "active":
        raise CredentialRevokedError("This e-credential is revoked; activate it again")
    return latest


def member_of(session: Session, user_id: int, member_id: str | None) -> ProxyMember | None:
    """The bound family member a proxy code names, or None for the user's own codes.

    Raises NOT_FOUND for a member the user has not bound.
    """
    if member_id is None:
        return None
    return proxy_member(session, user_id=user_id, member_id=member_id)


def revoke_own(uow: UnitOfWork, *, user_id: int) -> None:
    """POST /credential/revoke: every code of the user's credential, every kit, stops working.

    Raises NOT_ACTIVATED (or CREDENTIAL_REVOKED when it already is).
    """
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        credential = current_credential(session, user_id)
        _revoke(session, credential, now=now, actor=f"user:{user_id}")


def revoke_at_counter(uow: UnitOfWork, *, id_number: str, actor: str) -> None:
    """The same, done by an agency clerk. Raises NOT_FOUND (no such person), NOT_ACTIVATED."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        person_id = person_by_id_number(session, id_number).id
        credential = session.scalar(
            select(Credential).where(
                Credential.person_id == person_id, Credential.status == "active"
            )
        )
        if credential is None:
            raise NotActivatedError("This person has no active e-credential")
        _revoke(session, credential, now=now, actor=actor)


def _revoke(session: Session, credential: Credential, *, now: datetime, actor: str) -> None:
    credential.status = "revoked"
    credential.revoked_at = now
    record(session, at=now, actor=actor, action="credential.revoked", subject=credential.id)
