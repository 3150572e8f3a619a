"""Gateway access keys of the HIS interface: issue (and rotate), and find for verification.

The secret is shown once. It cannot be hashed, since verifying Base64(HmacSHA1(secret, s)) needs
the secret itself, so it is encrypted at rest with Fernet under a key derived from the app's
PASSWORD_PEPPER (HKDF-SHA256, its own `info`): whoever reads the table without the pepper cannot
sign. Issuing again rotates: the previous secret keeps working for ROTATION_GRACE_SECONDS.
docs/his-interface.md, "Authentication".
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import record
from server.db.models import Institution
from server.errors import NotFoundError
from server.his.signature import HisKey as WireKey
from server.hospital.models import HisKey
from server.uow import UnitOfWork

ROTATION_GRACE_SECONDS = 24 * 3600


def _fernet(pepper: bytes) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"his-gateway-secret-v1"
    ).derive(pepper)
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class IssuedKey:
    access_key: str
    secret: str
    fixmedins_code: str


def issue_key(uow: UnitOfWork, *, institution_code: str, actor: str) -> IssuedKey:
    """Issue the institution's access key and a new secret (shown once); again = rotate.

    Raises NOT_FOUND for an unknown institution.
    """
    session, now = uow.session, uow.clock.now()
    fernet = _fernet(uow.settings.password_pepper)
    secret = secrets.token_urlsafe(32)
    sealed = fernet.encrypt(secret.encode()).decode()
    with session.begin():
        institution = session.scalar(
            select(Institution).where(Institution.code == institution_code)
        )
        if institution is None:
            raise NotFoundError("No institution with this code")
        key = session.get(HisKey, institution.id, with_for_update=True)
        if key is None:
            key = HisKey(
                institution_id=institution.id,
                access_key=f"ak-{institution.code}-{secrets.token_hex(4)}",
                secret_encrypted=sealed,
                issued_at=now,
            )
            session.add(key)
        else:
            key.previous_secret_encrypted = key.secret_encrypted
            key.previous_until = now + timedelta(seconds=ROTATION_GRACE_SECONDS)
            key.secret_encrypted = sealed
            key.issued_at = now
        record(
            session,
            at=now,
            actor=actor,
            action="his_key.issued",
            subject=institution.code,
            access_key=key.access_key,
        )
        access_key = key.access_key
    return IssuedKey(access_key=access_key, secret=secret, fixmedins_code=institution_code)


def key_for(session: Session, *, pepper: bytes, access_key: str, now: datetime) -> WireKey | None:
    """The key's institution and its current secrets (newest first); call inside a transaction."""
    row = session.execute(
        select(HisKey, Institution.code)
        .join(Institution, Institution.id == HisKey.institution_id)
        .where(HisKey.access_key == access_key)
    ).first()
    if row is None:
        return None
    key, code = row
    fernet = _fernet(pepper)
    sealed = [key.secret_encrypted]
    if key.previous_secret_encrypted and key.previous_until and key.previous_until > now:
        sealed.append(key.previous_secret_encrypted)
    return WireKey(
        access_key=key.access_key,
        fixmedins_code=code,
        secrets=tuple(fernet.decrypt(s.encode()).decode() for s in sealed),
    )
