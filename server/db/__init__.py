"""Engine and session factory. One engine per app.

Services own their transactions through the unit of work (server/uow.py); nothing here commits
for them. The request's session lives in server/web/context.py, the retry in transaction.py.

DOMAIN.md: none: storage.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

# Fast honest failure (issue 10, finding 4; docs/operations.md "Timeouts"): a request waits at
# most this long for a connection, a statement or a row lock, then answers 503 (nothing done).
CONNECT_TIMEOUT_SECONDS = 2
STATEMENT_TIMEOUT_MS = 5000
LOCK_TIMEOUT_MS = 2000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 10000
POOL_TIMEOUT_SECONDS = 1
POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "options": (
        f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} "
        f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}"
    ),
    # A peer that stops acknowledging (a dead host) fails the socket instead of hanging it.
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
}


class FailFastQueuePool(QueuePool):
    """A QueuePool that stops queueing while the database holds every connection.

    A checkout that waited the whole pool timeout found every connection stuck (a frozen
    PostgreSQL, or an overload far past what the pool serves). Until a connection comes back, a
    checkout that finds none free is refused at once (the same TimeoutError, so the same 503)
    instead of holding its thread for another pool timeout. Without this, requests queued behind
    each other in a gthread worker each waited their two seconds in turn, and /healthz, queued
    behind them, waited 3.9 s with PostgreSQL frozen (`make faults`, docs/operations.md).
    """

    _saturated = False  # set by a checkout that timed out, cleared by any connection returned

    def _do_get(self) -> ConnectionPoolEntry:
        if self._saturated and self._pool.empty() and self._overflow >= self._max_overflow > -1:
            raise sa_exc.TimeoutError(
                "every database connection has been busy past the pool timeout; "
                "refused at once until one comes back"
            )
        try:
            return super()._do_get()
        except sa_exc.TimeoutError:
            self._saturated = True
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        self._saturated = False
        super()._do_return_conn(record)


def make_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        in_memory = "mode=memory" in url or url.endswith(":memory:")
        engine = create_engine(
            url,
            hide_parameters=True,  # an error's log line never carries a name or an ID number
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 10},
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    # No pool_pre_ping: it costs a round trip on every checkout (several per request). A connection
    # that a database restart left dead fails once with OperationalError, which answers 503
    # (server/errors.py) and is dropped from the pool; clients retry (settlement is idempotent).
    return create_engine(
        url,
        hide_parameters=True,
        # With `pool_size` (DB_POOL_SIZE; gunicorn.conf.py sets it to the worker's threads minus
        # two) the pool never grows past it: when PostgreSQL freezes, the requests stuck inside a
        # statement can hold only that many threads, and the rest keep answering (503 after the
        # pool timeout, /healthz at once) instead of every thread waiting out the freeze.
        poolclass=FailFastQueuePool,
        pool_size=pool_size or 10,
        max_overflow=0 if pool_size else 20,
        pool_recycle=1800,
        pool_timeout=POOL_TIMEOUT_SECONDS,  # every connection busy: 503 after 1 s, not a queue
        connect_args=postgres_connect_args(url),
    )


def postgres_connect_args(url: str) -> dict[str, Any]:
    """POSTGRES_CONNECT_ARGS, keeping the URL's own `options` (e.g. `-csearch_path=region_11`).

    psycopg takes the URL's query as keyword arguments and `connect_args` replaces a keyword of
    the same name, so without this an operator's `?options=...` would be dropped silently.
    """
    given = make_url(url).query.get("options")
    if not given:
        return POSTGRES_CONNECT_ARGS
    joined = " ".join(given) if isinstance(given, tuple) else given
    return {**POSTGRES_CONNECT_ARGS, "options": f"{joined} {POSTGRES_CONNECT_ARGS['options']}"}


class Database:
    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autobegin=True)
        # An in-memory SQLite database lives as long as one connection to it is open.
        self._keeper = self.engine.connect() if "mode=memory" in url else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        if self._keeper is not None:
            self._keeper.close()
        self.engine.dispose()
