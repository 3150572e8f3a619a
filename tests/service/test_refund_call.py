"""A refund on PostgreSQL (issue 14): one round trip (`ec_refund` in autocommit); many refunds
of one settlement at once give exactly one refund and every fen back once, whether they run the
function, the Python reference, or both side by side (a rolling deploy); and an answer lost
after the call committed is OUTCOME_UNKNOWN, which a repeat resolves (ALREADY_REFUNDED).

What the function writes, row by row, is compared with the reference in
tests/service/test_settle_one_call.py.
"""

from __future__ import annotations

import selectors
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from bench.common import RoundTrips
from server.benefits.models import BenefitYear
from server.db.models import Account, AuditEvent
from server.errors import OutcomeUnknownError
from server.ledger.models import JournalEntry, JournalTransaction
from server.settlement.models import Settlement, SettlementRefund
from server.settlement.rules import Medium, Scene
from tests.actors import Clerk
from tests.service.settle_worlds import (
    Bill,
    Holder,
    World,
    fresh,
    refund,
    settle,
    unit,
)

pytestmark = pytest.mark.postgres

# A family: the patient's own account runs dry, two holders pay the rest; the policy computes
# the fund's share past the deductible, so the refund has a year delta to take off.
FAMILY = World(
    level="2",
    insurance_type="employee",
    name="张三",
    has_account=True,
    balance_fen=20_000,
    limit_fen=1_000_000,
    card="active",
    year=("outpatient", 150_000, 40_000),
    holders=(
        Holder(60_000, "parent", "effective", "李"),
        Holder(90_000, "spouse", "effective", "王小明"),
    ),
    presenter="holder",
)
BILL = Bill(Scene.OUTPATIENT, 300_000, None, (0, 0, 0), False, Medium.ECREDENTIAL)
CARD_BILL = Bill(Scene.OUTPATIENT, 260_000, None, (0, 0, 0), True, Medium.CARD)


def _id(n: int) -> str:
    """The id of the settlement settled with `settlement_uuid=n`."""
    return str(uuid.UUID(int=n))


@pytest.fixture
def relayed(make_app: Any, migrated: Any) -> Iterator[tuple[Flask, RoundTrips]]:
    """An app on the run's migrated schema, its PostgreSQL reached through a relay counting round
    trips."""
    u = make_url(migrated.url)
    relay = RoundTrips(u.host or "127.0.0.1", u.port or 5432)
    url = u.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    app = make_app(DATABASE_URL=url, ADMIN_USERNAME=Clerk.ADMIN[0], ADMIN_PASSWORD=Clerk.ADMIN[1])
    try:
        yield app, relay
    finally:
        relay.close()


def test_a_refund_is_one_round_trip(relayed: tuple[Flask, RoundTrips]) -> None:
    app, pg = relayed
    fresh(app, FAMILY)
    with unit(app, FAMILY, one_call=True) as uow:
        assert settle(uow, BILL, order_no="O1", settlement_uuid=1)[0] == "settled"
        assert settle(uow, CARD_BILL, order_no="O2", settlement_uuid=2)[0] == "settled"
        # Warm up: the pooled connection, its statement cache.
        assert refund(uow, _id(99))[:2] == ("refused", "NOT_FOUND")
        pg.reset()
        answer = refund(uow, _id(1))
        call_trips = pg.flights
    with unit(app, FAMILY, one_call=False) as uow:
        pg.reset()
        reference = refund(uow, _id(2))
        reference_trips = pg.flights
    assert answer[0] == "refunded" and reference[0] == "refunded", (answer, reference)
    assert call_trips == 1, (call_trips, reference_trips)
    assert reference_trips > call_trips


@pytest.mark.slow
@pytest.mark.parametrize("paths", ["function", "function and reference"])
def test_many_refunds_at_once_refund_once_and_every_fen_once(app: Flask, paths: str) -> None:
    fresh(app, FAMILY)
    engine = app.extensions["wiring"].db.engine
    with engine.connect() as conn:
        before = dict(conn.execute(select(Account.id, Account.balance_fen)).all())
        year_before = conn.execute(select(BenefitYear.__table__)).all()
    with unit(app, FAMILY, one_call=True) as uow:
        settled = settle(uow, BILL, order_no="O1", settlement_uuid=1)
    assert settled[0] == "settled", settled
    assert settled[2]["fund_paid_delta_fen"] > 0 and settled[2]["mutual_aid_fen"] > 0, settled
    n = 20
    start = threading.Barrier(n)

    def one(i: int) -> Any:
        with unit(app, FAMILY, one_call=paths == "function" or i % 2 == 0) as uow:
            start.wait(timeout=30)
            return refund(uow, _id(1))

    with ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(one, range(n)))
    assert Counter(a[0] if a[0] == "refunded" else a[1] for a in answers) == {
        "refunded": 1,
        "ALREADY_REFUNDED": n - 1,
    }
    with engine.connect() as conn:
        # Every fen back where it came from, once; the person's year as before the visit.
        assert dict(conn.execute(select(Account.id, Account.balance_fen)).all()) == before
        assert conn.execute(select(BenefitYear.__table__)).all() == year_before
        assert conn.scalar(select(func.count()).select_from(SettlementRefund)) == 1
        refunds = conn.execute(
            select(JournalTransaction.reverses_id).where(JournalTransaction.kind == "refund")
        ).all()
        tx = conn.scalar(select(Settlement.transaction_id))
        assert refunds == [(tx,)]
        # The journal nets to zero on every account, personal and system.
        assert (
            conn.execute(
                select(JournalEntry.account_id, JournalEntry.system_account_id)
                .group_by(JournalEntry.account_id, JournalEntry.system_account_id)
                .having(func.sum(JournalEntry.amount_fen) != 0)
            ).all()
            == []
        )
        assert (
            conn.scalar(select(func.count()).where(AuditEvent.action == "settlement.refunded")) == 1
        )


class AnswerLost:
    """A TCP relay to PostgreSQL that, once `armed`, forwards the next request but closes the
    client's connection instead of forwarding the answer: the server did the work (in autocommit
    it committed before answering), the client never hears of it."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.armed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ)
        sel.register(upstream, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                    elif self.armed:
                        self.armed = False
                        return  # the answer is dropped with both connections
                    else:
                        client.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            client.close()
            upstream.close()


def test_an_answer_lost_after_the_refund_committed_is_outcome_unknown(
    make_app: Any, migrated: Any
) -> None:
    u = make_url(migrated.url)
    relay = AnswerLost(u.host or "127.0.0.1", u.port or 5432)
    url = u.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    app = make_app(DATABASE_URL=url, ADMIN_USERNAME=Clerk.ADMIN[0], ADMIN_PASSWORD=Clerk.ADMIN[1])
    direct = create_engine(migrated.url)
    try:
        fresh(app, FAMILY)
        with unit(app, FAMILY, one_call=True) as uow:
            assert settle(uow, BILL, order_no="O1", settlement_uuid=1)[0] == "settled"
            assert refund(uow, _id(99))[:2] == ("refused", "NOT_FOUND")  # a pooled connection
            relay.armed = True
            lost = refund(uow, _id(1))
            assert lost[:2] == ("refused", OutcomeUnknownError.code), lost
            assert not relay.armed  # the answer was indeed dropped
            # It did commit: "nothing was done" would have lied. Asking again tells the till.
            with direct.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(SettlementRefund)) == 1
            assert refund(uow, _id(1))[:2] == ("refused", "ALREADY_REFUNDED")
    finally:
        relay.close()
        direct.dispose()
