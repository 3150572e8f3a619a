"""The suite's world, made in this process through the admin API (production mode): a clerk, a
hospital with its terminal, PERSONS activated patients with money on their accounts and a card."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.settle import _person
from faults.fakes import RecordingSms
from server import create_app
from server.cli import migrate
from server.credentials.keys import create_key_file

PERSONS = 40
BALANCE_FEN = 10**8


@dataclass
class World:
    env: dict[str, str]
    terminal_id: str
    terminal_secret: str
    cards: list[str]
    user_tokens: list[str]  # each patient's access token (their phone signed in)


def production_env(tmp: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """Production mode: real secrets, a key file, the ports named by class (no DEMO_MODE)."""
    key_file = tmp / "signing-keys.pem"
    create_key_file(key_file)
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "PASSWORD_PEPPER": secrets.token_urlsafe(32),
        "ADMIN_USERNAME": "faults",
        "ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "SIGNING_KEY_FILE": str(key_file),
        "SMS_BACKEND": "faults.fakes:RecordingSms",
        "FACE_VERIFIER": "faults.fakes:AcceptingFace",
        "JOBS_BACKEND": "inline",  # no rq worker: an SMS is sent inside the request
        "THROTTLE_SMS_ADDRESS": "1000000",  # every patient asks from 127.0.0.1
        "THROTTLE_TERMINAL_ADDRESS": "1000000",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
    }


def build(env: dict[str, str]) -> World:
    migrate(env["DATABASE_URL"])
    app = create_app({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
    c = app.test_client()

    def ok(r: Any, status: int = 201) -> dict[str, Any]:
        assert r.status_code == status, (r.status_code, r.get_json())
        return dict(r.get_json())

    admin = ok(
        c.post(
            "/api/v1/admin/login",
            json={"username": env["ADMIN_USERNAME"], "password": env["ADMIN_PASSWORD"]},
        ),
        200,
    )["access_token"]
    ah = {"Authorization": f"Bearer {admin}"}
    persons = [_person(i) for i in range(PERSONS)]
    ok(c.post("/api/v1/admin/insured", json={"persons": persons}, headers=ah))
    credits = [{"id_number": p["id_number"], "amount_fen": BALANCE_FEN} for p in persons]
    ok(c.post("/api/v1/admin/credits", json={"month": "2026-11", "credits": credits}, headers=ah))
    ok(
        c.post(
            "/api/v1/admin/institutions",
            json={"code": "F1", "name": "Faults hospital", "kind": "hospital"},
            headers=ah,
        )
    )
    t = ok(c.post("/api/v1/admin/terminals", json={"institution_code": "F1"}, headers=ah))
    cards, tokens = [], []
    for p in persons:
        ok(c.post("/api/v1/auth/sms-code", json={"phone": p["phone"]}), 202)
        code = RecordingSms.last(p["phone"], "login")
        access = ok(c.post("/api/v1/auth/login", json={"phone": p["phone"], "code": code}), 200)[
            "access_token"
        ]
        ok(
            c.post(
                "/api/v1/activation",
                json={
                    "region": p["region"],
                    "id_number": p["id_number"],
                    "name": p["name"],
                    "payment_password": RecordingSms.last(p["phone"], "payment_password"),
                    "face_image": "ZmFjZQ==",
                    "consent": True,
                },
                headers={"Authorization": f"Bearer {access}"},
            )
        )
        card = ok(c.post("/api/v1/admin/cards", json={"id_number": p["id_number"]}, headers=ah))
        cards.append(str(card["card_no"]))
        tokens.append(str(access))
    app.extensions["wiring"].close()
    return World(env, str(t["terminal_id"]), str(t["secret"]), cards, tokens)
