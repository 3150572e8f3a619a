"""Scanning a code at a counter, and redeeming the scan token it grants.

DOMAIN.md, "The e-credential" (a code is accepted once, from an active credential, and shows
the clerk the person masked) and "Family proxy accounts (亲情账户)" (who presented a proxy code).
The verification order of `scan` is QR.md's: the pure checks (server/credentials/ec1.py), then
revocation, then the atomic used-once record. Settlement calls `redeem_scan_token` inside its
own transaction. The store is never called while a transaction is open. Issue 14: a scan is
two statements on PostgreSQL, both in autocommit (2 round trips), and one store call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, Insert, Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.credentials import ec1, rules
from server.credentials.models import OfflineKit, ScanToken
from server.credentials.publication import published_resolver
from server.db.models import Credential, Person, User
from server.db.precompiled import Precompiled
from server.db.transaction import retrying
from server.errors import (
    CredentialRevokedError,
    NotActivatedError,
    QrAlreadyUsedError,
    QrSignatureInvalidError,
    ScanTokenInvalidError,
)
from server.family.models import FamilyMember
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
_USERS = cast(Table, User.__table__)
_MEMBERS = cast(Table, FamilyMember.__table__)
_SCAN_TOKENS = cast(Table, ScanToken.__table__)
_PRESENTER_PERSONS = _PERSONS.alias("presenter_person")
# A scan's statements, built once (plain columns, no ORM objects to load).
# The read, one statement: the kit, its credential's status, the person shown and, for a proxy
# code, whether the binding is still live (family.queries.proxy_member's rule: this presenter's
# binding under this member id, not unbound) and who presents it.
_KIT_FOR_SCAN = Precompiled(
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
        _MEMBERS.c.id.label("live_member_id"),
        _USERS.c.phone.label("presenter_phone"),
        _PRESENTER_PERSONS.c.name.label("presenter_name"),
    )
    .join(_CREDENTIALS, _CREDENTIALS.c.id == _KITS.c.credential_id)
    .join(_PERSONS, _PERSONS.c.id == _KITS.c.person_id)
    .outerjoin(
        _MEMBERS,
        and_(
            _MEMBERS.c.id == _KITS.c.member_id,
            _MEMBERS.c.user_id == _KITS.c.presenter_user_id,
            _MEMBERS.c.unbound_at.is_(None),
        ),
    )
    .outerjoin(_USERS, _USERS.c.id == _KITS.c.presenter_user_id)
    .outerjoin(_PRESENTER_PERSONS, _PRESENTER_PERSONS.c.id == _USERS.c.person_id)
    .where(_KITS.c.handle == bindparam("b_handle"))
)
# The write: the counter grows (only forwards: a later code of the same device accepted
# meanwhile makes it match nothing) and the scan token is granted for it.
_COUNTER_GREW = (
    update(_KITS)
    .where(_KITS.c.id == bindparam("b_kit_id"), _KITS.c.last_counter < bindparam("b_counter"))
    .values(last_counter=bindparam("b_counter"))
    .returning(_KITS.c.id)
)
_NEW_SCAN_TOKEN = insert(_SCAN_TOKENS)
_TOKEN_COLUMNS = (
    "token_hash",
    "person_id",
    "presented_by_user_id",
    "relation",
    "institution_id",
    "terminal_id",
    "created_at",
    "expires_at",
)


def _grant_after_growth() -> Insert:
    """PostgreSQL: both in one statement (a data-modifying CTE), its own transaction in
    autocommit: `WITH grew AS (UPDATE offline_kits ... RETURNING id) INSERT INTO scan_tokens
    SELECT ... FROM grew RETURNING token_hash`; no row back when the counter did not grow."""
    grew = _COUNTER_GREW.cte("grew")
    values = select(
        # Named b_*: an INSERT would take parameters named like its columns for VALUES.
        *(bindparam(f"b_{name}", type_=_SCAN_TOKENS.c[name].type) for name in _TOKEN_COLUMNS),
        grew.c.id,
    )
    return (
        insert(_SCAN_TOKENS)
        .from_select([*_TOKEN_COLUMNS, "kit_id"], values)
        .add_cte(grew)
        .returning(_SCAN_TOKENS.c.token_hash)
    )


_GRANT_AFTER_GROWTH = Precompiled(_grant_after_growth())


@dataclass(frozen=True)
class NewScanToken:
    """What the write needs: the kit's new counter and the scan token's row."""

    kit_id: str
    counter: int
    token_hash: str
    person_id: int
    presented_by_user_id: int | None
    relation: str | None
    institution_id: int
    terminal_id: str
    created_at: datetime
    expires_at: datetime


def scan(uow: UnitOfWork, *, qr_text: str, terminal_id: str, institution_id: int) -> Scanned:
    """Verify a code in QR.md's order and grant this institution one settlement for 10 minutes.

    Raises QR_MALFORMED, QR_UNSUPPORTED_VERSION, QR_SIGNATURE_INVALID, KIT_EXPIRED,
    QR_NOT_YET_VALID, QR_EXPIRED, NOT_ACTIVATED (no kit behind a genuine handle),
    CREDENTIAL_REVOKED, QR_ALREADY_USED, SERVICE_UNAVAILABLE (the used-code store is down).

    One connection, no session. On PostgreSQL it is in autocommit: two statements, each its own
    transaction, and no BEGIN or COMMIT on the wire (2 round trips): the read, and the write
    once the code is claimed in the store. No transaction is open while the store is called.
    """
    store, clock, keys = uow.store, uow.clock, uow.keys
    now = clock.now()
    ring = keys.ring()
    engine = uow.session.get_bind()
    postgres = uow.is_postgres

    def keys_for(kid: str) -> Sequence[Ed25519PublicKey]:
        if kid == ring.active.kid:  # the common case: no query
            return published_resolver(uow.session, ring, now)(kid)
        with _connect(engine, postgres) as conn, Session(bind=conn) as s:  # an older key
            return published_resolver(s, ring, now)(kid)

    verified = ec1.verify_code(qr_text, keys=keys_for, now=now)
    with _connect(engine, postgres) as conn:
        kit = _KIT_FOR_SCAN.execute(conn, {"b_handle": verified.handle}).first()
        conn.commit()  # reads only (no BEGIN on either database: nothing is held meanwhile)
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

        def write() -> bool:
            done = write_grant(conn, grant, postgres)
            conn.commit()
            return done

        if not retrying(write, conn.rollback):
            raise QrAlreadyUsedError()  # a later code of the same device was accepted meanwhile
    return Scanned(scan_token=token, expires_at=expires_at, person=shown, presented_by=presenter)


def _connect(engine: Engine | Connection, autocommit: bool) -> Connection:
    """A connection of the engine; in autocommit when asked (PostgreSQL), so that each statement
    is its own transaction and no BEGIN or COMMIT crosses the wire."""
    if not isinstance(engine, Engine):
        raise TypeError("the session is bound to an engine")
    conn = engine.connect()
    return conn.execution_options(isolation_level="AUTOCOMMIT") if autocommit else conn


def write_grant(conn: Connection, grant: NewScanToken, one_statement: bool) -> bool:
    """Grow the kit's counter and insert the scan token, or neither: False when the counter had
    already reached this code's. `one_statement` (PostgreSQL) does it in one data-modifying
    statement; else (SQLite has no data-modifying CTE) in two, inside the caller's transaction.
    Both write the same rows (tests/service/test_scan_round_trips.py). Datetimes in UTC."""
    if one_statement:
        params = {
            "b_kit_id": grant.kit_id,
            "b_counter": grant.counter,
            **{f"b_{name}": getattr(grant, name) for name in _TOKEN_COLUMNS},
        }
        return _GRANT_AFTER_GROWTH.execute(conn, params).first() is not None
    grew = conn.execute(_COUNTER_GREW, {"b_kit_id": grant.kit_id, "b_counter": grant.counter})
    if grew.first() is None:
        return False
    conn.execute(
        _NEW_SCAN_TOKEN,
        {
            "kit_id": grant.kit_id,
            **{name: getattr(grant, name) for name in _TOKEN_COLUMNS},
            "used_at": None,
        },
    )
    return True


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
