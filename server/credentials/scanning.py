"""Scanning a code at a counter, and redeeming the scan token it grants.

DOMAIN.md, "The e-credential" (a code is accepted once, from an active credential, and shows
the clerk the person masked) and "Family proxy accounts (亲情账户)" (who presented a proxy code).
The verification order of `scan` is QR.md's: the pure checks (server/credentials/ec1.py), then
revocation, then the atomic used-once record. Settlement calls `redeem_scan_token` inside its
own transaction. The store is never called while a transaction is open. Issue 14: a scan is
two statements on PostgreSQL, both in autocommit (2 round trips), and one store call; the
statements and the connection they run on are server/credentials/scan_statements.py's.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, Table, bindparam, update
from sqlalchemy.orm import Session

from server.credentials import ec1, rules
from server.credentials.models import ScanToken
from server.credentials.publication import published_resolver
from server.credentials.scan_statements import NewScanToken, scan_connection
from server.db.transaction import retrying
from server.errors import (
    CredentialRevokedError,
    NotActivatedError,
    QrAlreadyUsedError,
    QrSignatureInvalidError,
    ScanTokenInvalidError,
    TokenRevokedError,
)
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


def scan(
    uow: UnitOfWork,
    *,
    qr_text: str,
    terminal_id: str,
    institution_id: int,
    refuse_revoked_terminal: bool = False,
) -> Scanned:
    """Verify a code in QR.md's order and grant this institution one settlement for 10 minutes.

    Raises QR_MALFORMED, QR_UNSUPPORTED_VERSION, QR_SIGNATURE_INVALID, KIT_EXPIRED,
    QR_NOT_YET_VALID, QR_EXPIRED, NOT_ACTIVATED (no kit behind a genuine handle),
    CREDENTIAL_REVOKED, QR_ALREADY_USED, SERVICE_UNAVAILABLE (the used-code store is down).

    `refuse_revoked_terminal` (the terminal API, whose token check leaves it to this read:
    server/auth/tokens.py, `checks_own_terminal_revocation`): the read also reads the terminal's
    row, and a revoked or unknown terminal is refused with TOKEN_REVOKED before anything is
    claimed or written. The HIS interface's terminal is its institution's, with no row.

    One connection, no session. On PostgreSQL it is in autocommit: two statements, each its own
    transaction, and no BEGIN or COMMIT on the wire (2 round trips): the read, and the write
    once the code is claimed in the store (1 call). No transaction is open meanwhile.
    """
    store, clock, keys = uow.store, uow.clock, uow.keys
    now = clock.now()
    ring = keys.ring()
    engine = uow.bind  # no ORM session is opened on a scan
    if not isinstance(engine, Engine):
        raise TypeError("the unit of work is bound to an engine")

    def keys_for(kid: str) -> Sequence[Ed25519PublicKey]:
        if kid == ring.active.kid:  # the common case: the active key's, no query
            return [key.public_key for key in ring.candidates(kid)]
        with Session(bind=engine) as s:  # an older key: only if it is still published
            return published_resolver(s, ring, now)(kid)

    verified = ec1.verify_code(qr_text, keys=keys_for, now=now)
    with scan_connection(engine) as db:
        found = db.read(verified.handle, terminal_id if refuse_revoked_terminal else None)
        if not found.terminal_live:
            raise TokenRevokedError()
        kit = found.kit
        if kit is None:
            raise NotActivatedError("No activated e-credential stands behind this code")
        if kit.device_public_key != verified.attestation.device_public_key:
            raise QrSignatureInvalidError()
        if kit.credential_status != "active":
            raise CredentialRevokedError()
        if (
            kit.member_id is not None
            and kit.presenter_user_id is not None
            and kit.live_member_id is None
        ):
            raise CredentialRevokedError("This family member is no longer bound")
        if not rules.counter_grew(kit.last_counter, verified.presentation.counter):
            raise QrAlreadyUsedError()
        shown = MaskedPerson(
            name_masked=mask_name(kit.name),
            id_number_masked=mask_id_number(kit.id_number),
            insurance_type=kit.insurance_type,
            region=kit.region,
        )
        presenter = None
        if kit.presenter_user_id is not None:
            if kit.presenter_phone is None:
                raise ValueError("a proxy kit without its presenter")
            name = kit.presenter_name
            presenter = Presenter(
                mask_name(name) if name else mask_phone(kit.presenter_phone), kit.relation
            )

        # Once only, for real: an atomic set-if-absent that fails closed (QR.md point 4).
        if not store.add(verified.used_code_key, kit.id, rules.USED_CODE_TTL_SECONDS):
            raise QrAlreadyUsedError()

        token = secrets.token_urlsafe(32)
        expires_at = now + timedelta(seconds=rules.SCAN_TOKEN_SECONDS)
        grant = NewScanToken(
            kit_id=kit.id,
            counter=verified.presentation.counter,
            token_hash=_token_hash(token),
            person_id=kit.person_id,
            presented_by_user_id=kit.presenter_user_id,
            relation=kit.relation,
            institution_id=institution_id,
            terminal_id=terminal_id,
            created_at=now.astimezone(UTC),
            expires_at=expires_at.astimezone(UTC),
        )
        # In autocommit there is nothing to roll back before a retry (SQLite's grant rolls its
        # own transaction back).
        if not retrying(lambda: db.grant(grant), lambda: None):
            raise QrAlreadyUsedError()  # a later code of the same device was accepted meanwhile
    return Scanned(scan_token=token, expires_at=expires_at, person=shown, presented_by=presenter)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_SCAN_TOKENS = cast(Table, ScanToken.__table__)
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
