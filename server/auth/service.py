"""SMS login codes and refresh-token rotation.

Login codes: 6 digits, valid 5 minutes, single use, void after 5 wrong tries; at most one send per
phone per 60 s and 10 per Beijing day (RATE_LIMITED with `retry_after`). Only an HMAC of the code
is kept, so neither the store nor a log line ever holds a live code.

Refresh tokens rotate: each is used once; a used one presented again means it was stolen, and the
whole family (one sign-in) is revoked, its access tokens with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.clock import beijing_date, beijing_midnight_after
from server.db.models import RefreshToken, User
from server.errors import RateLimitedError, SmsCodeInvalidError, TokenRevokedError
from server.ports.store import ShortLivedStore
from server.roster.rules import is_valid_phone
from server.uow import UnitOfWork

CODE_TTL_SECONDS = 300
MAX_WRONG_TRIES = 5
RESEND_SECONDS = 60
MAX_SENDS_PER_DAY = 10


def _digest(pepper: bytes, phone: str, code: str) -> str:
    return hmac.new(pepper, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_login_code(uow: UnitOfWork, *, phone: str) -> None:
    """Text a new login code to `phone`, replacing any earlier one."""
    store, pepper, now = uow.store, uow.settings.password_pepper, uow.clock.now()
    if store.incr(f"sms:minute:{phone}", RESEND_SECONDS) > 1:
        raise RateLimitedError(
            "Wait a minute before asking for another code",
            retry_after=store.ttl(f"sms:minute:{phone}") or RESEND_SECONDS,
        )
    day_left = int((beijing_midnight_after(now) - now).total_seconds()) + 1
    if store.incr(f"sms:day:{phone}:{beijing_date(now):%Y%m%d}", day_left) > MAX_SENDS_PER_DAY:
        raise RateLimitedError("No more codes today", retry_after=day_left)
    code = f"{secrets.randbelow(1_000_000):06d}"
    nonce = secrets.token_hex(8)
    store.put(f"sms:code:{phone}", f"{nonce}:{_digest(pepper, phone, code)}", CODE_TTL_SECONDS)
    uow.sms.send(phone, "login", code)


def verify_login_code(uow: UnitOfWork, *, phone: str, code: str) -> None:
    """Accept the live code once; SmsCodeInvalidError for a wrong, used, void or expired one."""
    store, pepper = uow.store, uow.settings.password_pepper
    if not is_valid_phone(phone) or len(code) != 6 or not code.isdigit():
        raise SmsCodeInvalidError()
    code_key = f"sms:code:{phone}"
    stored = store.get(code_key)
    if stored is None:
        raise SmsCodeInvalidError()
    nonce, _, digest = stored.partition(":")
    tries_key = f"sms:tries:{nonce}"
    # Reserve a try before comparing, so parallel guesses cannot exceed the limit.
    if store.incr(tries_key, CODE_TTL_SECONDS) > MAX_WRONG_TRIES:
        store.delete(code_key)
        raise SmsCodeInvalidError("Too many wrong codes; ask for a new one")
    if not hmac.compare_digest(digest, _digest(pepper, phone, code)):
        raise SmsCodeInvalidError(
            attempts_left=max(0, MAX_WRONG_TRIES - int(store.get(tries_key) or 0))
        )
    # Single use: of two requests with the right code, only the one that deletes it signs in.
    if store.delete(code_key) != 1:
        raise SmsCodeInvalidError()


def user_for_phone(session: Session, phone: str, *, now: datetime) -> User:
    """The app user of this phone, created on first sign-in."""
    with session.begin():
        user = session.scalar(select(User).where(User.phone == phone))
        if user is None:
            user = User(phone=phone, created_at=now)
            session.add(user)
            session.flush()
        return user


def start_family(session: Session, *, user_id: int, jti: str, expires_at: datetime) -> str:
    """Record the first refresh token of a new sign-in; returns the family id."""
    family_id = str(uuid.uuid4())
    with session.begin():
        session.add(
            RefreshToken(jti=jti, family_id=family_id, user_id=user_id, expires_at=expires_at)
        )
    return family_id


@dataclass(frozen=True)
class SignIn:
    user_id: int
    family_id: str


def sign_in(uow: UnitOfWork, *, phone: str, code: str, jti: str) -> SignIn:
    """Check the SMS code, find or make the phone's user and start a sign-in (refresh family)."""
    verify_login_code(uow, phone=phone, code=code)
    now = uow.clock.now()
    user = user_for_phone(uow.session, phone, now=now)
    family = start_family(
        uow.session,
        user_id=user.id,
        jti=jti,
        expires_at=now + timedelta(seconds=uow.settings.refresh_token_seconds),
    )
    return SignIn(user.id, family)


def refresh(uow: UnitOfWork, *, jti: str, family_id: str | None, new_jti: str) -> SignIn:
    """Use up refresh token `jti` for `new_jti`; a replayed or dead one ends its whole sign-in.

    TokenRevokedError for a used, revoked or expired token; its family's access tokens stop
    working at once (the short-lived store's mark), not only at their expiry.
    """
    lifetime = uow.settings.refresh_token_seconds
    try:
        user_id, family = rotate(
            uow.session, jti=jti, new_jti=new_jti, now=uow.clock.now(), lifetime_seconds=lifetime
        )
    except TokenRevokedError:
        if family_id:
            mark_family_revoked(uow.store, family_id, lifetime)
        raise
    return SignIn(user_id, family)


def log_out(uow: UnitOfWork, *, family_id: str) -> None:
    """End one sign-in: its refresh tokens are revoked and its access tokens refused."""
    revoke_family(uow.session, family_id=family_id, now=uow.clock.now())
    mark_family_revoked(uow.store, family_id, uow.settings.refresh_token_seconds)


def family_key(family_id: str) -> str:
    return f"auth:fam-revoked:{family_id}"


def mark_family_revoked(store: ShortLivedStore, family_id: str, lifetime_seconds: int) -> None:
    store.put(family_key(family_id), "1", lifetime_seconds)


def rotate(
    session: Session, *, jti: str, new_jti: str, now: datetime, lifetime_seconds: int
) -> tuple[int, str]:
    """Use up refresh token `jti` and record `new_jti` in its family; returns (user, family).

    A token used before is a replay: its family is revoked and TokenRevokedError raised.
    """
    with session.begin():
        token = session.scalar(
            select(RefreshToken).where(RefreshToken.jti == jti).with_for_update()
        )
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise TokenRevokedError()
        if token.used_at is not None:
            _revoke_family(session, token.family_id, now)
            replay = True
        else:
            replay = False
            token.used_at = now
            session.add(
                RefreshToken(
                    jti=new_jti,
                    family_id=token.family_id,
                    user_id=token.user_id,
                    expires_at=now + timedelta(seconds=lifetime_seconds),
                )
            )
        user_id, family_id = token.user_id, token.family_id
    if replay:
        raise TokenRevokedError("This refresh token was used before; sign in again")
    return user_id, family_id


def _revoke_family(session: Session, family_id: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_family(session: Session, *, family_id: str, now: datetime) -> None:
    with session.begin():
        _revoke_family(session, family_id, now)


def is_family_revoked(session: Session, family_id: str) -> bool:
    with session.begin():
        return (
            session.scalar(
                select(RefreshToken.jti)
                .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
                .limit(1)
            )
            is not None
        )
