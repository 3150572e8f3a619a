"""The payment-password counter under parallel attempts. DOMAIN.md: Payment password (lockout)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.accounts.passwords import PasswordHasher, check_payment_password
from server.errors import PasswordLockedError, PaymentPasswordInvalidError


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(b"pepper", time_cost=1, memory_kib=1024)
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, stored, password):
        with self._lock:
            self.checks += 1
        return super().verify(stored, password)


def _attempt(store, hasher, clock, stored, password):
    try:
        check_payment_password(
            store=store,
            hasher=hasher,
            clock=clock,
            account_id=7,
            password_hash=stored,
            password=password,
        )
        return "ok"
    except PaymentPasswordInvalidError:
        return "invalid"
    except PasswordLockedError:
        return "locked"


@pytest.mark.postgres
def test_fifty_parallel_wrong_entries_lock_at_exactly_five(app, clock):
    store = app.extensions["wiring"].store  # the database store on PostgreSQL, or Redis
    hasher = CountingHasher()
    stored = hasher.hash("246810")
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(lambda _: _attempt(store, hasher, clock, stored, "111111"), range(50))
        )
    assert hasher.checks == 5
    assert results.count("invalid") == 4
    assert results.count("locked") == 46
    assert _attempt(store, hasher, clock, stored, "246810") == "locked"


def test_a_right_password_does_not_use_up_an_attempt(app, clock):
    store = app.extensions["wiring"].store
    hasher = CountingHasher()
    stored = hasher.hash("246810")
    for _ in range(10):
        assert _attempt(store, hasher, clock, stored, "246810") == "ok"
    results = [_attempt(store, hasher, clock, stored, "111111") for _ in range(5)]
    assert results == ["invalid"] * 4 + ["locked"]
