"""The short-lived store in a table (`kv_entry`): the embedded default, and the durable half.

`DatabaseStore` implements server/ports/store.py's `ShortLivedStore` on its own engine, with
logical expiry that follows the app's Clock; it is what runs without REDIS_URL, and the
`RoutingStore`'s durable store for the security state under DURABLE_PREFIXES. It fails closed:
a database error raises ServiceUnavailableError.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import BindParameter, Engine, Table, bindparam, delete, select
from sqlalchemy.exc import SQLAlchemyError

from server.clock import Clock, epoch_ms
from server.db.dialect import insert_for
from server.db.models import KvEntry
from server.errors import ServiceUnavailableError

_KV: Table = KvEntry.__table__  # type: ignore[assignment]


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
