"""A settlement's cost on PostgreSQL (issue 14), counted on the wire through relays: a
password-free settlement of the terminal API is 1 round trip (the ec_settle call, which reads the
terminal's own row) and 0 Redis commands (the token check no longer asks the store whether the
terminal is revoked); with the fund's share computed by the policy, 2 (whose bill it is, then the
call). The store is the app's own, so a store read of the revocation mark would be counted here
too (in the database since the mark is durable, or in Redis)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from bench.common import RoundTrips
from tests.actors import Clerk
from tests.api.money_steps import (
    card_bill,
    ecredential_bill,
    insured_with_money,
    scan_token,
    till,
)
from tests.conftest import _empty_shared_state
from tests.service.relays import relayed

pytestmark = pytest.mark.postgres


@pytest.fixture
def counted(make_app: Any, migrated: Any) -> Iterator[tuple[Any, RoundTrips, RoundTrips | None]]:
    """An app whose PostgreSQL (and Redis, when REDIS_URL is set) are reached through counting
    relays; its store is its own (the durable keys on the app's engine)."""
    relays: list[RoundTrips] = []
    pg, pg_url = relayed(migrated.url)
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
    try:
        yield app, pg, redis_relay
    finally:
        for relay in relays:
            relay.close()


def test_a_password_free_settlement_is_one_round_trip_and_no_redis_command(counted):
    app, pg, redis_relay = counted
    client = app.test_client()
    clerk = Clerk.signed_in(client)
    t = till(clerk, "H951")
    p = insured_with_money(client, clerk, "孙三", "13900000951", 500_000)

    def trips(bill: dict[str, Any]) -> tuple[int, bytes]:
        pg.reset()
        if redis_relay is not None:
            redis_relay.reset()
        r = t.post("/settlements", bill)
        assert r.status_code == 201, r.get_json()
        return pg.flights, bytes(redis_relay.sent) if redis_relay is not None else b""

    # Warm up: the pool's connections, the function's plans, the system accounts' ids.
    registration = {"scene": "registration", "total_fen": 5_000, "fund_fen": 4_000}
    trips(card_bill(p.card_no, **registration))
    computed = card_bill(p.card_no, total_fen=5_000, fund_fen=None, scene="registration")  # type: ignore[arg-type]
    trips(computed)

    # The terminal's fund share, the card or the e-credential (the scan before the count).
    assert trips(card_bill(p.card_no, **registration)) == (1, b"")
    token = scan_token(t, p.phone)
    outpatient = {"total_fen": 20_000, "fund_fen": 14_000}  # no password for the e-credential
    assert trips(ecredential_bill(token, **outpatient)) == (1, b"")
    # The policy's share: whose bill it is first, then the call.
    assert trips({**computed, "order_no": "ORD-RT-COMPUTED"}) == (2, b"")
