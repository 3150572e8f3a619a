"""Payment passwords: how they are stored, and the day's wrong-entry count with its 24-hour lock.

DOMAIN.md "Payment password": 6 digits; wrong entries on one Beijing calendar day add up, and
the fifth locks verification for 24 hours; a reset at the counter lifts the lock.

Storage: argon2id over HMAC-SHA256(pepper, password). A 6-digit secret has only a million values,
so the slow hash alone would not protect it from someone holding the table; the pepper (kept in
config, not in the database) does. The check costs 20-50 ms at production settings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from server.clock import Clock, beijing_date, beijing_midnight_after, epoch_ms, iso
from server.errors import PasswordLockedError, PaymentPasswordInvalidError
from server.ports.store import ShortLivedStore

MAX_WRONG_PER_DAY = 5
LOCK_SECONDS = 24 * 3600


class PasswordHasher:
    """argon2id of a peppered password; `verify` takes about as long for a missing hash."""

    def __init__(self, pepper: bytes, *, time_cost: int, memory_kib: int) -> None:
        self._pepper = pepper
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._dummy = self._argon2.hash(secrets.token_hex(8))

    def _peppered(self, password: str) -> str:
        return hmac.new(self._pepper, password.encode(), hashlib.sha256).hexdigest()

    def hash(self, password: str) -> str:
        return self._argon2.hash(self._peppered(password))

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(stored or self._dummy, self._peppered(password)) and (
                stored is not None
            )
        except (VerificationError, InvalidHashError):
            return False


def new_initial_password() -> str:
    """A random 6-digit initial payment password (sent by SMS, never stored in clear)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def _lock_key(account_id: int) -> str:
    return f"pw:lock:{account_id}"


def _day_key(account_id: int, at: datetime) -> str:
    return f"pw:wrong:{account_id}:{beijing_date(at):%Y%m%d}"


def locked_until(store: ShortLivedStore, account_id: int) -> datetime | None:
    """When the account's password lock ends, or None when it is not locked."""
    value = store.get(_lock_key(account_id))
    if value is None:
        return None
    from datetime import UTC

    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def check_payment_password(
    *,
    store: ShortLivedStore,
    hasher: PasswordHasher,
    clock: Clock,
    account_id: int,
    password_hash: str | None,
    password: str,
) -> None:
    """Accept the right password; count a wrong one. Call it outside any DB transaction.

    Raises PasswordLockedError (details `locked_until`) while locked and on the fifth wrong entry
    of a Beijing day, PaymentPasswordInvalidError (details `attempts_left`) otherwise.

    An attempt is reserved (counted) before the hash is checked and handed back when the password
    was right, so parallel wrong entries can never get a sixth check through.
    """
    now = clock.now()
    until = locked_until(store, account_id)
    if until is not None:
        raise PasswordLockedError(locked_until=iso(until))

    day_key = _day_key(account_id, now)
    seconds_left_today = int((beijing_midnight_after(now) - now).total_seconds()) + 1
    n = store.incr(day_key, seconds_left_today)
    if n > MAX_WRONG_PER_DAY:
        store.decr(day_key)
        until = locked_until(store, account_id) or now + timedelta(seconds=LOCK_SECONDS)
        raise PasswordLockedError(locked_until=iso(until), attempts_left=0)

    if hasher.verify(password_hash, password):
        store.decr(day_key)
        return

    if n >= MAX_WRONG_PER_DAY:
        until = now + timedelta(seconds=LOCK_SECONDS)
        store.put(_lock_key(account_id), str(epoch_ms(until)), LOCK_SECONDS)
        raise PasswordLockedError(locked_until=iso(until), attempts_left=0)
    raise PaymentPasswordInvalidError(attempts_left=MAX_WRONG_PER_DAY - n)


def lift_lock(store: ShortLivedStore, account_id: int, clock: Clock) -> None:
    """End a lock and forget the day's wrong entries (a reset at the counter)."""
    store.delete(_lock_key(account_id), _day_key(account_id, clock.now()))
