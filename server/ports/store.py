"""Short-lived shared state: SMS codes, attempt counters, rate limits, used-code records.

This module owns the Protocol (`ShortLivedStore`) and `RoutingStore`, which sends the keys under
DURABLE_PREFIXES to the database and the rest to Redis. Two implementations: `DatabaseStore`
(server/ports/store_database.py, the embedded default, a table) and `RedisStore`
(server/ports/store_redis.py, chosen by REDIS_URL, so that many processes and machines behave as
one); both are re-exported here, where callers import them.

Expiry is logical and follows the app's Clock in both, so a test with a frozen clock sees the
same behaviour on either; Redis' own TTL only collects the garbage.

Both fail closed: when the store cannot answer, the call raises ServiceUnavailableError and the
caller refuses the request; no check is ever skipped.

Rule for callers: never call the store while the request's session holds a write transaction.
On SQLite the store's own connection would wait for that transaction (and the store is "outside
the database" for PostgreSQL + Redis), so locks are never held across it.
"""

from __future__ import annotations

from typing import Protocol

from server.ports.store_database import _KV as _KV
from server.ports.store_database import DatabaseStore
from server.ports.store_redis import EPOCH_BUCKETS, RedisStore, epoch_bucket


class ShortLivedStore(Protocol):
    def incr(self, key: str, ttl_seconds: int) -> int:
        """Add one to a counter and return it; a new (or expired) counter starts at 1 and
        lives `ttl_seconds` from now."""
        ...

    def decr(self, key: str) -> int:
        """Take one back from a live counter (not below 0); 0 when there is none."""
        ...

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Set `key` only if it is absent or expired; True when this call set it (atomic)."""
        ...

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Set `key`, replacing any value, for `ttl_seconds`."""
        ...

    def get(self, key: str) -> str | None:
        """The live value of `key`, or None."""
        ...

    def ttl(self, key: str) -> int | None:
        """Whole seconds until `key` expires (at least 1), or None when it is not live."""
        ...

    def delete(self, *keys: str) -> int:
        """Remove keys; the number of them that were live (so a delete can claim a value once)."""
        ...

    def ping(self) -> None:
        """Raise ServiceUnavailableError when the store cannot answer."""
        ...

    def close(self) -> None:
        """Release the store's own connections (the app is shutting down)."""
        ...


# Security state that must survive a Redis restart (issue 10, finding 3): payment-password locks
# and wrong-entry day counts (server/accounts/passwords.py), revoked sign-ins
# (server/auth/service.py) and revoked terminals (server/institutions/terminals.py). Their
# source of truth is the database; everything else (SMS codes, used-code records, throttles)
# may live in Redis alone.
DURABLE_PREFIXES = ("pw:", "auth:fam-revoked:", "terminal:revoked:")


class RoutingStore:
    """One store in front of two: keys under DURABLE_PREFIXES go to the database, the rest to
    the fast store (Redis). A Redis that restarts empty then forgets no lock and no logout."""

    def __init__(
        self,
        *,
        durable: ShortLivedStore,
        fast: ShortLivedStore,
        durable_prefixes: tuple[str, ...] = DURABLE_PREFIXES,
    ) -> None:
        self.durable = durable
        self.fast = fast
        self._prefixes = durable_prefixes

    def _for(self, key: str) -> ShortLivedStore:
        return self.durable if key.startswith(self._prefixes) else self.fast

    def incr(self, key: str, ttl_seconds: int) -> int:
        return self._for(key).incr(key, ttl_seconds)

    def decr(self, key: str) -> int:
        return self._for(key).decr(key)

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        return self._for(key).add(key, value, ttl_seconds)

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._for(key).put(key, value, ttl_seconds)

    def get(self, key: str) -> str | None:
        return self._for(key).get(key)

    def ttl(self, key: str) -> int | None:
        return self._for(key).ttl(key)

    def delete(self, *keys: str) -> int:
        durable = [k for k in keys if k.startswith(self._prefixes)]
        fast = [k for k in keys if not k.startswith(self._prefixes)]
        return (self.durable.delete(*durable) if durable else 0) + (
            self.fast.delete(*fast) if fast else 0
        )

    def ping(self) -> None:
        self.durable.ping()
        self.fast.ping()

    def close(self) -> None:
        self.fast.close()
        self.durable.close()


__all__ = [
    "DURABLE_PREFIXES",
    "EPOCH_BUCKETS",
    "DatabaseStore",
    "RedisStore",
    "RoutingStore",
    "ShortLivedStore",
    "epoch_bucket",
]
