"""Short-lived shared state: SMS codes, attempt counters, rate limits, used-code records.

Two implementations behind one Protocol: `DatabaseStore` (the embedded default, a table) and
`RedisStore` (chosen by REDIS_URL, so that many processes and machines behave as one).

Expiry is logical and follows the app's Clock in both, so a test with a frozen clock sees the
same behaviour on either; Redis' own TTL only collects the garbage.

Both fail closed: when the store cannot answer, the call raises ServiceUnavailableError and the
caller refuses the request; no check is ever skipped.

Rule for callers: never call the store while the request's session holds a write transaction.
On SQLite the store's own connection would wait for that transaction (and the store is "outside
the database" for PostgreSQL + Redis), so locks are never held across it.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, Protocol

from sqlalchemy import BindParameter, Engine, Table, bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError

from server.clock import Clock, epoch_ms
from server.db.dialect import insert_for
from server.db.models import KvEntry
from server.errors import ServiceUnavailableError

_KV: Table = KvEntry.__table__  # type: ignore[assignment]


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


class DatabaseStore:
    """The store as a table, in short transactions of its own (never the request's)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._insert: Any = insert_for(engine)
        # Built once: the used-code record is written on every scan.
        self._set_statements = {
            absent: self._set_statement(only_if_absent=absent) for absent in (True, False)
        }

    def _set_statement(self, *, only_if_absent: bool) -> Any:
        value: BindParameter[str] = bindparam("b_value")
        expires: BindParameter[int] = bindparam("b_expires_at_ms")
        base = self._insert(_KV).values(
            key=bindparam("b_key"), value=value, counter=0, expires_at_ms=expires
        )
        # With only_if_absent, the WHERE makes the upsert a no-op for a live key (atomic SET NX).
        return base.on_conflict_do_update(
            index_elements=[_KV.c.key],
            set_={"value": value, "counter": 0, "expires_at_ms": expires},
            where=(_KV.c.expires_at_ms <= bindparam("b_now")) if only_if_absent else None,
        ).returning(_KV.c.key)

    def _now_ms(self) -> int:
        return epoch_ms(self._clock.now())

    def incr(self, key: str, ttl_seconds: int) -> int:
        now = self._now_ms()
        table = _KV
        base = self._insert(table).values(
            key=key, value=None, counter=1, expires_at_ms=now + ttl_seconds * 1000
        )
        live = table.c.expires_at_ms > now
        stmt = base.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "counter": _case(live, table.c.counter + 1, 1),
                "expires_at_ms": _case(live, table.c.expires_at_ms, now + ttl_seconds * 1000),
            },
        ).returning(table.c.counter)
        try:
            with self._engine.begin() as conn:
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc

    def decr(self, key: str) -> int:
        now = self._now_ms()
        table = _KV
        try:
            with self._engine.begin() as conn:
                row = conn.execute(
                    table.update()
                    .where(table.c.key == key, table.c.expires_at_ms > now, table.c.counter > 0)
                    .values(counter=table.c.counter - 1)
                    .returning(table.c.counter)
                ).first()
                return int(row[0]) if row else 0
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc

    def _set(self, key: str, value: str, ttl_seconds: int, *, only_if_absent: bool) -> bool:
        now = self._now_ms()
        params = {
            "b_key": key,
            "b_value": value,
            "b_expires_at_ms": now + ttl_seconds * 1000,
            "b_now": now,
        }
        if not only_if_absent:
            del params["b_now"]
        try:
            with self._engine.begin() as conn:
                return (
                    conn.execute(self._set_statements[only_if_absent], params).first() is not None
                )
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        return self._set(key, value, ttl_seconds, only_if_absent=True)

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._set(key, value, ttl_seconds, only_if_absent=False)

    def _live(self, key: str) -> KvEntry | None:
        try:
            with self._engine.connect() as conn:
                row = conn.execute(
                    select(_KV).where(
                        _KV.c.key == key,
                        _KV.c.expires_at_ms > self._now_ms(),
                    )
                ).first()
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc
        if row is None:
            return None
        return KvEntry(
            key=row.key, value=row.value, counter=row.counter, expires_at_ms=row.expires_at_ms
        )

    def get(self, key: str) -> str | None:
        entry = self._live(key)
        if entry is None:
            return None
        return entry.value if entry.value is not None else str(entry.counter)

    def ttl(self, key: str) -> int | None:
        entry = self._live(key)
        if entry is None:
            return None
        return max(1, math.ceil((entry.expires_at_ms - self._now_ms()) / 1000))

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        now = self._now_ms()
        table = _KV
        try:
            with self._engine.begin() as conn:
                live = conn.execute(
                    delete(table)
                    .where(table.c.key.in_(keys), table.c.expires_at_ms > now)
                    .returning(table.c.key)
                ).all()
                conn.execute(delete(table).where(table.c.key.in_(keys)))
                return len(live)
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc

    def purge_expired(self) -> int:
        """Delete expired rows (run by `flask purge`; expired rows are ignored anyway)."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(_KV).where(_KV.c.expires_at_ms <= self._now_ms()))
            return int(result.rowcount or 0)

    def ping(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise ServiceUnavailableError() from exc

    def close(self) -> None:
        """Nothing of its own: the engine belongs to the app's Database."""


