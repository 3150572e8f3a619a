"""Scanning a code at a counter, and redeeming the scan token it grants.

DOMAIN.md, "The e-credential" (a code is accepted once, from an active credential, and shows
the clerk the person masked) and "Family proxy accounts (亲情账户)" (who presented a proxy code).
The verification order of `scan` is QR.md's: the pure checks (server/credentials/ec1.py), then
revocation, then the atomic used-once record. Settlement calls `redeem_scan_token` inside its
own transaction. The store is never called while the session holds a write transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.credentials import ec1, rules
from server.credentials.models import OfflineKit, ScanToken
from server.credentials.publication import published_resolver
from server.db.models import Credential, Person, User
from server.errors import (
    CredentialRevokedError,
    NotActivatedError,
    NotFoundError,
    QrAlreadyUsedError,
    QrSignatureInvalidError,
    ScanTokenInvalidError,
)
from server.family.queries import proxy_member
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
        verified = ec1.verify_code(qr_text, keys=published_resolver(session, ring, now), now=now)
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
