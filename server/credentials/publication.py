"""Which signing keys are published, and their rotation.

DOMAIN.md, "The e-credential": verifiers check codes offline against the published keys; a key
stays published while a kit it signed is still valid (QR.md point 8; docs/qr-format.md, "Keys").
The document's body is `server.credentials.keys.keys_document`; the route shapes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record
from server.credentials import ec1
from server.credentials.keys import KeyRing, ServerKey
from server.credentials.models import OfflineKit
from server.uow import UnitOfWork


def published_keys(session: Session, ring: KeyRing, now: datetime) -> list[ServerKey]:
    """The keys verifiers must know: the active one and every older one that signed a kit that
    has not expired yet (QR.md point 8)."""
    live = set(
        session.scalars(
            select(OfflineKit.kid)
            .where(OfflineKit.expires_at > now - timedelta(seconds=ec1.SKEW_SECONDS))
            .distinct()
        )
    )
    return [key for key in ring.keys if key is ring.active or key.kid in live]


def published_resolver(session: Session, ring: KeyRing, now: datetime) -> ec1.KeyResolver:
    """A kid's public keys among the published ones; the active key's without a query."""

    def resolve(kid: str) -> list[Any]:
        candidates = ring.candidates(kid)
        if any(key is ring.active for key in candidates):
            return [key.public_key for key in candidates]  # the common case: no query
        published = published_keys(session, ring, now)
        return [key.public_key for key in candidates if key in published]

    return resolve


def published_now(uow: UnitOfWork) -> list[ServerKey]:
    """/.well-known/ecredential-keys.json: the keys published now (see `published_keys`)."""
    session, clock, keys = uow.session, uow.clock, uow.keys
    with session.begin():
        return published_keys(session, keys.ring(), clock.now())


def rotate_keys(uow: UnitOfWork, *, actor: str) -> str:
    """A new signing key, published and signing from now on; returns its kid."""
    session, clock, keys = uow.session, uow.clock, uow.keys
    key = keys.rotate()
    with session.begin():
        record(session, at=clock.now(), actor=actor, action="keys.rotated", subject=key.kid)
    return key.kid
