"""Random worlds for the equivalence proofs of issue 14 (tests/service/test_settle_one_call.py,
tests/service/test_refund_call.py): the same world seeded on a freshly emptied database (ids
restart at 1), a bill settled and refunded through the Python reference or the PL/pgSQL calls,
and every row of every table read back.

A world is an institution of some level (and a second one, elsewhere), the settling terminal
(live, revoked at the agency desk, or unknown: no row) and the other terminals (the second
institution's, and a revoked one of the first), a patient with a card, a
balance, a password-free limit and maybe a year already counted in a pool, mutual-aid holders
filed for them (effective, withdrawn or not yet effective, in some order), and the patient's
e-credential: a scan token inserted as the scan inserts it (`write_grant`, the scan's own write)
for the patient's own code or a family member's proxy code, valid, used, expired, granted to the
other institution, or never granted.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from flask import Flask
from hypothesis import strategies as st
from sqlalchemy import insert, text, update

from server.audit import request_id_var
from server.benefits.models import BenefitYear
from server.cards.models import Card
from server.credentials.models import OfflineKit, ScanToken
from server.credentials.scan_statements import NewScanToken, write_grant
from server.db.base import Base
from server.db.models import Account, Credential, Institution, Person, Terminal, User
from server.errors import AppError
from server.ledger import service as ledger
from server.mutual_aid.models import MutualAidFiling
from server.settlement import refunds, service
from server.settlement.models import Settlement
from server.settlement.rules import (
    AccountUse,
    Medium,
    PasswordRule,
    Scene,
    load_password_policy,
)
from server.uow import UnitOfWork
from tests.conftest import START, _empty_shared_state

PASSWORD = "135790"
NAMES = ["张三", "欧阳娜娜", "李", "王小明"]
POOLS = ["outpatient", "inpatient"]
TOKEN = "tok-1"  # the token the scan granted; "tok-0" was never granted
REQUEST_ID = "req-eq-1"
TOKEN_STATES = ["valid", "valid", "valid", "used", "expired", "elsewhere", "unknown"]


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
    # The e-credential: whose phone showed the code (self, a relative who is no holder, the
    # first holder), and the scan token's state (valid | used | expired | elsewhere | unknown).
    presenter: str = "self"
    token: str = "valid"
    relation: str = "child"  # what the presenter is to the patient (a proxy code's kit)
    # The password table: None for the default, else one rule for every scene and medium.
    password_rule: str | None = None
    # The settling terminal T1 of institution 1: live | revoked | unknown (no row).
    terminal: str = "live"


@dataclass(frozen=True)
class Bill:
    scene: Scene
    total_fen: int
    fund_fen: int | None
    parts: tuple[int, int, int]
    password: bool
    medium: Medium = Medium.CARD
    accounts: AccountUse = AccountUse.ALL  # which accounts may pay the burden


holders = st.builds(
    Holder,
    balance_fen=st.integers(0, 300_000),
    relation=st.sampled_from(["spouse", "parent", "child"]),
    state=st.sampled_from(["effective", "effective", "withdrawn", "later"]),
    name=st.sampled_from(NAMES),
)


def worlds(*, paying: bool = False) -> st.SearchStrategy[World]:
    """Random worlds; in `paying` ones a bill can go through (an account, an active card, a
    valid scan token, a person and an institution level the policy has rules for), to be
    refunded after: the refusals are the settlement property's business."""
    return st.builds(
        World,
        level=st.sampled_from(["community", "1", "2", "3", *([] if paying else [None])]),
        insurance_type=st.sampled_from(["employee", "resident", *([] if paying else ["retiree"])]),
        name=st.sampled_from(NAMES),
        has_account=st.just(True) if paying else st.sampled_from([True, True, True, True, False]),
        balance_fen=st.integers(0, 300_000),
        limit_fen=st.sampled_from([0, 1_000, 50_000, 1_000_000]),
        card=st.just("active")
        if paying
        else st.sampled_from(["active", "active", "active", "lost", "unknown"]),
        year=st.none()
        | st.tuples(st.sampled_from(POOLS), st.integers(0, 300_000), st.integers(0, 30_000_000)),
        holders=st.lists(holders, max_size=3).map(tuple),
        presenter=st.sampled_from(["self", "self", "relative", "holder"]),
        token=st.just("valid") if paying else st.sampled_from(TOKEN_STATES),
        relation=st.sampled_from(["child", "parent", "spouse", "grandchild"]),
        password_rule=st.sampled_from([None, None, *(r.value for r in PasswordRule)]),
        terminal=st.just("live")
        if paying
        else st.sampled_from(["live", "live", "live", "live", "revoked", "unknown"]),
    )


