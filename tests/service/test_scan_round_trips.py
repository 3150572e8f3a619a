"""A scan's cost on PostgreSQL (issue 14): 2 round trips, transaction control included, and 1
Redis command when the used codes live in Redis (the terminal's revocation is read with the kit,
not from the store); and the one-statement write of PostgreSQL writes the same rows as the
two-statement write that SQLite needs (no data-modifying CTE)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from bench.common import RoundTrips
from server.credentials.models import OfflineKit, ScanToken
from server.credentials.scan_statements import NewScanToken, PostgresScan, write_grant
from server.db.models import Institution
from server.ports.store import DatabaseStore, RedisStore
from tests.actors import Clerk, PersonSpec, Phone
from tests.conftest import _empty_shared_state
from tests.service.relays import relayed

pytestmark = pytest.mark.postgres


@pytest.fixture
def counted(make_app: Any, migrated: Any) -> Iterator[tuple[Any, RoundTrips, RoundTrips | None]]:
    """An app whose PostgreSQL (and Redis, when REDIS_URL is set) are reached through counting
    relays. Without Redis the used codes go to a DatabaseStore on a connection of its own, so
    the relay counts the scan's own statements only."""
    relays: list[RoundTrips] = []
    pg, pg_url = relayed(migrated.url)  # the run's migrated schema (its search_path kept)
    relays.append(pg)
    redis_relay, redis_url = None, ""
    if os.environ.get("REDIS_URL"):
        redis_relay, redis_url = relayed(os.environ["REDIS_URL"])
        relays.append(redis_relay)
    app = make_app(
        DATABASE_URL=pg_url,
        REDIS_URL=redis_url,
        ADMIN_USERNAME=Clerk.ADMIN[0],
        ADMIN_PASSWORD=Clerk.ADMIN[1],
    )
    _empty_shared_state(app)
    w = app.extensions["wiring"]
    direct = None
    if redis_relay is None:
        direct = create_engine(migrated.url)
        w.store = DatabaseStore(direct, w.clock)
    else:  # used codes live in Redis (the routing store's fast side)
        assert isinstance(getattr(w.store, "fast", w.store), RedisStore)
    try:
        yield app, pg, redis_relay
    finally:
        for relay in relays:
            relay.close()
        if direct is not None:
            direct.dispose()


def _redis_commands(wire: bytes) -> list[bytes]:
    """The command names in what a Redis client sent (RESP: each command an array of bulk
    strings), pipelined or not."""
    names, i = [], 0
    while i < len(wire):
        assert wire[i : i + 1] == b"*", wire[i : i + 20]
        end = wire.index(b"\r\n", i)
        count, i = int(wire[i + 1 : end]), end + 2
        args = []
        for _ in range(count):
            end = wire.index(b"\r\n", i)
            size, i = int(wire[i + 1 : end]), end + 2
            args.append(wire[i : i + size])
            i += size + 2
        names.append(args[0].upper())
    return names


def _kit_counters(app: Any) -> dict[str, int]:
    with app.extensions["wiring"].db.engine.connect() as conn:
        return {k: v for k, v in conn.execute(select(OfflineKit.id, OfflineKit.last_counter))}


def _scan_tokens(app: Any) -> int:
    with app.extensions["wiring"].db.engine.connect() as conn:
        return len(conn.execute(select(ScanToken.token_hash)).all())


def test_a_scan_is_two_round_trips_in_autocommit_and_one_redis_command(counted):
    app, pg, redis_relay = counted
    client = app.test_client()
    clerk = Clerk.signed_in(client)
    son, mother = PersonSpec("郑十二", "13900000601"), PersonSpec("郑母", "13900000602")
    clerk.enrol(son, mother)
    phone = Phone(client, son.phone).sign_in()
    assert phone.activate(son).status_code == 201
    r = phone.bind_member(mother, "parent")
    assert r.status_code == 201, r.get_json()
    member_id = phone.family_members()[0]["member_id"]
    terminal = clerk.hospital_with_terminal("H600").sign_in()

    def code(path: str) -> str:
        r = phone.get(path)
        assert r.status_code == 200, r.get_json()
        return str(r.get_json()["qr_text"])

    # Warm up: the connection pool, the statement caches, the Redis scripts.
    assert terminal.post("/scan", {"qr_text": code("/credential/qr")}).status_code == 200
    for path in ["/credential/qr", f"/credential/qr?member={member_id}"]:
        text = code(path)
        counters, tokens = _kit_counters(app), _scan_tokens(app)
        pg.reset()
        if redis_relay is not None:
            redis_relay.reset()
        r = terminal.post("/scan", {"qr_text": text})
        pg_flights = pg.flights
        redis_sent = bytes(redis_relay.sent) if redis_relay is not None else b""
        assert r.status_code == 200, r.get_json()
        assert (r.get_json()["presented_by"] is not None) is ("member" in path)
        # The read (with the terminal's row), then the counter and the scan token in one
        # statement; no BEGIN or COMMIT of their own (each would be one more round trip).
        assert pg_flights == 2, pg_flights
        # ... and both done, for good, seen from another connection.
        grown = {k: v for k, v in _kit_counters(app).items() if v != counters.get(k)}
        assert len(grown) == 1 and _scan_tokens(app) == tokens + 1
        if redis_relay is not None:
            # Only the used-code claim: the terminal's revocation mark is not read.
            assert _redis_commands(redis_sent) == [b"EVALSHA"]


def test_the_one_statement_write_writes_what_the_two_statements_write(app, client, clerk, clock):
    clerk.enrol(person := PersonSpec("王十三", "13900000603"))
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    engine = app.extensions["wiring"].db.engine
    with engine.connect() as conn:
        kit = conn.execute(select(OfflineKit.id, OfflineKit.person_id).limit(1)).one()
    clerk.hospital_with_terminal("H601")
    with engine.connect() as conn:
        institution_id = conn.scalar(select(Institution.id))
    grant = NewScanToken(
        kit_id=kit.id,
        counter=7,
        token_hash="ab" * 32,
        person_id=kit.person_id,
        presented_by_user_id=None,
        relation="parent",
        institution_id=institution_id,
        terminal_id="t-1",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=10),
    )

    def written(how: str, g: NewScanToken) -> tuple[bool, Any, Any]:
        with engine.connect() as conn, conn.begin() as tx:
            if how == "psycopg":  # what a scan runs: the one statement, on psycopg itself
                done = PostgresScan(conn.connection, engine).grant(g)
            else:
                done = write_grant(conn, g, one_statement=how == "one statement")
            counter = conn.scalar(select(OfflineKit.last_counter).where(OfflineKit.id == g.kit_id))
            tokens = conn.execute(select(ScanToken.__table__)).all()
            tx.rollback()
        return done, counter, tokens

    ways = ("psycopg", "one statement", "two statements")
    each = [written(how, grant) for how in ways]
    assert each[0] == each[1] == each[2]
    assert each[0][0] is True and each[0][1] == 7 and len(each[0][2]) == 1
    # A counter that did not grow writes nothing, in every way.
    stale = replace(grant, counter=0)
    assert [written(how, stale) for how in ways] == [(False, 0, [])] * 3
