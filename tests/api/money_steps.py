"""Steps of the money tests: a clerk who credits and issues cards, a till that settles.

Kept beside the shared actors (tests/actors.py) so that feature branches do not collide there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.actors import Clerk, PersonSpec, Phone, Terminal

_orders = itertools.count(1)


def credit(clerk: Clerk, month: str, *rows: tuple[PersonSpec, int]) -> TestResponse:
    return clerk.post(
        "/credits",
        {"month": month, "credits": [{"id_number": p.id_number, "amount_fen": a} for p, a in rows]},
    )


def issue_card(clerk: Clerk, person: PersonSpec) -> str:
    r = clerk.post("/cards", {"id_number": person.id_number})
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["card_no"])


def new_order_no() -> str:
    return f"ORD-{next(_orders):06d}"


def _bill(
    medium: str,
    credential: dict[str, str],
    *,
    total_fen: int,
    fund_fen: int,
    scene: str,
    order_no: str | None,
    payment_password: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_no": order_no or new_order_no(),
        "scene": scene,
        "medium": medium,
        **credential,
        "total_fen": total_fen,
        "fund_fen": fund_fen,
    }
    if payment_password is not None:
        body["payment_password"] = payment_password
    return body


def card_bill(
    card_no: str,
    *,
    total_fen: int,
    fund_fen: int,
    scene: str = "outpatient",
    order_no: str | None = None,
    payment_password: str | None = None,
) -> dict[str, Any]:
    return _bill(
        "card",
        {"card_no": card_no},
        total_fen=total_fen,
        fund_fen=fund_fen,
        scene=scene,
        order_no=order_no,
        payment_password=payment_password,
    )


@dataclass
class Insured:
    """An enrolled, activated person with a phone signed in and a card."""

    spec: PersonSpec
    phone: Phone
    card_no: str
    password: str


def insured_with_money(
    client: FlaskClient,
    clerk: Clerk,
    name: str,
    phone: str,
    balance_fen: int,
    month: str = "2026-11",
) -> Insured:
    spec = PersonSpec(name, phone)
    clerk.enrol(spec)
    device = Phone(client, phone).sign_in()
    password = device.initial_password()
    r = device.activate(spec, password=password)
    assert r.status_code == 201, r.get_json()
    if balance_fen:
        r = credit(clerk, month, (spec, balance_fen))
        assert r.status_code == 201, r.get_json()
    return Insured(spec, device, issue_card(clerk, spec), password)


def balance(insured: Insured) -> int:
    r = insured.phone.get("/account")
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["balance_fen"])


def till(clerk: Clerk, code: str = "H001") -> Terminal:
    return clerk.hospital_with_terminal(code).sign_in()


def scan_token(terminal: Terminal, phone: Phone) -> str:
    """The patient shows the code; the till scans it and gets a one-use scan token."""
    r = phone.get("/credential/qr")
    assert r.status_code == 200, r.get_json()
    r = terminal.post("/scan", {"qr_text": r.get_json()["qr_text"]})
    assert r.status_code == 200, r.get_json()
    return str(r.get_json()["scan_token"])


def ecredential_bill(
    token: str,
    *,
    total_fen: int,
    fund_fen: int,
    scene: str = "outpatient",
    order_no: str | None = None,
    payment_password: str | None = None,
) -> dict[str, Any]:
    return _bill(
        "ecredential",
        {"scan_token": token},
        total_fen=total_fen,
        fund_fen=fund_fen,
        scene=scene,
        order_no=order_no,
        payment_password=payment_password,
    )
