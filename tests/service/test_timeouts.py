"""Fast honest failure: bounded waits on PostgreSQL and Redis (issue 10, finding 4).

A frozen dependency hung everything: no connect, statement or lock timeout on PostgreSQL, and a
frozen Redis made each refusal wait 2 s. `make faults` freezes real ones (SIGSTOP); these tests
check the settings and a Redis that accepts connections but never answers.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import text

from server.clock import FrozenClock
from server.db import make_engine
from server.errors import ServiceUnavailableError
from server.ports.store import RedisStore
from tests.conftest import DATABASE_URL, ON_POSTGRES, START


def test_postgres_connections_carry_connect_statement_and_lock_timeouts():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    args = engine.dialect.create_connect_args(engine.url)[1]
    assert engine.pool.timeout() <= 2
    engine.dispose()
    from server.db import POSTGRES_CONNECT_ARGS

    assert POSTGRES_CONNECT_ARGS["connect_timeout"] <= 2
    assert "statement_timeout=" in POSTGRES_CONNECT_ARGS["options"]
    assert "lock_timeout=" in POSTGRES_CONNECT_ARGS["options"]
    assert args is not None


@pytest.mark.postgres
def test_a_postgres_session_runs_under_the_timeouts():
    engine = make_engine(DATABASE_URL)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "5s"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "2s"
    engine.dispose()
    assert ON_POSTGRES


@pytest.mark.postgres
def test_the_urls_own_options_are_kept_beside_the_timeouts():
    """An operator's `?options=-csearch_path=...` (one schema per region, or the tests' per-run
    schema) reaches the session; it was silently replaced by the timeouts' options."""
    sep = "&" if "?" in DATABASE_URL else "?"
    engine = make_engine(f"{DATABASE_URL}{sep}options=-csearch_path%3Dregion_11")
    with engine.connect() as conn:
        assert conn.execute(text("SHOW search_path")).scalar_one() == "region_11"
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "5s"
    engine.dispose()


def test_a_frozen_redis_is_refused_within_a_second():
    """A listener that accepts and never answers stands for a SIGSTOPped redis-server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    accepting = threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True)
    accepting.start()
    store = RedisStore(f"redis://127.0.0.1:{server.getsockname()[1]}/0", FrozenClock(START))
    started = time.perf_counter()
    with pytest.raises(ServiceUnavailableError):
        store.get("sms:code:13900000001")
    assert time.perf_counter() - started < 1.0
    store.close()
    accepting.join(1)
    for conn in held:
        conn.close()
    server.close()


def test_a_pool_whose_connections_are_all_stuck_refuses_at_once_until_one_comes_back():
    """With PostgreSQL frozen, each request queued in a worker waited the whole pool timeout in
    turn, and /healthz behind them waited 3.9 s (`make faults`). After one checkout has timed
    out, the next that finds no connection free is refused at once; a returned connection ends
    that, and checkouts wait normally again."""
    import sqlite3

    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from server.db import FailFastQueuePool

    pool = FailFastQueuePool(
        lambda: sqlite3.connect(":memory:"), pool_size=1, max_overflow=0, timeout=0.2
    )
    stuck = pool.connect()  # the one connection, held by a statement on a frozen database
    with pytest.raises(PoolTimeoutError):
        pool.connect()  # waits its 0.2 s: the pool learns that every connection is stuck
    pool._timeout = 30  # were the next checkout to wait, this test would take 30 s
    started = time.perf_counter()
    with pytest.raises(PoolTimeoutError, match="refused at once"):
        pool.connect()
    assert time.perf_counter() - started < 5
    stuck.close()  # the statement finished: the connection is back
    again = pool.connect()
    assert again.cursor().execute("SELECT 1").fetchone() == (1,)
    again.close()
    pool.dispose()
