"""Accepted once, for real: the stateful published vectors against the real service, and one code
fired from many terminals at once (QR.md point 4)."""

from __future__ import annotations

import importlib.util
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from server.credentials.keys import KeyRing, MemoryKeySource
from server.credentials.models import OfflineKit
from server.db.models import Credential
from server.ports.store import DatabaseStore, RedisStore
from tests.actors import Clerk, PersonSpec, Phone, error_code
from tests.conftest import _empty_shared_state

VECTORS = Path(__file__).parents[1] / "vectors"
CASES = json.loads((VECTORS / "ec1_cases.json").read_text())
STATEFUL = [c for c in CASES["cases"] if c["stateful"]]


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location("ec1_vector_build", VECTORS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _builder()


def _activated(client, clerk, phone_number: str) -> Phone:
    person = PersonSpec("吴十一", phone_number)
    clerk.enrol(person)
    phone = Phone(client, person.phone).sign_in()
    assert phone.activate(person).status_code == 201
    return phone


@pytest.mark.parametrize("case", STATEFUL, ids=lambda c: c["name"])
def test_each_stateful_published_case_holds_in_the_service(app, client, clerk, clock, case):
    """The vector kit is given to a real credential; the steps go through POST /scan."""
    w = app.extensions["wiring"]
    w.keys = MemoryKeySource(KeyRing(keys=(BUILD.SERVER,)))
    _activated(client, clerk, "13900000501")
    terminal = clerk.hospital_with_terminal("H500").sign_in()
    with w.db.sessions() as s, s.begin():
        credential = s.scalar(select(Credential))
        s.add(
            OfflineKit(
                id="vector-kit",
                handle=BUILD.HANDLE,
                credential_id=credential.id,
                person_id=credential.person_id,
                kid=BUILD.SERVER.kid,
                attestation=BUILD.attest(),
                device_public_key=BUILD.public_raw(BUILD.DEVICE),
                is_server_held=False,
                issued_at=datetime.fromtimestamp(BUILD.KIT_ISSUED_AT, UTC),
                expires_at=datetime.fromtimestamp(BUILD.KIT_EXPIRES_AT, UTC),
            )
        )
        s.add(  # the device's next kit, for "renewed kit starts again"
            OfflineKit(
                id="vector-kit-renewed",
                handle=BUILD.RENEWED_HANDLE,
                credential_id=credential.id,
                person_id=credential.person_id,
                kid=BUILD.SERVER.kid,
                attestation=BUILD.renewed_kit(),
                device_public_key=BUILD.public_raw(BUILD.DEVICE),
                is_server_held=False,
                issued_at=datetime.fromtimestamp(BUILD.KIT_ISSUED_AT + 1, UTC),
                expires_at=datetime.fromtimestamp(BUILD.KIT_EXPIRES_AT, UTC),
            )
        )
        if case.get("revoked_handles"):
            s.execute(update(Credential).values(status="revoked"))
    for step in case["steps"]:
        clock.set(datetime.fromtimestamp(step["now"], UTC))
        r = terminal.post("/scan", {"qr_text": step["qr_text"]})
        assert error_code(r) == step["expect"], (case["why"], r.get_json())


def _race(app, text: str, terminals: int = 32) -> list[int]:
    # One app, one test client per terminal: each request gets its own session and connection.
    clerk = Clerk.signed_in(app.test_client())
    scanners = []
    for n in range(4):
        scanners.append(clerk.hospital_with_terminal(f"R{n}").sign_in())

    def fire(n: int) -> int:
        scanner = scanners[n % len(scanners)]
        client = app.test_client()
        r = client.post(
            "/api/v1/terminal/scan",
            json={"qr_text": text},
            headers={"Authorization": f"Bearer {scanner.access}"},
        )
        return r.status_code if r.status_code == 200 else (r.status_code, error_code(r))

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(fire, range(terminals)))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_one_code_fired_from_many_terminals_at_once_is_accepted_once(make_app, backend):
    app = make_app(
        REDIS_URL=os.environ.get("REDIS_URL", "") if backend == "redis" else "",
        ADMIN_USERNAME=Clerk.ADMIN[0],
        ADMIN_PASSWORD=Clerk.ADMIN[1],
    )
    store = app.extensions["wiring"].store
    store = getattr(store, "fast", store)  # with Redis, security state stays in the database
    assert isinstance(store, RedisStore if backend == "redis" else DatabaseStore)
    _empty_shared_state(app)
    client = app.test_client()
    clerk = Clerk.signed_in(client)
    phone = _activated(client, clerk, "13900000502")
    text = phone.get("/credential/qr").get_json()["qr_text"]
    results = _race(app, text)
    assert results.count(200) == 1, results
    assert set(results) - {200} == {(409, "QR_ALREADY_USED")}