@st.composite
def bills(
    draw: st.DrawFn, *, media: tuple[Medium, ...] = tuple(Medium), paying: bool = False
) -> Bill:
    """A random bill: the terminal's fund share or the policy's (None), out-of-scope parts, the
    accounts that may pay (the HIS's acct_used_flag), and now and then amounts that do not add
    up; `paying` bills add up, and most of them leave the fund's share to the policy (so a
    refund has a year delta to take off)."""
    # Hypothesis favours small numbers; a paying bill is past a deductible half the time.
    past = st.integers(200_000, 2_000_000)
    total = draw((st.integers(1, 2_000_000) | past) if paying else st.integers(1, 2_000_000))
    small = st.tuples(*[st.integers(0, total // 4)] * 3)
    if paying:
        parts = draw(st.just((0, 0, 0)) | small)
        fund = draw(st.none() | st.none() | st.integers(0, total))
    else:
        parts = draw(st.just((0, 0, 0)) | small | st.tuples(*[st.integers(0, total // 2)] * 3))
        fund = draw(st.none() | st.integers(0, total) | st.just(total + 1))
    pooled = [Scene.OUTPATIENT, Scene.PHARMACY_PRESCRIPTION, Scene.INPATIENT_DISCHARGE]
    return Bill(
        scene=draw(st.sampled_from([*pooled, *list(Scene)] if paying else list(Scene))),
        total_fen=total,
        fund_fen=fund,
        parts=parts,
        password=draw(st.booleans()),
        medium=draw(st.sampled_from(media)),
        accounts=draw(st.sampled_from([AccountUse.ALL, AccountUse.ALL, *AccountUse])),
    )


def seed(app: Flask, world: World) -> None:
    """The world's rows, on a database emptied just before (every id starts at 1)."""
    wiring = app.extensions["wiring"]
    if "settle_worlds.hash" not in app.extensions:  # slow (argon2), and the pepper is the app's
        app.extensions["settle_worlds.hash"] = wiring.hasher.hash(PASSWORD)
    password_hash = app.extensions["settle_worlds.hash"]
    now = START
    with wiring.db.engine.begin() as conn:
        conn.execute(
            insert(Institution),
            [
                {"code": code, "name": code, "kind": "hospital", "level": level, "created_at": now}
                for code, level in (("H1", world.level), ("H2", "3"))
            ],
        )
        # T1 settles (as the world says), T2 is the second institution's, T3 a revoked one of the
        # first's.
        terminals = [("T2", 2, None), ("T3", 1, now)]
        if world.terminal != "unknown":
            terminals.append(("T1", 1, now if world.terminal == "revoked" else None))
        conn.execute(
            insert(Terminal),
            [
                {
                    "id": tid,
                    "institution_id": inst,
                    "secret_hash": "x",
                    "created_at": now,
                    "revoked_at": revoked,
                }
                for tid, inst, revoked in terminals
            ],
        )
        # Person 1 is the patient, 2.. the holders, the last a relative who holds no account.
        people = [
            (world.name, world.insurance_type),
            *((h.name, "employee") for h in world.holders),
            ("郑母", "retiree"),
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
                        "password_hash": password_hash,
                        "password_is_initial": False,
                        "password_pending": False,
                        "password_changed_at": None,
                        "created_at": now,
                    }
                    for a in accounts
                ],
            )
        _seed_credentials(conn, world, len(people))
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


def _seed_credentials(conn: Any, world: World, persons: int) -> None:
    """Every person's phone user and e-credential, the kit behind the code shown, and the scan
    token the scan granted (with the scan's own write)."""
    now = START
    conn.execute(
        insert(User),
        [
            {"phone": f"139{k:08d}", "person_id": k, "created_at": now}
            for k in range(1, persons + 1)
        ],
    )
    conn.execute(
        insert(Credential),
        [
            {
                "id": str(uuid.UUID(int=200 + k)),
                "person_id": k,
                "user_id": k,
                "status": "active",
                "activated_at": now,
                "revoked_at": None,
            }
            for k in range(1, persons + 1)
        ],
    )
    presenter: int | None = None  # the patient's own code
    if world.presenter == "relative" or (world.presenter == "holder" and not world.holders):
        presenter = persons  # the relative's phone (user id = person id)
    elif world.presenter == "holder":
        presenter = 2
    kit_id = str(uuid.UUID(int=300))
    conn.execute(
        insert(OfflineKit),
        [
            {
                "id": kit_id,
                "handle": bytes(range(16)),
                # A proxy code dies with its presenter's own credential.
                "credential_id": str(uuid.UUID(int=200 + (presenter or 1))),
                "person_id": 1,
                "presenter_user_id": presenter,
                "member_id": None if presenter is None else "m-1",
                "relation": None if presenter is None else world.relation,
                "kid": "k1",
                "attestation": b"a",
                "device_public_key": bytes(32),
                "is_server_held": True,
                "issued_at": now - timedelta(days=1),
                "expires_at": now + timedelta(days=6),
                "issued_counter": 1,
                "last_counter": 0,
            }
        ],
    )
    expired = world.token == "expired"
    granted = write_grant(
        conn,
        NewScanToken(
            kit_id=kit_id,
            counter=1,
            token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(),
            person_id=1,
            presented_by_user_id=presenter,
            relation=None if presenter is None else world.relation,
            institution_id=2 if world.token == "elsewhere" else 1,
            terminal_id="T0",
            created_at=now - timedelta(minutes=11 if expired else 1),
            expires_at=now - timedelta(minutes=1) if expired else now + timedelta(minutes=9),
        ),
        conn.dialect.name == "postgresql",
    )
    assert granted
    if world.token == "used":
        conn.execute(update(ScanToken).values(used_at=now - timedelta(seconds=30)))


def rows(app: Flask) -> dict[str, Any]:
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


def fresh(app: Flask, world: World) -> None:
    """An emptied database (ids restart at 1) holding only the world."""
    _empty_shared_state(app)
    ledger._KNOWN_SYSTEM_IDS.clear()  # emptied tables: the remembered system ids are gone
    seed(app, world)


def unit(app: Flask, world: World, *, one_call: bool) -> UnitOfWork:
    """The app's unit of work on the reference (`one_call=False`) or the PL/pgSQL path."""
    uow: UnitOfWork = app.extensions["wiring"].unit_of_work()
    uow = replace(uow, is_postgres=one_call)
    if world.password_rule is not None:
        every = {s.value: {m.value: world.password_rule for m in Medium} for s in Scene}
        uow = replace(uow, password_policy=load_password_policy(every))
    return uow


def settle(uow: UnitOfWork, bill: Bill, *, order_no: str, settlement_uuid: int) -> Any:
    """The bill settled at institution 1: ("settled", replayed, columns) or ("refused", ...)."""
    ecredential = bill.medium is Medium.ECREDENTIAL
    request = service.SettleRequest(
        order_no=order_no,
        scene=bill.scene,
        medium=bill.medium,
        scan_token=TOKEN if ecredential else None,
        card_no=None if ecredential else "C1",
        total_fen=bill.total_fen,
        fund_fen=bill.fund_fen,
        payment_password=PASSWORD if bill.password else None,
        fulamt_ownpay_fen=bill.parts[0],
        preselfpay_fen=bill.parts[1],
        overlmt_selfpay_fen=bill.parts[2],
        accounts=bill.accounts,
    )
    terminal = service.Terminal(terminal_id="T1", institution_id=1, refuse_revoked=True)
    token = request_id_var.set(REQUEST_ID)
    try:
        with patch.object(service.uuid, "uuid4", return_value=uuid.UUID(int=settlement_uuid)):
            outcome = service.settle(uow, terminal=terminal, request=request)
        return ("settled", outcome.replayed, columns(outcome.settlement))
    except AppError as exc:
        return ("refused", exc.code, exc.details)
    finally:
        request_id_var.reset(token)


def refund(
    uow: UnitOfWork, settlement_id: str, *, institution_id: int = 1, revoked: bool = False
) -> Any:
    """The settlement refunded by a terminal of `institution_id` (T1 or T2; `revoked`: T3, the
    first institution's revoked one): ("refunded", settlement's columns, refund's columns) or
    ("refused", code, details)."""
    terminal_id = "T3" if revoked else f"T{institution_id}"
    terminal = service.Terminal(
        terminal_id=terminal_id, institution_id=institution_id, refuse_revoked=True
    )
    token = request_id_var.set(REQUEST_ID)
    try:
        found, done = refunds.refund(uow, terminal=terminal, settlement_id=settlement_id)
        return ("refunded", columns(found), columns(done))
    except AppError as exc:
        return ("refused", exc.code, exc.details)
    finally:
        request_id_var.reset(token)


def columns(row: Any) -> dict[str, Any]:
    """A mapped row's columns, read from the object the service answered (a settlement just
    written is `service.Settled`, its row's values without the ORM object)."""
    table = Settlement.__table__ if isinstance(row, service.Settled) else row.__table__
    return {c.key: getattr(row, c.key) for c in table.c}
