"""The demo that `make run` loads: an admin (from config), a hospital with a terminal, and three
insured persons. Idempotent: a second run changes nothing and prints the same instructions.

The demo persons' initial passwords are random like everyone's, but the demo keeps them (and the
terminal's secret) in instance/demo.json so that the printed instructions work.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from server.accounts.passwords import new_initial_password
from server.cards import service as cards
from server.clock import beijing_date
from server.db.models import Account, Institution, Person
from server.institutions import service as institutions
from server.ledger import credits
from server.roster import service as roster
from server.roster.rules import id_check_digit
from server.uow import UnitOfWork
from server.wiring import Wiring

DEMO_FILE = Path("instance/demo.json")
HOSPITAL = ("BJ-H001", "北京协和医院 (demo)")
# `make run PORT=5001` serves on another port; the printed instructions follow it.
BASE = f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}"


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


PERSONS = [
    # (first 17 digits, name, phone, insurance type)
    ("11010519650312002", "王秀英", "13800000001", "retiree"),
    ("11010819900704501", "李明", "13800000002", "employee"),
    ("11010619920216302", "张丽", "13800000003", "employee"),
]


def face_of(name: str) -> str:
    """The demo's enrolled (and live) photo: a stand-in byte string, base64."""
    return base64.b64encode(f"demo-face:{name}".encode()).decode()


def load_demo(w: Wiring) -> Iterator[str]:
    state = json.loads(DEMO_FILE.read_text()) if DEMO_FILE.exists() else {}
    now = w.clock.now()
    with w.unit_of_work() as uow:
        s = uow.session
        with s.begin():
            hospital = s.scalar(select(Institution).where(Institution.code == HOSPITAL[0]))
        if hospital is None:
            institutions.create_institution(
                uow, code=HOSPITAL[0], name=HOSPITAL[1], kind="hospital", actor="demo"
            )
        if "terminal" not in state:
            t = institutions.create_terminal(uow, institution_code=HOSPITAL[0], actor="demo")
            state["terminal"] = {"terminal_id": t.terminal_id, "secret": t.secret}
        rows = [
            roster.RosterRow(_id(first17), name, phone, "110000", kind, face_of(name))
            for first17, name, phone, kind in PERSONS
        ]
        with s.begin():
            known = set(
                s.scalars(
                    select(Person.id_number).where(
                        Person.id_number.in_([r.id_number for r in rows])
                    )
                )
            )
        missing = [r for r in rows if r.id_number not in known]
        if missing:
            roster.import_persons(s, missing, now=now, actor="demo")
        passwords: dict[str, str] = state.setdefault("passwords", {})
        for row in rows:
            if row.id_number in passwords:
                continue
            password = new_initial_password()
            with s.begin():
                account = s.scalar(
                    select(Account).join(Person).where(Person.id_number == row.id_number)
                )
                assert account is not None
                account.password_hash = w.hasher.hash(password)
                account.password_pending = False
            passwords[row.id_number] = password
        if "cards" not in state:
            state["cards"] = _money(uow, rows)
    DEMO_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_FILE.write_text(json.dumps(state, ensure_ascii=False, indent=2))
    DEMO_FILE.chmod(0o600)
    yield from instructions(w, rows, state)


def instructions(
    w: Wiring, rows: list[roster.RosterRow], state: dict[str, object]
) -> Iterator[str]:
    first = rows[1]
    passwords = state["passwords"]
    assert isinstance(passwords, dict)
    terminal = state["terminal"]
    assert isinstance(terminal, dict)
    yield ""
    # The clerk's password is this machine's demo secret (instance/dev.env, made by `make run`),
    # printed like the demo persons' passwords so the agency page can be tried at once.
    admin_password = w.settings.admin_password or "(ADMIN_PASSWORD is not set)"
    yield f"Demo loaded. Agency admin: {w.settings.admin_username} / {admin_password}"
    yield f"Hospital {HOSPITAL[0]}, terminal {terminal['terminal_id']} secret {terminal['secret']}"
    for row in rows:
        yield (
            f"  {row.name} id {row.id_number} phone {row.phone} region {row.region} "
            f"payment password {passwords[row.id_number]} face_image {row.face_template}"
        )
    yield ""
    yield "Try it (the SMS outbox is at /api/v1/dev/sms-outbox?phone=...):"
    yield _curl("POST", "/api/v1/auth/sms-code", {"phone": first.phone})
    yield f"  curl -s '{BASE}/api/v1/dev/sms-outbox?phone={first.phone}'"
    yield _curl("POST", "/api/v1/auth/login", {"phone": first.phone, "code": "<code>"})
    activation = {
        "region": first.region,
        "id_number": first.id_number,
        "name": first.name,
        "payment_password": passwords[first.id_number],
        "face_image": first.face_template,
        "consent": True,
    }
    yield _curl("POST", "/api/v1/activation", activation, bearer="<access_token>")
    yield "Show the code (or GET /api/v1/credential/qr.png), then scan and settle at the till:"
    yield f"  curl -s {BASE}/api/v1/credential/qr -H 'authorization: Bearer <access_token>'"
    yield _curl("POST", "/api/v1/terminal/token", dict(terminal))
    yield _curl(
        "POST", "/api/v1/terminal/scan", {"qr_text": "<qr_text>"}, bearer="<terminal access_token>"
    )
    yield _curl(
        "POST",
        "/api/v1/terminal/settlements",
        {
            "order_no": "DEMO-0002",
            "scene": "outpatient",
            "medium": "ecredential",
            "scan_token": "<scan_token>",
            "total_fen": 126092,
            "fund_fen": 88264,
        },
        bearer="<terminal access_token>",
    )
    card_numbers = state.get("cards")
    if isinstance(card_numbers, dict):
        yield "Each person got this month's credit and a card; a card bill at the till:"
        yield _curl(
            "POST",
            "/api/v1/terminal/settlements",
            {
                "order_no": "DEMO-0001",
                "scene": "outpatient",
                "medium": "card",
                "card_no": card_numbers[first.id_number],
                "total_fen": 126092,
                "fund_fen": 88264,
                "payment_password": passwords[first.id_number],
            },
            bearer="<terminal access_token>",
        )
    yield f"  API description: {BASE}/openapi.json   health: {BASE}/readyz"
    yield f"Pages: phone {BASE}/app/  till {BASE}/counter/  agency {BASE}/agency/  API {BASE}/docs"
    yield ""


def _curl(method: str, path: str, body: dict[str, object], bearer: str | None = None) -> str:
    auth = f" -H 'authorization: Bearer {bearer}'" if bearer else ""
    payload = json.dumps(body, ensure_ascii=False)
    return (
        f"  curl -s -X{method} {BASE}{path}{auth} -H 'content-type: application/json' "
        f"-d '{payload}'"
    )


# Monthly credits of the demo persons (fen): a retiree's larger account, two employees'.
DEMO_CREDITS_FEN = [256_800, 52_000, 31_500]


def _money(uow: UnitOfWork, rows: list[roster.RosterRow]) -> dict[str, str]:
    """Credit this month's money to the demo persons and give each a card; their card numbers."""
    month = f"{beijing_date(uow.clock.now()):%Y-%m}"
    credits.credit_month(
        uow,
        month=month,
        rows=[
            credits.CreditRow(row.id_number, amount)
            for row, amount in zip(rows, DEMO_CREDITS_FEN, strict=True)
        ],
        actor="demo",
    )
    return {
        row.id_number: cards.issue_card(uow, id_number=row.id_number, actor="demo") for row in rows
    }
