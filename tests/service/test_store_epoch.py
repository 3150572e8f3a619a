"""A Redis that comes back empty accepts no code issued before it did (issue 10, finding 3)."""

from __future__ import annotations

import pytest

from server.clock import FrozenClock
from server.clock import epoch_ms as ms
from server.ports.store import RedisStore
from tests.conftest import REDIS_URL, START


@pytest.mark.redis
def test_codes_issued_before_an_empty_restart_are_refused():
    import redis

    clock = FrozenClock(START)
    store = RedisStore(REDIS_URL, clock)
    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()
        first = store.started_at_ms()
        issued = clock.now()
        assert store.accepts_code_issued_at(ms(issued))
        clock.advance(20)
        client.flushdb()  # restarted empty: the used-code records are gone
    assert store.started_at_ms() > first
    assert not store.accepts_code_issued_at(ms(issued))  # it may have been used already
    assert store.accepts_code_issued_at(ms(clock.now()))
    store.close()
