"""The short-lived store in Redis (REDIS_URL): every operation is one atomic Lua script.

`RedisStore` implements server/ports/store.py's `ShortLivedStore` with the scripts below (each
entry a hash of value, counter and logical expiry that follows the app's Clock; Redis' own TTL
only collects the garbage), and keeps the store's epoch markers, per bucket in cluster mode
(`EPOCH_BUCKETS`, `epoch_bucket`), so that a Redis that restarts empty is noticed. It fails
closed: a Redis error or timeout raises ServiceUnavailableError.
"""

from __future__ import annotations

import math
import os
import threading
import zlib
from typing import Any

from server.clock import Clock, epoch_ms
from server.errors import ServiceUnavailableError

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
        self._own = threading.local()  # this thread's client (`_thread_client`)
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

    def _thread_client(self) -> Any:
        """The client this thread's commands go through: outside cluster mode, a client that
        keeps one connection of the shared pool for this thread (made at its first command, made
        anew in a forked child). A command through the pool checks a connection out and back in
        each time (a process-id check, a poll that the connection holds no stray data, which sets
        the socket's timeout twice, and the client's metrics hooks): about 30 % of the CPU of a
        scan's used-code claim (issue 14). Each thread runs one command at a time, so nothing
        changes for a caller: the same timeouts, the same reconnection after an error. A thread
        that ends hands its connection back to the pool; `close` disconnects them all."""
        client = self._connect()
        if self._cluster:
            return client  # RedisCluster keeps its own connections per node
        own = self._own
        if getattr(own, "pid", None) != os.getpid():
            import redis

            own.client = redis.Redis(
                connection_pool=client.connection_pool, single_connection_client=True
            )
            own.pid = os.getpid()
        return own.client

    def _tag(self, key: str) -> str:
        return f"{self._prefix}{{b{epoch_bucket(key)}}}:" if self._cluster else self._prefix

    def _k(self, key: str) -> str:
        return self._tag(key) + key

    def _now_ms(self) -> int:
        return epoch_ms(self._clock.now())

    def _call(self, script: str, keys: list[str], args: list[object]) -> Any:
        try:
            client = self._thread_client()
            return self._scripts[script](keys=keys, args=args, client=client)
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
            v, n, e = self._thread_client().hmget(self._k(key), ["v", "n", "e"])
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
