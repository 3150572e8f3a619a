"""Engine and sessions. One engine per app; one session per request, closed at teardown.

Services own their transactions (`with session.begin():`); nothing here commits for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from server.errors import ServiceUnavailableError

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        in_memory = "mode=memory" in url or url.endswith(":memory:")
        engine = create_engine(
            url,
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
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
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


def init_app(app: Flask, db: Database) -> None:
    app.extensions["db"] = db

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def current_db() -> Database:
    from flask import current_app

    db: Database = current_app.extensions["db"]
    return db


def session() -> Session:
    """The request's session (opened on first use, closed at the end of the request)."""
    if "db_session" not in g:
        g.db_session = current_db().sessions()
    s: Session = g.db_session
    return s


_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        if "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig):
            return True
    return False


def run_in_transaction(s: Session, work: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run `work` in one transaction, retrying it whole on a deadlock or serialization failure.

    `work` must only touch the database: it is re-run from the start on a retry.
    """
    for attempt in range(1, attempts + 1):
        try:
            with s.begin():
                return work(s)
        except DBAPIError as exc:
            s.rollback()
            if attempt < attempts and is_retryable(exc):
                time.sleep(0.005 * attempt)
                continue
            if isinstance(exc, OperationalError) and not is_retryable(exc):
                raise ServiceUnavailableError() from exc
            raise
    raise AssertionError("unreachable")
