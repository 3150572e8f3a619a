"""Locks, wrong-entry counts and revocations outlive a Redis that restarts empty.

Issue 10, finding 3: after Redis restarted empty, a locked account's right password was accepted,
five more guesses were checked the same day, and a logged-out access token worked again.
"""

from __future__ import annotations

import pytest

from server.accounts.passwords import check_payment_password, locked_until
from server.auth.service import family_key, mark_family_revoked
from server.errors import PasswordLockedError, PaymentPasswordInvalidError
from server.ports.store import DURABLE_PREFIXES, DatabaseStore, RoutingStore
from tests.conftest import REDIS_URL


class EmptiedStore(DatabaseStore):
    """A fast store that can lose everything at once, as a restarted Redis does."""

    def restart_empty(self) -> None:
        from sqlalchemy import delete

        from server.ports.store import _KV

        with self._engine.begin() as conn:
            # the table is shared with the durable half here: keep its keys
            kept = [_KV.c.key.not_like(prefix + "%") for prefix in DURABLE_PREFIXES]
            conn.execute(delete(_KV).where(*kept))


def stores(app):
    w = app.extensions["wiring"]
    if REDIS_URL:
        assert isinstance(w.store, RoutingStore)
        return w.store, _flush_redis
    fast = EmptiedStore(w.db.engine, w.clock)
    # the durable half sees only its keys: a second table would be the same on SQLite
    return RoutingStore(durable=DatabaseStore(w.db.engine, w.clock), fast=fast), fast.restart_empty


def _flush_redis() -> None:
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()


def test_a_lock_and_the_days_count_survive_an_emptied_fast_store(app):
    w = app.extensions["wiring"]
    store, restart_empty = stores(app)
    right = w.hasher.hash("135790")

    def check(password: str) -> None:
        check_payment_password(
            store=store,
            hasher=w.hasher,
            clock=w.clock,
            account_id=7,
            password_hash=right,
            password=password,
        )

    for _ in range(4):
        with pytest.raises(PaymentPasswordInvalidError):
            check("000000")
    restart_empty()
    with pytest.raises(PasswordLockedError):  # the fifth of the day, not the first
        check("000000")
    restart_empty()
    assert locked_until(store, 7) is not None
    with pytest.raises(PasswordLockedError):  # the right password is still refused
        check("135790")


def test_a_logout_survives_an_emptied_fast_store(app):
    store, restart_empty = stores(app)
    mark_family_revoked(store, "fam-1", 3600)
    restart_empty()
    assert store.get(family_key("fam-1")) is not None


@pytest.mark.redis
def test_with_redis_the_app_keeps_security_state_in_the_database(app):
    store = app.extensions["wiring"].store
    assert isinstance(store, RoutingStore)
    assert isinstance(store.durable, DatabaseStore)


def test_a_terminal_revocation_survives_an_emptied_fast_store(app):
    """A revoked terminal's live tokens stay refused on every route (settlement, refund,
    reconciliation) after Redis comes back empty; /scan also reads revoked_at itself."""
    from server.institutions.terminals import is_marked_revoked, revoked_key

    store, restart_empty = stores(app)
    store.put(revoked_key("t-1"), "1", 1200)
    restart_empty()
    assert is_marked_revoked(store, "t-1")
    assert not is_marked_revoked(store, "t-2")