def _case(cond: object, then: object, otherwise: object) -> object:
    from sqlalchemy import case

    return case((cond, then), else_=otherwise)  # type: ignore[arg-type]


# Each entry is a hash {v: value, n: counter, e: logical expiry in ms}. The scripts make every
# read-modify-write atomic in Redis; the physical PEXPIRE only reclaims memory.
_INCR = """
local e = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
local now = tonumber(ARGV[1])
if e > now then
  return redis.call('HINCRBY', KEYS[1], 'n', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'n', 1, 'e', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
return 1
"""
_DECR = """
local e = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if e <= tonumber(ARGV[1]) then return 0 end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n <= 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'n', -1)
"""
_ADD = """
local e = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
local now = tonumber(ARGV[1])
if e > now then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'n', 0, 'e', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
return 1
"""
_PUT = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'n', 0, 'e', tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
return 1
"""
_DELETE = """
local live = 0
for i, k in ipairs(KEYS) do
  local e = tonumber(redis.call('HGET', k, 'e') or '0')
  if e > tonumber(ARGV[1]) then live = live + 1 end
  redis.call('DEL', k)
end
return live
"""


# In a Redis Cluster every key of the store carries a hash tag naming one of EPOCH_BUCKETS
# buckets, `ec:{b17}:sms:code:...`, and the bucket's epoch marker `ec:{b17}:store:epoch` carries
# the same tag: it lives in the key's hash slot, on the node that owns the key, and moves with the
# slot when the cluster is resharded. A master that restarts empty loses its buckets' markers with
# their used-code records, and only those buckets start a new epoch.
EPOCH_BUCKETS = 1024

_EPOCH = """
local created = 0
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then created = 1 end
return {tonumber(redis.call('GET', KEYS[1])), created}
"""


def epoch_bucket(key: str) -> int:
    """The bucket of a store key (cluster mode): a stable hash, the same in every process."""
    return zlib.crc32(key.encode()) % EPOCH_BUCKETS


class RedisStore:
    """The store in Redis; every operation is one atomic script.

    With `cluster=True` the client is redis-py's RedisCluster (REDIS_CLUSTER=1): each key is
    hash-tagged with its epoch bucket, so a script's keys (the one key, or a delete's keys of one
    bucket) always share a hash slot, and the epoch marker is per bucket on the key's own node.
    """

    def __init__(
        self,
        url: str,
        clock: Clock,
        prefix: str = "ec:",
        timeout_seconds: float = 0.5,
        *,
        cluster: bool = False,
    ) -> None:
        import redis

        self._url = url
        self._timeout = timeout_seconds
        self._cluster = cluster
        self._errors: tuple[type[BaseException], ...] = (
            redis.RedisError,
            OSError,
            redis.exceptions.RedisClusterException,
        )
        self._clock = clock
        self._prefix = prefix
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._buckets_stamped = False
        if not cluster:
            self._connect()  # lazy by nature: the first command opens the connection

    def _connect(self) -> Any:
        """The client (made on first use in cluster mode: RedisCluster asks the nodes for the slot
        map when it is made, and a cluster that is down must fail requests closed, not the start).
        """
        if self._client is not None:
            return self._client
        import redis
        from redis.backoff import NoBackoff
        from redis.cluster import RedisCluster

        # A frozen Redis refuses each request within `timeout_seconds` (issue 10, finding 4);
        # every call here is one short script, far under it.
        timeouts = {"socket_timeout": self._timeout, "socket_connect_timeout": self._timeout}
        client: Any
        if self._cluster:
            try:
                client = RedisCluster.from_url(
                    self._url, retry=redis.retry.Retry(NoBackoff(), 1), **timeouts
                )
            except self._errors as exc:
                raise ServiceUnavailableError() from exc
        else:
            client = redis.Redis.from_url(self._url, **timeouts)
        self._scripts = {
            name: client.register_script(body)
            for name, body in (
                ("incr", _INCR),
                ("decr", _DECR),
                ("add", _ADD),
                ("put", _PUT),
                ("delete", _DELETE),
                ("epoch", _EPOCH),
            )
        }
        self._client = client
        return client

    def _tag(self, key: str) -> str:
        return f"{self._prefix}{{b{epoch_bucket(key)}}}:" if self._cluster else self._prefix

    def _k(self, key: str) -> str:
        return self._tag(key) + key

    def _now_ms(self) -> int:
        return epoch_ms(self._clock.now())

    def _call(self, script: str, keys: list[str], args: list[object]) -> Any:
        try:
            self._connect()
            return self._scripts[script](keys=keys, args=args)
        except self._errors as exc:
            raise ServiceUnavailableError() from exc

    def incr(self, key: str, ttl_seconds: int) -> int:
        return int(self._call("incr", [self._k(key)], [self._now_ms(), ttl_seconds * 1000]))

    def decr(self, key: str) -> int:
        return int(self._call("decr", [self._k(key)], [self._now_ms()]))

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        return bool(self._call("add", [self._k(key)], [self._now_ms(), ttl_seconds * 1000, value]))

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._call("put", [self._k(key)], [self._now_ms(), ttl_seconds * 1000, value])

    def _fields(self, key: str) -> tuple[str | None, int, int] | None:
        try:
            v, n, e = self._connect().hmget(self._k(key), ["v", "n", "e"])
        except self._errors as exc:
            raise ServiceUnavailableError() from exc
        if e is None or int(e) <= self._now_ms():
            return None
        value = v.decode() if isinstance(v, bytes) else v
        return (value, int(n or 0), int(e))

    def get(self, key: str) -> str | None:
        fields = self._fields(key)
        if fields is None:
            return None
        value, counter, _ = fields
        return value if value is not None else str(counter)

    def ttl(self, key: str) -> int | None:
        fields = self._fields(key)
        if fields is None:
            return None
        return max(1, math.ceil((fields[2] - self._now_ms()) / 1000))

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        now = self._now_ms()
        if not self._cluster:
            return int(self._call("delete", [self._k(k) for k in keys], [now]))
        # One script per bucket (one hash slot each): each key is still claimed atomically.
        by_tag: dict[str, list[str]] = {}
        for k in keys:
            by_tag.setdefault(self._tag(k), []).append(self._k(k))
        return sum(int(self._call("delete", group, [now])) for group in by_tag.values())

    def _marker(self, key: str | None) -> str:
        return (self._tag(key) if key is not None else self._tag("")) + "store:epoch"

    def _stamp_buckets(self, now: int) -> None:
        """Give every bucket that has no marker one (SET NX, pipelined by node): done once per
        process and again whenever a marker was missing, so a master that restarted empty gets
        all its buckets' markers at the first sign of it, not one bucket at a time."""
        try:
            pipe = self._connect().pipeline(transaction=False)
            for bucket in range(EPOCH_BUCKETS):
                pipe.set(f"{self._prefix}{{b{bucket}}}:store:epoch", now, nx=True)
            pipe.execute()
        except self._errors as exc:
            raise ServiceUnavailableError() from exc
        self._buckets_stamped = True

    def started_at_ms(self, key: str | None = None) -> int:
        """When the memory that holds `key` began: its epoch marker, made now when missing.

        A Redis that restarts empty has lost its used-code records; the marker it then gets is
        newer than every code issued before, so `accepts_code_issued_at` refuses those (codes
        live 60 s), and no code can be accepted twice across the restart. On a cluster the
        marker is the key's bucket's (`key` given; without it, bucket of the empty key), kept in
        the key's hash slot: only the slots of a master that restarted empty start anew.
        """
        now = self._now_ms()
        if self._cluster and not self._buckets_stamped:
            self._stamp_buckets(now)
        value, created = self._call("epoch", [self._marker(key)], [now])
        if created and self._cluster:
            self._stamp_buckets(now)
        return int(value)

    def accepts_code_issued_at(self, issued_at_ms: int, key: str | None = None) -> bool:
        """False for a code issued before the memory holding `key` began (fail closed)."""
        return issued_at_ms >= self.started_at_ms(key)

    def ping(self) -> None:
        try:
            self._connect().ping()
        except self._errors as exc:
            raise ServiceUnavailableError() from exc

    def close(self) -> None:
        if self._client is None:
            return
        self._client.close()
        if not self._cluster:
            self._client.connection_pool.disconnect()


# Security state that must survive a Redis restart (issue 10, finding 3): payment-password locks
# and wrong-entry day counts (server/accounts/passwords.py) and revoked sign-ins
# (server/auth/service.py). Their source of truth is the database; everything else (SMS codes,
# used-code records, throttles) may live in Redis alone.
DURABLE_PREFIXES = ("pw:", "auth:fam-revoked:")


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
