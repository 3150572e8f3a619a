"""Roster import: 10,000 rows per call (the contract's maximum), and the cost of a password check.

The import is timed in-process through the Flask test client on SQLite and, when
BENCH_DATABASE_URL is set, on that scratch database (emptied first). Initial passwords are timed
apart (one argon2id hash each, production cost), because a large import hands them to a
background thread.
"""

from __future__ import annotations

import base64
import os
import time

from bench.common import scratch_database, table
from server import create_app
from server.accounts.passwords import PasswordHasher
from server.roster.rules import id_check_digit

ROWS = 10_000


def rows(n: int, with_phone: bool) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        first17 = f"1101{i // 1000:02d}{1950 + i % 50}0101{i % 1000:03d}"
        out.append(
            {
                "id_number": first17 + id_check_digit(first17),
                "name": f"参保人{i}",
                "phone": f"139{i:08d}" if with_phone else None,
                "region": "110000",
                "insurance_type": "employee",
                "face_template": base64.b64encode(f"face-{i}".encode()).decode(),
            }
        )
    return out


def time_import(database_url: str | None) -> float:
    admin = f"bench-{time.time_ns()}"
    config: dict[str, object] = {
        "TESTING": True,
        "ADMIN_USERNAME": admin,
        "ADMIN_PASSWORD": "bench",
        "PASSWORD_PEPPER": "bench",
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    app = create_app(config)
    client = app.test_client()
    token = client.post(
        "/api/v1/admin/login", json={"username": admin, "password": "bench"}
    ).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    body = {"persons": rows(ROWS, with_phone=False)}
    t = time.perf_counter()
    r = client.post("/api/v1/admin/insured", json=body, headers=headers)
    elapsed = time.perf_counter() - t
    assert r.status_code == 201, r.get_json()
    app.extensions["wiring"].close()
    return elapsed


def main() -> None:
    results = [["SQLite (in memory)", ROWS, time_import(None)]]
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url.startswith("postgresql"):
        results.append(["PostgreSQL", ROWS, time_import(scratch_database(url))])
    rows_out = [[name, n, f"{s:.2f}", f"{n / s:,.0f}"] for name, n, s in results]
    print(table(["roster import, one call", "rows", "seconds", "rows/s"], rows_out))
    hasher = PasswordHasher(b"pepper", time_cost=2, memory_kib=19456)
    digest = hasher.hash("123456")
    t = time.perf_counter()
    for _ in range(20):
        hasher.verify(digest, "123456")
    per = (time.perf_counter() - t) / 20 * 1000
    print()
    print(
        table(
            ["argon2id (production cost)", "ms per check", "initial passwords/s, one core"],
            [["19 MiB, t=2", f"{per:.1f}", f"{1000 / per:,.0f}"]],
        )
    )
