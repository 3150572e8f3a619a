"""Scanning: POST /api/v1/terminal/scan through gunicorn, beside a bare Flask endpoint measured in
the same run, and the pure verification cost in-process (issue 4, "Speed").

Every scan is a fresh, genuine code (once-only is real), made beforehand by the reference phone
generator from one offline kit per client process, so each client's counters grow in order. The
server is production-configured (TESTING off, a key file, argon2id at full cost) on a SQLite file,
or on BENCH_DATABASE_URL / BENCH_REDIS_URL (scratch databases, emptied first) when they are set.
App (and PostgreSQL) CPU per scan come from /proc; PostgreSQL round trips and Redis calls are
counted on the wire (bench.common.RoundTrips) in a short separate pass, one client. Figures go to
bench/results.json too (rows `scan`, `bare_scan_setup`).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from bench.common import (
    RoundTrips,
    app_env,
    ceiling,
    drive,
    gunicorn,
    measured,
    ms,
    row,
    save,
    scratch_database,
    table,
)
from mobile_api.offline import OfflineGenerator
from server import create_app
from server.credentials import ec1
from server.credentials.keys import ServerKey, public_raw

SCANS = 3000
CLIENTS = 6
WORKERS = 2
THREADS = int(os.environ.get("BENCH_THREADS", "4"))  # gthread: overlap commit waits


def _setup(env: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    """An admin, a hospital terminal, an activated person and one offline kit per client."""
    app = create_app(dict(env))
    c = app.test_client()
    admin = c.post(
        "/api/v1/admin/login",
        json={"username": env["ADMIN_USERNAME"], "password": env["ADMIN_PASSWORD"]},
    ).get_json()["access_token"]
    ah = {"Authorization": f"Bearer {admin}"}
    first17 = "11010119800101001"
    from server.roster.rules import id_check_digit

    person = {
        "id_number": first17 + id_check_digit(first17),
        "name": "测试人",
        "phone": "13912345678",
        "region": "110000",
        "insurance_type": "employee",
        "face_template": "ZmFjZQ==",
    }
    assert (
        c.post("/api/v1/admin/insured", json={"persons": [person]}, headers=ah).status_code == 201
    )
    c.post(
        "/api/v1/admin/institutions",
        json={"code": "B1", "name": "B", "kind": "hospital"},
        headers=ah,
    )
    t = c.post("/api/v1/admin/terminals", json={"institution_code": "B1"}, headers=ah).get_json()
    terminal = c.post("/api/v1/terminal/token", json=t).get_json()["access_token"]

    def outbox(purpose: str) -> str:
        messages = c.get(f"/api/v1/dev/sms-outbox?phone={person['phone']}").get_json()["messages"]
        return str([m for m in messages if m["purpose"] == purpose][-1]["code"])

    c.post("/api/v1/auth/sms-code", json={"phone": person["phone"]})
    tokens = c.post(
        "/api/v1/auth/login", json={"phone": person["phone"], "code": outbox("login")}
    ).get_json()
    uh = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = c.post(
        "/api/v1/activation",
        json={
            "region": "110000",
            "id_number": person["id_number"],
            "name": person["name"],
            "payment_password": outbox("payment_password"),
            "face_image": "ZmFjZQ==",
            "consent": True,
        },
        headers=uh,
    )
    assert r.status_code == 201, r.get_json()
    kits = [
        c.post("/api/v1/credential/offline-kit", json={}, headers=uh).get_json()
        for _ in range(CLIENTS)
    ]
    app.extensions["wiring"].close()
    return terminal, kits


def _codes(phones: list[OfflineGenerator], per_client: int) -> list[list[str]]:
    """Fresh codes; each phone keeps its counter, so they grow across calls."""
    now = datetime.now(UTC)
    return [[p.next_code(now).qr_text for _ in range(per_client)] for p in phones]


COUNTED = 100


def _counted(
    env: dict[str, str], phone: OfflineGenerator, headers: dict[str, str]
) -> dict[str, Any]:
    """PostgreSQL round trips and Redis calls per scan: one client through counting relays."""
    relays: dict[str, RoundTrips] = {}
    counted_env = dict(env)
    for key in ("DATABASE_URL", "REDIS_URL"):
        if key in env and not env[key].startswith("sqlite"):
            u = make_url(env[key])
            relays[key] = RoundTrips(u.host or "127.0.0.1", u.port or 0)
            counted_env[key] = u.set(port=relays[key].port).render_as_string(hide_password=False)
    try:
        with gunicorn("wsgi:app", env=counted_env, workers=1, threads=THREADS) as host:
            codes = _codes([phone], 20 + COUNTED)[0]

            def make(i: int) -> tuple[str, str, Any, dict[str, str]]:
                return ("POST", "/api/v1/terminal/scan", {"qr_text": codes[i]}, headers)

            drive(host, make, 20, 1)
            for relay in relays.values():
                relay.reset()
            drive(host, lambda i: make(20 + i), COUNTED, 1)
            # Read before gunicorn stops: a worker closing its connections sends one more
            # flight (PostgreSQL's Terminate), which is no scan's (it made 2.01 of 2).
            trips = {k: r.flights / COUNTED for k, r in relays.items()}
    finally:
        for relay in relays.values():
            relay.close()
    return {"round_trips": trips.get("DATABASE_URL"), "redis_calls": trips.get("REDIS_URL")}


def _pure_rates() -> tuple[list[list[Any]], float]:
    """Ed25519 verify and the whole pure verification, one core, in-process (CPU time); and the
    latter's microseconds per call."""
    key = Ed25519PrivateKey.generate()
    sig = key.sign(b"m" * 200)
    pub = key.public_key()
    n = 3000
    # CPU time, as the app's CPU per request is (from /proc): on this shared machine a wall
    # clock counts the other processes' turns too.
    t = time.process_time()
    for _ in range(n):
        pub.verify(sig, b"m" * 200)
    ed_us = (time.process_time() - t) / n * 1e6

    server, device = ServerKey.generate(), Ed25519PrivateKey.generate()
    at = datetime.now(UTC)
    now = int(at.timestamp())
    attestation = ec1.sign_attestation(
        server.private_key,
        server.kid_raw,
        ec1.AttestationClaims(os.urandom(16), now, now + 3600, public_raw(device)),
    )
    text = ec1.present(
        attestation, device, ec1.PresentationClaims(os.urandom(16), now, now + 60, 1)
    )
    t = time.process_time()
    for _ in range(n):
        ec1.verify_code(text, keys=lambda kid: [server.public_key], now=at)
    verify_us = (time.process_time() - t) / n * 1e6
    return [
        ["Ed25519 verify (cryptography)", f"{ed_us:.0f} us", f"{1e6 / ed_us:,.0f}"],
        [
            "ec1.verify_code: parse + 2 verifies + times",
            f"{verify_us:.0f} us",
            f"{1e6 / verify_us:,.0f}",
        ],
    ], verify_us


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        url = scratch_database(f"sqlite+pysqlite:///{tmp}/bench.db")
        env = app_env(url, tmp)
        terminal, kits = _setup(env)
        headers = {"Authorization": f"Bearer {terminal}"}
        per_client = SCANS // CLIENTS
        received = datetime.now(UTC)
        phones = [OfflineGenerator.from_kit(kit, received_at=received) for kit in kits]
        with gunicorn("wsgi:app", env=env, workers=WORKERS, threads=THREADS) as host:
            warm = _codes(phones, 20)
            drive(
                host,
                lambda i: (
                    "POST",
                    "/api/v1/terminal/scan",
                    {"qr_text": warm[i // 20][i % 20]},
                    headers,
                ),
                20 * CLIENTS,
                CLIENTS,
            )
            codes = _codes(phones, per_client)
            scans = measured(
                host,
                lambda i: (
                    "POST",
                    "/api/v1/terminal/scan",
                    {"qr_text": codes[i // per_client][i % per_client]},
                    headers,
                ),
                per_client * CLIENTS,
                CLIENTS,
                database=make_url(url).database if url.startswith("postgresql") else None,
            )
        trips = _counted(env, phones[0], headers)
        bare = ceiling(total=SCANS, clients=CLIENTS, workers=WORKERS, threads=THREADS)
    store = "Redis" if env.get("REDIS_URL") else "database table"
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite file"
    print(
        table(
            [
                "through gunicorn (2 workers, 6 keep-alive clients, same 2 cores)",
                "requests/s",
                "app CPU ms/req",
                "PG CPU ms/req",
                "PG round trips",
                "Redis calls",
                "p50 ms",
                "p99 ms",
                "errors",
            ],
            [
                [
                    "bare Flask /ping (ceiling)",
                    bare.rate,
                    ms(bare.app_cpu_ms),
                    "n/a",
                    "n/a",
                    "n/a",
                    bare.pct(50),
                    bare.pct(99),
                    bare.errors,
                ],
                [
                    f"POST /terminal/scan ({db}, used codes in {store})",
                    scans.rate,
                    ms(scans.app_cpu_ms),
                    ms(scans.pg_cpu_ms),
                    _n(trips["round_trips"]),
                    _n(trips["redis_calls"]),
                    scans.pct(50),
                    scans.pct(99),
                    scans.errors,
                ],
            ],
        )
    )
    print(f"\nscan / ceiling = {scans.rate / bare.rate:.0%}\n")
    pure, verify_us = _pure_rates()
    print(table(["in-process, one core", "per call", "per second"], pure))
    save(
        {
            "scan": row(
                scans,
                **trips,
                verify_ms=verify_us / 1000,
                database=db,
                used_codes_in=store,
                workers=WORKERS,
                threads=THREADS,
                clients=CLIENTS,
            ),
            "bare_scan_setup": row(bare, workers=WORKERS, threads=THREADS, clients=CLIENTS),
        }
    )


def _n(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}"
