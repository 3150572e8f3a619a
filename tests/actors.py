"""Actors whose methods are user steps: the agency clerk, a phone, a terminal.

Tests read as what people do: `phone.sign_in()`, `clerk.import_persons(...)`, `terminal.scan(...)`.
Each step returns the raw response so a test can assert status, code and body.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.roster.rules import id_check_digit

_serial = itertools.count(1)


def id_number(birth: str = "19900307", region: str = "110101") -> str:
    """A valid 18-character ID number, unique within the run."""
    first17 = f"{region}{birth}{next(_serial) % 1000:03d}"
    return first17 + id_check_digit(first17)


def face(name: str) -> str:
    return base64.b64encode(f"face-of:{name}".encode()).decode()


@dataclass
class PersonSpec:
    name: str
    phone: str | None
    id_number: str = field(default_factory=id_number)
    region: str = "110000"
    insurance_type: str = "employee"

    def row(self) -> dict[str, Any]:
        return {
            "id_number": self.id_number,
            "name": self.name,
            "phone": self.phone,
            "region": self.region,
            "insurance_type": self.insurance_type,
            "face_template": face(self.name),
        }


def error_code(response: TestResponse) -> str | None:
    body = response.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clerk:
    ADMIN = ("clerk", "clerk-password-for-tests")

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    @classmethod
    def signed_in(cls, client: FlaskClient) -> Clerk:
        r = client.post(
            "/api/v1/admin/login", json={"username": cls.ADMIN[0], "password": cls.ADMIN[1]}
        )
        assert r.status_code == 200, r.get_json()
        return cls(client, r.get_json()["access_token"])

    def post(self, path: str, body: Any = None) -> TestResponse:
        return self.client.post(f"/api/v1/admin{path}", json=body, headers=bearer(self.token))

    def import_persons(self, *persons: PersonSpec) -> TestResponse:
        return self.post("/insured", {"persons": [p.row() for p in persons]})

    def enrol(self, *persons: PersonSpec) -> None:
        r = self.import_persons(*persons)
        assert r.status_code == 201, r.get_json()

    def fix_phone(self, id_number: str, phone: str) -> TestResponse:
        return self.client.patch(
            f"/api/v1/admin/insured/{id_number}", json={"phone": phone}, headers=bearer(self.token)
        )

    def reset_password(self, id_number: str) -> TestResponse:
        return self.post(f"/insured/{id_number}/password-reset")

    def hospital_with_terminal(self, code: str = "H001") -> Terminal:
        r = self.post(
            "/institutions", {"code": code, "name": f"Hospital {code}", "kind": "hospital"}
        )
        assert r.status_code == 201, r.get_json()
        r = self.post("/terminals", {"institution_code": code})
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        return Terminal(self.client, body["terminal_id"], body["secret"])


class Phone:
    def __init__(self, client: FlaskClient, number: str) -> None:
        self.client = client
        self.number = number
        self.access = ""
        self.refresh = ""

    def outbox(self, purpose: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/api/v1/dev/sms-outbox?phone={self.number}")
        return [m for m in r.get_json()["messages"] if m["purpose"] == purpose]

    def ask_code(self) -> TestResponse:
        return self.client.post("/api/v1/auth/sms-code", json={"phone": self.number})

    def latest_code(self) -> str:
        return str(self.outbox("login")[-1]["code"])

    def initial_password(self) -> str:
        return str(self.outbox("payment_password")[-1]["code"])

    def login(self, code: str) -> TestResponse:
        r = self.client.post("/api/v1/auth/login", json={"phone": self.number, "code": code})
        if r.status_code == 200:
            self.access = r.get_json()["access_token"]
            self.refresh = r.get_json()["refresh_token"]
        return r

    def sign_in(self) -> Phone:
        assert self.ask_code().status_code == 202
        r = self.login(self.latest_code())
        assert r.status_code == 200, r.get_json()
        return self

    def get(self, path: str) -> TestResponse:
        return self.client.get(f"/api/v1{path}", headers=bearer(self.access))

    def post(self, path: str, body: Any = None) -> TestResponse:
        return self.client.post(f"/api/v1{path}", json=body, headers=bearer(self.access))

    def put(self, path: str, body: Any = None) -> TestResponse:
        return self.client.put(f"/api/v1{path}", json=body, headers=bearer(self.access))

    def delete(self, path: str) -> TestResponse:
        return self.client.delete(f"/api/v1{path}", headers=bearer(self.access))

    def activate(
        self,
        person: PersonSpec,
        *,
        password: str | None = None,
        face_image: str | None = None,
        consent: bool = True,
        **overrides: Any,
    ) -> TestResponse:
        body = {
            "region": person.region,
            "id_number": person.id_number,
            "name": person.name,
            "payment_password": password if password is not None else self.initial_password(),
            "face_image": face_image if face_image is not None else face(person.name),
            "consent": consent,
        }
        body.update(overrides)
        return self.post("/activation", body)

    # --- family proxy accounts (亲情账户) -------------------------------------------------------
    def bind_member(
        self, member: PersonSpec, relation: str, *, face_image: str | None = None
    ) -> TestResponse:
        """Bind a relative, with the relative's own face in front of this phone."""
        return self.post(
            "/family/members",
            {
                "id_number": member.id_number,
                "name": member.name,
                "relation": relation,
                "face_image": face_image if face_image is not None else face(member.name),
            },
        )

    def family_members(self) -> list[dict[str, Any]]:
        r = self.get("/family/members")
        assert r.status_code == 200, r.get_json()
        members: list[dict[str, Any]] = r.get_json()["members"]
        return members

    def unbind_member(self, member_id: str) -> TestResponse:
        return self.delete(f"/family/members/{member_id}")

    def member_expenses(self, member_id: str, year: int) -> TestResponse:
        return self.get(f"/family/members/{member_id}/expenses?year={year}")

    # --- family mutual aid (家庭共济) -----------------------------------------------------------
    def file_beneficiary(self, person: PersonSpec, relation: str) -> TestResponse:
        return self.post(
            "/mutual-aid/beneficiaries",
            {"id_number": person.id_number, "name": person.name, "relation": relation},
        )

    def beneficiaries(self) -> list[dict[str, Any]]:
        r = self.get("/mutual-aid/beneficiaries")
        assert r.status_code == 200, r.get_json()
        found: list[dict[str, Any]] = r.get_json()["beneficiaries"]
        return found

    def withdraw_beneficiary(self, beneficiary_id: str) -> TestResponse:
        return self.delete(f"/mutual-aid/beneficiaries/{beneficiary_id}")

    def sources(self) -> list[dict[str, Any]]:
        r = self.get("/mutual-aid/sources")
        assert r.status_code == 200, r.get_json()
        found: list[dict[str, Any]] = r.get_json()["sources"]
        return found

    def reorder_sources(self, source_ids: list[str]) -> TestResponse:
        return self.put("/mutual-aid/sources/order", {"source_ids": source_ids})


class Terminal:
    def __init__(self, client: FlaskClient, terminal_id: str, secret: str) -> None:
        self.client = client
        self.terminal_id = terminal_id
        self.secret = secret
        self.access = ""

    def sign_in(self) -> Terminal:
        r = self.client.post(
            "/api/v1/terminal/token", json={"terminal_id": self.terminal_id, "secret": self.secret}
        )
        assert r.status_code == 200, r.get_json()
        self.access = r.get_json()["access_token"]
        return self

    def post(self, path: str, body: Any = None) -> TestResponse:
        return self.client.post(f"/api/v1/terminal{path}", json=body, headers=bearer(self.access))

    def get(self, path: str) -> TestResponse:
        return self.client.get(f"/api/v1/terminal{path}", headers=bearer(self.access))
