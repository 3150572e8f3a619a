"""Credential use cases: the credential row, offline kits, codes, scanning, revocation, keys.

Activation (issue 3) calls `create_credential` and `issue_offline_kit`; settlement (issue 5)
calls `redeem_scan_token`; their signatures are that contract. QR.md is the design, and the
verification order of `scan` is its order: the pure checks (server/credentials/ec1.py), then
revocation, then the atomic used-once record.

Transactions: each use case opens its own (`with session.begin()`), except the two that run
inside the caller's (`create_credential`, `issue_offline_kit`, `redeem_scan_token`). The store
is never called while the session holds a write transaction (server/ports/store.py).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.audit import record
from server.clock import iso
from server.credentials import ec1, rules
from server.credentials.codec import b64url
from server.credentials.keys import KeyRing, KeySource, ServerKey, public_raw
from server.credentials.models import OfflineKit, ScanToken
from server.db.models import Credential, Person, User
from server.errors import (
    CredentialRevokedError,
    NotActivatedError,
    NotFoundError,
    QrAlreadyUsedError,
    QrSignatureInvalidError,
    ScanTokenInvalidError,
)
from server.family.queries import ProxyMember, proxy_member
from server.family.rules import inverse_relation
from server.privacy import mask_id_number, mask_name, mask_phone
from server.uow import UnitOfWork


@dataclass(frozen=True)
class ScanGrant:
    """What a redeemed scan token says: whose accounts pay, and who presented the code
    (`relation`: what the presenter is to the person, e.g. "grandchild"; None for self)."""

    person_id: int
    presented_by_user_id: int | None
    relation: str | None


@dataclass(frozen=True)
class IssuedCode:
    qr_text: str
    expires_at: datetime
    refresh_after_seconds: int


@dataclass(frozen=True)
class MaskedPerson:
    name_masked: str
    id_number_masked: str
    insurance_type: str
    region: str


@dataclass(frozen=True)
class Presenter:
    name_masked: str
    relation: str | None


@dataclass(frozen=True)
class Scanned:
    scan_token: str
    expires_at: datetime
    person: MaskedPerson
    presented_by: Presenter | None


# --- the credential ---------------------------------------------------------------------------
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


def _current_credential(session: Session, user_id: int) -> Credential:
    """The user's active credential; raises CREDENTIAL_REVOKED when the latest one is revoked
    (activate again), NOT_ACTIVATED when there never was one."""
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


def _member(session: Session, user_id: int, member_id: str | None) -> ProxyMember | None:
    return (
        None if member_id is None else proxy_member(session, user_id=user_id, member_id=member_id)
    )


# --- offline kits -----------------------------------------------------------------------------
def issue_offline_kit(
    session: Session,
    *,
    credential: Credential,
    now: datetime,
    device_public_key: bytes | None,
    keys: KeySource,
    member: ProxyMember | None = None,
) -> dict[str, Any]:
    """Attest a device key for a new random handle for 3 days; call inside the caller's
    transaction. Without `device_public_key` the server makes the pair and the answer carries
    the private half, this once. `member` makes a proxy kit presented by the credential's user.
    """
    device_private: Ed25519PrivateKey | None = None
    if device_public_key is None:
        device_private = Ed25519PrivateKey.generate()
        device_public_key = public_raw(device_private)
    signer = keys.ring().active
    kit = _new_kit(
        session,
        signer=signer,
        credential=credential,
        member=member,
        device_public_key=device_public_key,
        is_server_held=False,
        now=now,
    )
    answer: dict[str, Any] = {
        "kit_id": kit.id,
        "format": "EC1",
        "kid": kit.kid,
        "role": "proxy" if member else "self",
        "device_attestation": b64url(kit.attestation),
        "device_public_key": b64url(device_public_key),
        "issued_at": iso(kit.issued_at),
        "expires_at": iso(kit.expires_at),
        "server_time": iso(now),
        "step_seconds": rules.STEP_SECONDS,
        "code_lifetime_seconds": ec1.CODE_MAX_LIFETIME_SECONDS,
    }
    if device_private is not None:
        answer["device_private_key"] = b64url(device_private.private_bytes_raw())
    return answer


def request_offline_kit(
    uow: UnitOfWork,
    *,
    user_id: int,
    device_public_key: bytes | None,
    member_id: str | None,
) -> dict[str, Any]:
    """POST /credential/offline-kit. Raises NOT_ACTIVATED, CREDENTIAL_REVOKED, NOT_FOUND (an
    unknown family member)."""
    session, clock, keys = uow.session, uow.clock, uow.keys
    now = clock.now()
    with session.begin():
        credential = _current_credential(session, user_id)
        member = _member(session, user_id, member_id)
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


# --- codes made by the server (thin clients) ---------------------------------------------------
def issue_code(uow: UnitOfWork, *, user_id: int, member_id: str | None) -> IssuedCode:
    """GET /credential/qr: the very code a phone would make, from a kit the server holds.

    Raises NOT_ACTIVATED, CREDENTIAL_REVOKED, NOT_FOUND (an unknown family member).
    """
    session, clock, keys = uow.session, uow.clock, uow.keys
    now = clock.now()
    ring = keys.ring()
    with session.begin():
        credential = _current_credential(session, user_id)
        member = _member(session, user_id, member_id)
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
            device = _server_held_device_key(ring.active, handle)
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
    device = _server_held_device_key(ring.active, handle)
    return IssuedCode(
        qr_text=ec1.present(attestation, device, claims),
        expires_at=_at(window.expires_at),
        refresh_after_seconds=window.refresh_after_seconds,
    )


def _server_held_device_key(signer: ServerKey, handle: bytes) -> Ed25519PrivateKey:
    # Derived, never stored: a copy of the database cannot make codes. HKDF with its own label
    # keeps this use of the signing key's secret apart from signing (RFC 5869 §3.2).
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=handle, info=b"EC1 server-held device key"
    ).derive(signer.private_key.private_bytes_raw())
    return Ed25519PrivateKey.from_private_bytes(seed)


# --- scanning ---------------------------------------------------------------------------------
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


def _published_resolver(session: Session, ring: KeyRing, now: datetime) -> ec1.KeyResolver:
    def resolve(kid: str) -> list[Any]:
        candidates = ring.candidates(kid)
        if any(key is ring.active for key in candidates):
            return [key.public_key for key in candidates]  # the common case: no query
        published = published_keys(session, ring, now)
        return [key.public_key for key in candidates if key in published]

    return resolve


_KITS = cast(Table, OfflineKit.__table__)
_CREDENTIALS = cast(Table, Credential.__table__)
_PERSONS = cast(Table, Person.__table__)
_SCAN_TOKENS = cast(Table, ScanToken.__table__)
# A scan's statements, built once (plain columns, no ORM objects to load): one round trip for
# the kit, its credential's status and the person shown; the counter; the scan token.
_KIT_FOR_SCAN = (
    select(
        _KITS.c.id,
        _KITS.c.person_id,
        _KITS.c.device_public_key,
        _KITS.c.presenter_user_id,
        _KITS.c.member_id,
        _KITS.c.relation,
        _KITS.c.last_counter,
        _CREDENTIALS.c.status.label("credential_status"),
        _PERSONS.c.name,
        _PERSONS.c.id_number,
        _PERSONS.c.insurance_type,
        _PERSONS.c.region,
    )
    .join(_CREDENTIALS, _CREDENTIALS.c.id == _KITS.c.credential_id)
    .join(_PERSONS, _PERSONS.c.id == _KITS.c.person_id)
    .where(_KITS.c.handle == bindparam("b_handle"))
)
_COUNTER_GREW = (
    update(_KITS)
    .where(_KITS.c.id == bindparam("b_kit_id"), _KITS.c.last_counter < bindparam("b_counter"))
    .values(last_counter=bindparam("b_counter"))
    .returning(_KITS.c.id)
)
_NEW_SCAN_TOKEN = insert(_SCAN_TOKENS)


def scan(uow: UnitOfWork, *, qr_text: str, terminal_id: str, institution_id: int) -> Scanned:
    """Verify a code in QR.md's order and grant this institution one settlement for 10 minutes.

    Raises QR_MALFORMED, QR_UNSUPPORTED_VERSION, QR_SIGNATURE_INVALID, KIT_EXPIRED,
    QR_NOT_YET_VALID, QR_EXPIRED, NOT_ACTIVATED (no kit behind a genuine handle),
    CREDENTIAL_REVOKED, QR_ALREADY_USED, SERVICE_UNAVAILABLE (the used-code store is down).
    """
    session, store, clock, keys = uow.session, uow.store, uow.clock, uow.keys
    now = clock.now()
    ring = keys.ring()
    with session.begin():  # reads only; closed before the store is called
        verified = ec1.verify_code(qr_text, keys=_published_resolver(session, ring, now), now=now)
        # One round trip for the kit, its credential's status and the person shown.
        kit = session.execute(_KIT_FOR_SCAN, {"b_handle": verified.handle}).first()
        if kit is None:
            raise NotActivatedError("No activated e-credential stands behind this code")
        if kit.device_public_key != verified.attestation.device_public_key:
            raise QrSignatureInvalidError()
        if kit.credential_status != "active":
            raise CredentialRevokedError()
        if kit.member_id is not None and kit.presenter_user_id is not None:
            try:
                proxy_member(session, user_id=kit.presenter_user_id, member_id=kit.member_id)
            except NotFoundError:
                raise CredentialRevokedError("This family member is no longer bound") from None
        if not rules.counter_grew(kit.last_counter, verified.presentation.counter):
            raise QrAlreadyUsedError()
        shown = MaskedPerson(
            name_masked=mask_name(kit.name),
            id_number_masked=mask_id_number(kit.id_number),
            insurance_type=kit.insurance_type,
            region=kit.region,
        )
        presenter = (
            None
            if kit.presenter_user_id is None
            else Presenter(_presenter_name(session, kit.presenter_user_id), kit.relation)
        )
        kit_id, person_id = kit.id, kit.person_id
        presented_by, relation = kit.presenter_user_id, kit.relation

    # Once only, for real: an atomic set-if-absent that fails closed (QR.md point 4).
    if not store.add(verified.used_code_key, kit_id, rules.USED_CODE_TTL_SECONDS):
        raise QrAlreadyUsedError()

    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=rules.SCAN_TOKEN_SECONDS)
    counter = verified.presentation.counter

    def write(s: Session) -> None:
        grew = s.execute(_COUNTER_GREW, {"b_kit_id": kit_id, "b_counter": counter}).first()
        if grew is None:  # a later code of the same device was accepted meanwhile
            raise QrAlreadyUsedError()
        s.execute(
            _NEW_SCAN_TOKEN,
            {
                "token_hash": _token_hash(token),
                "kit_id": kit_id,
                "person_id": person_id,
                "presented_by_user_id": presented_by,
                "relation": relation,
                "institution_id": institution_id,
                "terminal_id": terminal_id,
                "created_at": now,
                "expires_at": expires_at,
                "used_at": None,
            },
        )

    uow.run(write)
    return Scanned(scan_token=token, expires_at=expires_at, person=shown, presented_by=presenter)


def _presenter_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise ValueError("a proxy kit without its presenter")
    person = session.get(Person, user.person_id) if user.person_id else None
    return mask_name(person.name) if person else mask_phone(user.phone)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# One conditional UPDATE (built once): two settlements racing for one token cannot both match it.
_REDEEM = (
    update(_SCAN_TOKENS)
    .where(
        _SCAN_TOKENS.c.token_hash == bindparam("b_token_hash"),
        _SCAN_TOKENS.c.institution_id == bindparam("b_institution_id"),
        _SCAN_TOKENS.c.used_at.is_(None),
        _SCAN_TOKENS.c.expires_at > bindparam("b_now"),
    )
    .values(used_at=bindparam("b_now"))
    .returning(
        _SCAN_TOKENS.c.person_id, _SCAN_TOKENS.c.presented_by_user_id, _SCAN_TOKENS.c.relation
    )
)


def redeem_scan_token(
    session: Session, *, token: str, institution_id: int, now: datetime
) -> ScanGrant:
    """Use up a scan token inside the caller's transaction (a rollback leaves it unused).

    Raises SCAN_TOKEN_INVALID when it is unknown, expired (10 minutes), already used or was
    granted to another institution.
    """
    row = session.execute(
        _REDEEM,
        {"b_token_hash": _token_hash(token), "b_institution_id": institution_id, "b_now": now},
    ).first()
    if row is None:
        raise ScanTokenInvalidError()
    return ScanGrant(person_id=row[0], presented_by_user_id=row[1], relation=row[2])


# --- revocation -------------------------------------------------------------------------------
def revoke_own(uow: UnitOfWork, *, user_id: int) -> None:
    """POST /credential/revoke: every code of the user's credential, every kit, stops working.
    Raises NOT_ACTIVATED (or CREDENTIAL_REVOKED when it already is)."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        credential = _current_credential(session, user_id)
        _revoke(session, credential, now=now, actor=f"user:{user_id}")


def revoke_at_counter(uow: UnitOfWork, *, id_number: str, actor: str) -> None:
    """The same, done by an agency clerk. Raises NOT_FOUND (no such person), NOT_ACTIVATED."""
    session, clock = uow.session, uow.clock
    now = clock.now()
    with session.begin():
        person_id = session.scalar(select(Person.id).where(Person.id_number == id_number))
        if person_id is None:
            raise NotFoundError("No insured person with this ID number")
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


# --- keys -------------------------------------------------------------------------------------
def keys_document(uow: UnitOfWork) -> dict[str, Any]:
    """/.well-known/ecredential-keys.json: the published keys (see `published_keys`)."""
    session, clock, keys = uow.session, uow.clock, uow.keys
    with session.begin():
        published = published_keys(session, keys.ring(), clock.now())
    return {"keys": [key.jwk() for key in published]}


def rotate_keys(uow: UnitOfWork, *, actor: str) -> str:
    """A new signing key, published and signing from now on; returns its kid."""
    session, clock, keys = uow.session, uow.clock, uow.keys
    key = keys.rotate()
    with session.begin():
        record(session, at=clock.now(), actor=actor, action="keys.rotated", subject=key.kid)
    return key.kid


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
