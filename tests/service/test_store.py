"""The short-lived store behaves the same on the database and on Redis, and fails closed."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.errors import ServiceUnavailableError
from server.ports.store import DatabaseStore, RedisStore

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, uow, clock):
    if request.param == "database":
        yield uow.store  # on the test's connection: rolled back with it
        return
    redis_store = RedisStore(REDIS_URL, clock, prefix="test-store:")
    yield redis_store
    redis_store.close()


def test_counter_counts_and_expires_on_the_app_clock(store, clock):
    assert [store.incr("c", 60) for _ in range(3)] == [1, 2, 3]
    assert store.ttl("c") == 60
    clock.advance(59)
    assert store.incr("c", 60) == 4
    clock.advance(1)
    assert store.incr("c", 60) == 1


def test_add_sets_only_once_until_expiry(store, clock):
    assert store.add("once", "a", 30) is True
    assert store.add("once", "b", 30) is False
    assert store.get("once") == "a"
    clock.advance(30)
    assert store.get("once") is None
    assert store.add("once", "c", 30) is True


def test_delete_reports_only_live_keys(store, clock):
    store.put("k", "v", 10)
    assert store.delete("k") == 1
    assert store.delete("k") == 0
    store.put("k", "v", 10)
    clock.advance(11)
    assert store.delete("k") == 0


def test_decr_never_goes_below_zero(store):
    store.incr("d", 60)
    assert store.decr("d") == 0
    assert store.decr("d") == 0
    assert store.decr("missing") == 0


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_store_that_cannot_answer_fails_closed(backend, clock):
    if backend == "redis":
        broken = RedisStore("redis://127.0.0.1:1/0", clock)
    else:
        from sqlalchemy import create_engine

        broken = DatabaseStore(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), clock)
    try:
        for call in (
            lambda: broken.incr("x", 1),
            lambda: broken.add("x", "1", 1),
            lambda: broken.get("x"),
            broken.ping,
        ):
            with pytest.raises(ServiceUnavailableError):
                call()
    finally:
        broken.close()


@pytest.mark.postgres
def test_add_is_atomic_under_many_threads_on_postgres(app, clock):
    store = app.extensions["wiring"].store
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: store.add("race", "1", 60), range(64)))
    assert results.count(True) == 1


@pytest.mark.redis
def test_redis_threads_claim_atomically_and_hand_their_connection_back(clock):
    """Each thread keeps one connection (server/ports/store_redis.py): claims stay atomic across
    threads, and a server that makes a thread per request (the development server) reuses the
    connections of threads that ended instead of opening one per request."""
    import threading

    import redis

    store = RedisStore(REDIS_URL, clock, prefix="test-store:threads:")
    watcher = redis.Redis.from_url(REDIS_URL)
    db = str(watcher.connection_pool.connection_kwargs.get("db", 0))

    def connections() -> int:
        return sum(1 for c in watcher.client_list() if str(c.get("db")) == db)

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: store.add("race", "1", 60), range(64)))
        assert results.count(True) == 1
        before = connections()
        for i in range(20):
            thread = threading.Thread(target=store.add, args=(f"once-{i}", "1", 60))
            thread.start()
            thread.join()
        assert connections() <= before + 1
        assert all(store.get(f"once-{i}") == "1" for i in range(20))
    finally:
        store.delete("race", *(f"once-{i}" for i in range(20)))
        store.close()
        watcher.close()
