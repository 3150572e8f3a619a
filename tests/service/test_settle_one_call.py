"""The one-call settlement (`ec_settle`, PostgreSQL) writes exactly what the Python reference does.

Issue 14. Each example builds the same random world twice on a freshly emptied database (ids
restart at 1): an institution of some level, a patient with a card, a balance, a password-free
limit and maybe a year already counted in a pool, and mutual-aid holders filed for them
(effective, withdrawn or not yet effective, in some order). It settles the same random bill
once with the reference (`is_postgres=False`: service.py, pricing.py, fund.py) and once with the
function, then compares the outcome (the settlement or the error code and details) and every
row of every table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from server.benefits.models import BenefitYear
from server.cards.models import Card
from server.db.base import Base
from server.db.models import Account, Institution, Person
from server.errors import AppError
from server.ledger import service as ledger
from server.mutual_aid.models import MutualAidFiling
from server.settlement import service
from server.settlement.rules import Medium, Scene
from tests.conftest import START, _empty_shared_state

pytestmark = pytest.mark.postgres

PASSWORD = "135790"
NAMES = ["张三", "欧阳娜娜", "李", "王小明"]
POOLS = ["outpatient", "inpatient"]


@dataclass(frozen=True)
class Holder:
    balance_fen: int
    relation: str  # what the beneficiary is to the holder, as filed
    state: str  # effective | withdrawn | later
    name: str


@dataclass(frozen=True)
class World:
    level: str | None
    insurance_type: str
    name: str
    has_account: bool
    balance_fen: int
    limit_fen: int
    card: str  # active | lost | unknown
    year: tuple[str, int, int] | None  # pool, deductible used, fund paid
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class Bill:
    scene: Scene
    total_fen: int
    fund_fen: int | None
    parts: tuple[int, int, int]
    password: bool


holders = st.builds(
    Holder,
    balance_fen=st.integers(0, 300_000),
    relation=st.sampled_from(["spouse", "parent", "child"]),
    state=st.sampled_from(["effective", "effective", "withdrawn", "later"]),
    name=st.sampled_from(NAMES),
)
worlds = st.builds(
    World,
    level=st.sampled_from([None, "community", "1", "2", "3"]),
    insurance_type=st.sampled_from(["employee", "retiree", "resident"]),
    name=st.sampled_from(NAMES),
    has_account=st.sampled_from([True, True, True, True, False]),
    balance_fen=st.integers(0, 300_000),
    limit_fen=st.sampled_from([0, 1_000, 50_000, 1_000_000]),
    card=st.sampled_from(["active", "active", "active", "lost", "unknown"]),
    year=st.none()
    | st.tuples(st.sampled_from(POOLS), st.integers(0, 300_000), st.integers(0, 30_000_000)),
    holders=st.lists(holders, max_size=3).map(tuple),
)


@st.composite
def bills(draw: st.DrawFn) -> Bill:
    total = draw(st.integers(1, 2_000_000))
    parts = draw(st.just((0, 0, 0)) | st.tuples(*[st.integers(0, total // 2)] * 3))
    fund = draw(st.none() | st.integers(0, total) | st.just(total + 1))
    return Bill(
        scene=draw(st.sampled_from(list(Scene))),
        total_fen=total,
        fund_fen=fund,
        parts=parts,
        password=draw(st.booleans()),
    )


_HASH: dict[str, str] = {}


def _seed(app: Flask, world: World) -> None:
    wiring = app.extensions["wiring"]
    if "hash" not in _HASH:
        _HASH["hash"] = wiring.hasher.hash(PASSWORD)
    now = START
    with wiring.db.engine.begin() as conn:
        conn.execute(
            insert(Institution),
            [
                {
                    "code": "H1",
                    "name": "H",
                    "kind": "hospital",
                    "level": world.level,
                    "created_at": now,
                }
            ],
        )
        people = [
            (world.name, world.insurance_type),
            *((h.name, "employee") for h in world.holders),
        ]
        conn.execute(
            insert(Person),
            [
                {
                    "id_number": f"11010119800101{i:04d}",
                    "name": name,
                    "phone": None,
                    "region": "110000",
                    "insurance_type": insurance_type,
                    "person_type": "retired" if insurance_type == "retiree" else "in_service",
                    "face_template": b"f",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (name, insurance_type) in enumerate(people)
            ],
        )
        accounts = [
            {"person_id": i + 2, "balance_fen": h.balance_fen, "password_free_limit_fen": 0}
            for i, h in enumerate(world.holders)
        ]
        if world.has_account:
            accounts.append(
                {
                    "person_id": 1,
                    "balance_fen": world.balance_fen,
                    "password_free_limit_fen": world.limit_fen,
                }
            )
        if accounts:
            conn.execute(
                insert(Account),
                [
                    {
                        **a,
                        "password_hash": _HASH["hash"],
                        "password_is_initial": False,
                        "password_pending": False,
                        "password_changed_at": None,
                        "created_at": now,
                    }
                    for a in accounts
                ],
            )
        if world.card != "unknown":
            conn.execute(
                insert(Card),
                [
                    {
                        "card_no": "C1",
                        "person_id": 1,
                        "status": world.card,
                        "issued_at": now,
                        "lost_at": None,
                        "replaced_at": None,
                    }
                ],
            )
        if world.year is not None:
            pool, used, paid = world.year
            conn.execute(
                insert(BenefitYear),
                [
                    {
                        "person_id": 1,
                        "pool": pool,
                        "year": now.year,
                        "deductible_used_fen": used,
                        "fund_paid_fen": paid,
                    }
                ],
            )
        if world.holders:
            conn.execute(
                insert(MutualAidFiling),
                [
                    {
                        "id": str(uuid.UUID(int=100 + i)),
                        "holder_person_id": i + 2,
                        "beneficiary_person_id": 1,
                        "relation": h.relation,
                        "position": len(world.holders) - i,
                        "filed_at": now - timedelta(days=30),
                        "effective_at": now + timedelta(days=1)
                        if h.state == "later"
                        else now - timedelta(days=20),
                        "withdrawn_at": now - timedelta(days=1) if h.state == "withdrawn" else None,
                    }
                    for i, h in enumerate(world.holders)
                ],
            )


def _rows(app: Flask) -> dict[str, Any]:
    """Every row of every table, as JSON, in a stable order (plus how fund_detail is null)."""
    out: dict[str, Any] = {}
    with app.extensions["wiring"].db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = conn.execute(
                text(
                    f"SELECT coalesce(json_agg(row_to_json(t) ORDER BY row_to_json(t)::text), "  # noqa: S608 (names from the metadata)
                    f"'[]') FROM \"{table.name}\" t"
                )
            ).scalar_one()
        out["fund_detail_is_sql_null"] = conn.execute(
            text("SELECT array_agg(fund_detail IS NULL) FROM settlements")
        ).scalar_one()
    return out


def _settle(app: Flask, world: World, bill: Bill, *, one_call: bool) -> tuple[Any, Any]:
    _empty_shared_state(app)
    ledger._KNOWN_SYSTEM_IDS.clear()  # emptied tables: the remembered system ids are gone
    _seed(app, world)
    request = service.SettleRequest(
        order_no="O1",
        scene=bill.scene,
        medium=Medium.CARD,
        scan_token=None,
        card_no="C1",
        total_fen=bill.total_fen,
        fund_fen=bill.fund_fen,
        payment_password=PASSWORD if bill.password else None,
        fulamt_ownpay_fen=bill.parts[0],
        preselfpay_fen=bill.parts[1],
        overlmt_selfpay_fen=bill.parts[2],
    )
    with app.extensions["wiring"].unit_of_work() as uow:
        uow = replace(uow, is_postgres=one_call)
        terminal = service.Terminal(terminal_id="T1", institution_id=1)
        try:
            with patch.object(service.uuid, "uuid4", return_value=uuid.UUID(int=1)):
                outcome = service.settle(uow, terminal=terminal, request=request)
            settled = {
                c: getattr(outcome.settlement, c)
                for c in Base.metadata.tables["settlements"].c.keys()  # noqa: SIM118
            }
            answer: Any = ("settled", outcome.replayed, settled)
        except AppError as exc:
            answer = ("refused", exc.code, exc.details)
    return answer, _rows(app)


@settings(
    max_examples=40,
    deadline=None,
    # Two fresh databases an example: shrinking a failure would take many minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds, bill=bills())
def test_the_one_call_writes_every_row_the_python_reference_writes(
    app: Flask, world: World, bill: Bill
) -> None:
    reference = _settle(app, world, bill, one_call=False)
    one_call = _settle(app, world, bill, one_call=True)
    assert one_call[0] == reference[0]
    assert one_call[1] == reference[1]


def test_the_reference_and_the_call_both_settle_a_plain_bill(app: Flask) -> None:
    """A sanity anchor for the property: a funded bill paid from the own account settles."""
    world = World("3", "employee", "张三", True, 100_000, 1_000_000, "active", None, ())
    bill = Bill(Scene.OUTPATIENT, 50_000, None, (0, 0, 0), False)
    reference = _settle(app, world, bill, one_call=False)
    assert reference[0][0] == "settled", reference[0]
    assert _settle(app, world, bill, one_call=True) == reference
