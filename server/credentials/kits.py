"""Offline kits and the codes the server makes from kits it holds.

DOMAIN.md, "The e-credential": a phone makes rotating codes with no network from a kit (a device
key attested by the server for 3 days); a thin client asks the server for the very same code.
DOMAIN.md, "Family proxy accounts (亲情账户)": a proxy kit pays from the member's accounts and
names its presenter. QR.md is the design; docs/qr-format.md the format.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.credentials import ec1, rules
from server.credentials.keys import KeySource, ServerKey, public_raw
from server.credentials.lifecycle import current_credential, member_of
from server.credentials.models import OfflineKit
from server.db.models import Credential
from server.family.queries import ProxyMember
from server.family.rules import inverse_relation
from server.uow import UnitOfWork


@dataclass(frozen=True)
class IssuedKit:
    """What a phone needs to make codes offline. `device_private_key` is set only when the
    server made the device pair, and is handed out this once."""

    kit_id: str
    format: Literal["EC1"]
    kid: str
    role: Literal["self", "proxy"]
    device_attestation: bytes
    device_public_key: bytes
    device_private_key: bytes | None
    issued_at: datetime
    expires_at: datetime
    server_time: datetime
    step_seconds: int
    code_lifetime_seconds: int


@dataclass(frozen=True)
class IssuedCode:
    qr_text: str
    expires_at: datetime
    refresh_after_seconds: int


def issue_offline_kit(
    session: Session,
    *,
    credential: Credential,
    now: datetime,
    device_public_key: bytes | None,
    keys: KeySource,
    member: ProxyMember | None = None,
) -> IssuedKit:
    """Attest a device key for a new random handle for 3 days; call inside the caller's
    transaction. Without `device_public_key` the server makes the pair and the kit carries
    the private half, this once. `member` makes a proxy kit presented by the credential's user.
    """
    device_private: Ed25519PrivateKey | None = None
    if device_public_key is None:
        device_private = Ed25519PrivateKey.generate()
        device_public_key = public_raw(device_private)
    kit = _new_kit(
        session,
        signer=keys.ring().active,
        credential=credential,
        member=member,
        device_public_key=device_public_key,
        is_server_held=False,
        now=now,
    )
    return IssuedKit(
        kit_id=kit.id,
        format="EC1",
        kid=kit.kid,
        role="proxy" if member else "self",
        device_attestation=kit.attestation,
        device_public_key=device_public_key,
        device_private_key=None if device_private is None else device_private.private_bytes_raw(),
        issued_at=kit.issued_at,
        expires_at=kit.expires_at,
        server_time=now,
        step_seconds=rules.STEP_SECONDS,
        code_lifetime_seconds=ec1.CODE_MAX_LIFETIME_SECONDS,
    )


def request_offline_kit(
    uow: UnitOfWork,
    *,
    user_id: int,
    device_public_key: bytes | None,
    member_id: str | None,
) -> IssuedKit:
    """POST /credential/offline-kit.

    Raises NOT_ACTIVATED, CREDENTIAL_REVOKED, NOT_FOUND (an unknown family member).
    """
    session, clock, keys = uow.session, uow.clock, uow.keys
    now = clock.now()
    with session.begin():
        credential = current_credential(session, user_id)
        member = member_of(session, user_id, member_id)
        return issue_offline_kit(
            session,
            credential=credential,
            now=now,
            device_public_key=device_public_key,
            keys=keys,
            member=member,
        )


def _new_kit(
    session: Session,
    *,
    signer: ServerKey,
    credential: Credential,
    member: ProxyMember | None,
    device_public_key: bytes,
    is_server_held: bool,
    now: datetime,
    handle: bytes | None = None,
) -> OfflineKit:
    issued_at = int(now.timestamp())
    claims = ec1.AttestationClaims(
        handle=handle or os.urandom(ec1.HANDLE_BYTES),
        issued_at=issued_at,
        expires_at=issued_at + rules.KIT_LIFETIME_SECONDS,
        device_public_key=device_public_key,
        role=ec1.ROLE_PROXY if member else ec1.ROLE_SELF,
        # The presenter is named by a random value of this kit alone: the server knows who.
        presenter=os.urandom(ec1.HANDLE_BYTES) if member else None,
    )
    kit = OfflineKit(
        id=str(uuid.uuid4()),
        handle=claims.handle,
        credential_id=credential.id,
        person_id=member.person_id if member else credential.person_id,
        presenter_user_id=credential.user_id if member else None,
        member_id=member.member_id if member else None,
        # Stored as the presenter sees it: what the presenter is to the person (their grandchild).
        relation=inverse_relation(member.relation) if member else None,
        kid=signer.kid,
        attestation=ec1.sign_attestation(signer.private_key, signer.kid_raw, claims),
        device_public_key=device_public_key,
        is_server_held=is_server_held,
        issued_at=_at(claims.issued_at),
        expires_at=_at(claims.expires_at),
        issued_counter=0,
        last_counter=0,
    )
    session.add(kit)
    session.flush()
    return kit


def issue_code(uow: UnitOfWork, *, user_id: int, member_id: str | None) -> IssuedCode:
    """GET /credential/qr: the very code a phone would make, from a kit the server holds.

    Raises NOT_ACTIVATED, CREDENTIAL_REVOKED, NOT_FOUND (an unknown family member).
    """
    session, clock, keys = uow.session, uow.clock, uow.keys
    now = clock.now()
    ring = keys.ring()
    with session.begin():
        credential = current_credential(session, user_id)
        member = member_of(session, user_id, member_id)
        kit = session.scalar(
            select(OfflineKit)
            .where(
                OfflineKit.credential_id == credential.id,
                OfflineKit.is_server_held.is_(True),
                OfflineKit.kid == ring.active.kid,
                OfflineKit.member_id.is_(None)
                if member is None
                else OfflineKit.member_id == member.member_id,
                OfflineKit.expires_at > now + timedelta(seconds=rules.KIT_REFRESH_MARGIN_SECONDS),
            )
            .order_by(OfflineKit.expires_at.desc())
            .limit(1)
        )
        if kit is None:
            handle = os.urandom(ec1.HANDLE_BYTES)
            device = server_held_device_key(ring.active, handle)
            kit = _new_kit(
                session,
                signer=ring.active,
                credential=credential,
                member=member,
                device_public_key=public_raw(device),
                is_server_held=True,
                now=now,
                handle=handle,
            )
        counter = session.execute(
            update(OfflineKit)
            .where(OfflineKit.id == kit.id)
            .values(issued_counter=OfflineKit.issued_counter + 1)
            .returning(OfflineKit.issued_counter)
        ).scalar_one()
        attestation, handle = kit.attestation, kit.handle
    window = rules.code_window(now)
    claims = ec1.PresentationClaims(
        code_id=os.urandom(ec1.CODE_ID_BYTES),
        issued_at=window.issued_at,
        expires_at=window.expires_at,
        counter=counter,
    )
    device = server_held_device_key(ring.active, handle)
    return IssuedCode(
        qr_text=ec1.present(attestation, device, claims),
        expires_at=_at(window.expires_at),
        refresh_after_seconds=window.refresh_after_seconds,
    )


def server_held_device_key(signer: ServerKey, handle: bytes) -> Ed25519PrivateKey:
    """The device key of a kit the server holds, for `handle`."""
    # Derived, never stored: a copy of the database cannot make codes. HKDF with its own label
    # keeps this use of the signing key's secret apart from signing (RFC 5869 §3.2).
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=handle, info=b"EC1 server-held device key"
    ).derive(signer.private_key.private_bytes_raw())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
