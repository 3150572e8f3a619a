"""Settlement: POST /api/v1/terminal/settlements through gunicorn on PostgreSQL, beside pgbench's
built-in TPC-B-like transaction measured in the same run on the same server (issue 5, "Proof").

Two figures, reported apart:
- e-credential settlements (outpatient, no password): the ledger's own cost. Each request is a
  fresh scan token of one of PERSONS activated patients, so requests really contend on accounts
  the way a city's tills do (rarely on the same patient). The tokens are written straight into
  `scan_tokens` during set-up: scanning has its own benchmark (bench/scan.py).
- card settlements with the payment password: bounded by argon2id at production cost, by design.

Beside them, in the same run: the thin reference (bench/thin_app.py: bare Flask + psycopg calling
the PL/pgSQL function of bench/thin.sql, the same transaction in one round trip), the bare Flask
endpoint, and pgbench. Every row has app and PostgreSQL CPU per request from /proc; round trips
are counted on the wire (bench.common.RoundTrips) in a short separate pass. Figures go to
bench/results.json too.

The server is production-configured (TESTING off, argon2id at full cost) on PostgreSQL:
BENCH_DATABASE_URL (a scratch database, emptied here) or a fresh `bench_settle` database on the
local server; pgbench runs in a fresh `<that database>_pgbench` database on the same server (so two
runs on scratch databases of their own never drop each other's). DATABASE_URL is never touched.
BENCH_REDIS_URL (a scratch Redis database, emptied first) is used when set.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench.common import (
    CpuMeter,
    RequestMaker,
    RoundTrips,
    Served,
    app_env,
    ceiling,
    children,
    cpu_ms,
    drive,
    gunicorn,
    measured,
    ms,
    pg_backends,
    row,
    save,
    scratch_database,
    table,
)
from server import create_app
from server.cli import migrate
from server.credentials.models import OfflineKit, ScanToken
from server.db.models import Person
from server.roster.rules import id_check_digit

PERSONS = 60
ECREDENTIAL_SETTLEMENTS = 3000
CARD_SETTLEMENTS = 240
CLIENTS = 8
WORKERS = 4
# Every row is served the same way, the way production serves scanners and HIS clients:
# gthread workers (gunicorn.conf.py) that keep each client's connection open. With one thread a
# sync worker would close it after every answer, and each request would pay a new connection.
THREADS = 4
PGBENCH_SECONDS = 10
COUNTED = 100  # requests of the round-trip counting pass
# Scan tokens made in set-up, by request index: the timed run [0, N), its warm-up [N, N+WARM), the
# counting pass [N+WARM, N+WARM+120); the thin reference the same from THIN; the untimed first
# pass (see main) from 2 * THIN.
WARM = 480
THIN = ECREDENTIAL_SETTLEMENTS + WARM + COUNTED + 40
FIRST_PASS = 1500
TOKENS = 2 * THIN + FIRST_PASS
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _app_database() -> str:
    """BENCH_DATABASE_URL when it names a scratch PostgreSQL database (emptied and migrated by
    bench.common.scratch_database), else a fresh `bench_settle` database on the local server."""
    given = os.environ.get("BENCH_DATABASE_URL", "")
    if given.startswith("postgresql"):
        return scratch_database(given)
    url = _fresh_database(LOCAL_SERVER, "bench_settle")
    migrate(url)
    return url


def _fresh_database(server_url: str, name: str) -> str:
    """Drop and create the database `name` on the server of `server_url`; its URL."""
    server = make_url(server_url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _person(i: int) -> dict[str, Any]:
    first17 = f"110101198001{i // 28 % 12 + 1:02d}{i % 28 + 1:02d}"[:14] + f"{i % 1000:03d}"
    return {
        "id_number": first17 + id_check_digit(first17),
        "name": f"患者{i}",
        "phone": f"139{i:08d}",
        "region": "110000",
        "insurance_type": "employee",
        "face_template": "ZmFjZQ==",
    }


def _setup(env: dict[str, str]) -> dict[str, Any]:
    """Admin, a hospital and its terminal, PERSONS activated patients with money and a card."""
    app = create_app(dict(env))
    c = app.test_client()
    admin = c.post(
        "/api/v1/admin/login",
        json={"username": env["ADMIN_USERNAME"], "password": env["ADMIN_PASSWORD"]},
    ).get_json()["access_token"]
    ah = {"Authorization": f"Bearer {admin}"}
    persons = [_person(i) for i in range(PERSONS)]
    r = c.post("/api/v1/admin/insured", json={"persons": persons}, headers=ah)
    assert r.status_code == 201, r.get_json()
    r = c.post(
        "/api/v1/admin/credits",
        json={
            "month": "2026-11",
            "credits": [{"id_number": p["id_number"], "amount_fen": 10**9} for p in persons],
        },
        headers=ah,
    )
    assert r.status_code == 201, r.get_json()
    c.post(
        "/api/v1/admin/institutions",
        json={"code": "B1", "name": "B", "kind": "hospital"},
        headers=ah,
    )
    t = c.post("/api/v1/admin/terminals", json={"institution_code": "B1"}, headers=ah).get_json()
    terminal = c.post("/api/v1/terminal/token", json=t).get_json()["access_token"]

    passwords, cards = [], []
    for p in persons:

        def outbox(purpose: str, phone: str = p["phone"]) -> str:
            messages = c.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["messages"]
            return str([m for m in messages if m["purpose"] == purpose][-1]["code"])

        c.post("/api/v1/auth/sms-code", json={"phone": p["phone"]})
        tokens = c.post(
            "/api/v1/auth/login", json={"phone": p["phone"], "code": outbox("login")}
        ).get_json()
        password = outbox("payment_password")
        r = c.post(
            "/api/v1/activation",
            json={
                "region": "110000",
                "id_number": p["id_number"],
                "name": p["name"],
                "payment_password": password,
                "face_image": "ZmFjZQ==",
                "consent": True,
            },
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert r.status_code == 201, r.get_json()
        card = c.post("/api/v1/admin/cards", json={"id_number": p["id_number"]}, headers=ah)
        passwords.append(password)
        cards.append(card.get_json()["card_no"])

    # One fresh scan token per e-credential settlement (what a scan would have granted).
    db = app.extensions["wiring"].db
    now = datetime.now(UTC)
    tokens_out: list[str] = []
    with db.sessions() as s, s.begin():
        kits = {
            person_id: kit_id
            for person_id, kit_id in s.execute(
                select(OfflineKit.person_id, OfflineKit.id).join(
                    Person, Person.id == OfflineKit.person_id
                )
            ).all()
        }
        person_ids = sorted(kits)
        institution_id = s.execute(text("SELECT id FROM institutions WHERE code = 'B1'")).scalar()
        rows = []
        share = ECREDENTIAL_SETTLEMENTS // CLIENTS
        for i in range(TOKENS):
            token = secrets.token_urlsafe(24)
            # drive() gives client c the requests c*share .. c*share+share-1: at any moment the
            # clients settle for different patients, as a city's tills do.
            step, client = i % share, i // share
            person_id = person_ids[(step * CLIENTS + client) % len(person_ids)]
            tokens_out.append(token)
            rows.append(
                {
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "kit_id": kits[person_id],
                    "person_id": person_id,
                    "presented_by_user_id": None,
                    "relation": None,
                    "institution_id": institution_id,
                    "terminal_id": t["terminal_id"],
                    "created_at": now,
                    "expires_at": now + timedelta(hours=1),
                    "used_at": None,
                }
            )
        s.execute(insert(ScanToken), rows)
    db.dispose()
    return {
        "terminal": terminal,
        "terminal_id": t["terminal_id"],
        "institution_id": institution_id,
        "tokens": tokens_out,
        "cards": cards,
        "passwords": passwords,
    }


def _pgbench(url: str) -> tuple[float, float, float]:
    """pgbench's TPC-B-like transaction on `url`'s server: (tps, average latency ms, PostgreSQL
    CPU ms per transaction from its backends' /proc figures)."""
    u = make_url(url)
    base = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    subprocess.run(
        ["pgbench", *base, "-i", "-q", "-s", "10", u.database or ""],
        check=True,
        capture_output=True,
    )
    meter = CpuMeter(lambda: pg_backends(u.database or ""), interval=0.1).start()
    out = subprocess.run(
        ["pgbench", *base, "-c", "8", "-j", "2", "-T", str(PGBENCH_SECONDS), u.database or ""],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pg_ms = meter.stop()
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"actually processed: (\d+)", out).group(1))  # type: ignore[union-attr]
    return tps, latency, pg_ms / done


def _booted(host: Served, workers: int = WORKERS) -> None:
    """Wait (60 s at most) until the master has its workers and they are idle. The port answers
    before every worker has imported the app: one still starting during the idle baseline of
    `measured` would have its start-up taken off the run's CPU (down to 0 ms a request)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if len(children(host.pid)) >= workers and cpu_ms(lambda: children(host.pid), 0.5) < 25:
            return


def _vacuumed(url: str) -> None:
    """VACUUM ANALYZE the database just set up, as a live one is: the first row measured then
    does not pay for the set-up's thousands of fresh rows (hint bits, first statistics)."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _plain(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _counted(
    url: str, serve: Callable[[str], contextlib.AbstractContextManager[str]], make: RequestMaker
) -> float:
    """Round trips to PostgreSQL per request: a short pass, one client, through a counting relay.
    `serve(database_url)` serves the app; `make(i)` makes request i in [0, 20 + COUNTED)."""
    u = make_url(url)
    relay = RoundTrips(u.host or "127.0.0.1", u.port or 5432)
    try:
        with serve(u.set(port=relay.port).render_as_string(hide_password=False)) as host:
            drive(host, make, 20, 1)  # connections made, statements prepared
            relay.reset()
            drive(host, lambda i: make(20 + i), COUNTED, 1)
            return relay.flights / COUNTED
    finally:
        relay.close()


def main() -> None:
    try:
        url = _app_database()
    except OperationalError as exc:
        print(f"skipped: settlement is measured on PostgreSQL, which is not reachable ({exc})")
        return
    with tempfile.TemporaryDirectory(prefix="bench-settle-") as tmp:
        env = app_env(url, tmp)
        ready = _setup(env)
        _vacuumed(url)
        headers = {"Authorization": f"Bearer {ready['terminal']}"}
        tokens, cards, passwords = ready["tokens"], ready["cards"], ready["passwords"]

        def ecredential(i: int, offset: int = 0) -> tuple[str, str, Any, dict[str, str]]:
            n = i + offset
            return (
                "POST",
                "/api/v1/terminal/settlements",
                {
                    "order_no": f"E{n:07d}",
                    "scene": "outpatient",
                    "medium": "ecredential",
                    "scan_token": tokens[n],
                    "total_fen": 126092,
                    "fund_fen": 88264,
                },
                headers,
            )

        def card(i: int) -> tuple[str, str, Any, dict[str, str]]:
            who = i % len(cards)
            return (
                "POST",
                "/api/v1/terminal/settlements",
                {
                    "order_no": f"C{i:07d}",
                    "scene": "outpatient",
                    "medium": "card",
                    "card_no": cards[who],
                    "total_fen": 126092,
                    "fund_fen": 88264,
                    "payment_password": passwords[who],
                },
                headers,
            )

        database = make_url(url).database or ""
        # The thin reference: the same transaction as one PL/pgSQL call (bench/thin.sql).
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            conn.execute((Path(__file__).parent / "thin.sql").read_text())  # type: ignore[call-overload]
            # the thin reference takes the system accounts' ids; no settlement has made them yet
            conn.execute(
                "SELECT ec_system_account('fund', 'fund', NULL, now()),"
                " ec_system_account('external', 'external', NULL, now()),"
                " ec_system_account('institution', %(code)s, %(inst)s, now())",
                {"code": f"institution:{ready['institution_id']}", "inst": ready["institution_id"]},
            )
            system = dict(conn.execute("SELECT code, id FROM system_accounts").fetchall())
        inst = ready["institution_id"]
        thin_env = {
            "BENCH_THIN_SYSTEM": f"{system['fund']},{system['external']},"
            f"{system[f'institution:{inst}']}",
        }
        path = f"/settle/{inst}/{ready['terminal_id']}"

        def thin(i: int, offset: int = THIN) -> tuple[str, str, Any, dict[str, str]]:
            _, _, body, _ = ecredential(i, offset)
            return ("POST", path, {**body, "order_no": f"T{i + offset:07d}"}, {})

        def thin_server(db: str, workers: int = WORKERS) -> Any:
            return gunicorn(
                "bench.thin_app:app",
                env={**thin_env, "BENCH_THIN_DSN": _plain(db)},
                workers=workers,
                threads=THREADS,
            )

        # An untimed first pass (the thin reference's): on a new database the first server
        # measured pays 1.5-2x the PostgreSQL CPU of a later one for its whole run, whichever it
        # is (timed thin first, then settlement: thin 2.54 ms, settlement 1.22 ms; the other
        # order: settlement 2.6-3.5 ms, thin 1.0-1.2 ms), however long its warm-up.
        with thin_server(url) as host:
            _booted(host)
            drive(host, lambda i: thin(i, 2 * THIN), FIRST_PASS, CLIENTS)

        with gunicorn("wsgi:app", env=env, workers=WORKERS, threads=THREADS) as host:
            _booted(host)
            drive(host, lambda i: ecredential(i, ECREDENTIAL_SETTLEMENTS), WARM, CLIENTS)  # warm
            ec = measured(host, ecredential, ECREDENTIAL_SETTLEMENTS, CLIENTS, database=database)
            cd = measured(host, card, CARD_SETTLEMENTS, CLIENTS, database=database)
        ec_trips = _counted(
            url,
            lambda db: gunicorn(
                "wsgi:app", env={**env, "DATABASE_URL": db}, workers=1, threads=THREADS
            ),
            lambda i: ecredential(i, ECREDENTIAL_SETTLEMENTS + WARM),
        )

        with thin_server(url) as host:
            _booted(host)
            drive(host, lambda i: thin(i, THIN + ECREDENTIAL_SETTLEMENTS), WARM, CLIENTS)  # warm
            th = measured(host, thin, ECREDENTIAL_SETTLEMENTS, CLIENTS, database=database)
        thin_trips = _counted(
            url,
            lambda db: thin_server(db, 1),
            lambda i: thin(i, THIN + ECREDENTIAL_SETTLEMENTS + WARM),
        )
        bare = ceiling(
            total=ECREDENTIAL_SETTLEMENTS, clients=CLIENTS, workers=WORKERS, threads=THREADS
        )
    # pgbench on the same PostgreSQL server, in a database of its own
    served = {"workers": WORKERS, "threads": THREADS, "clients": CLIENTS}
    tps, pg_latency, pgbench_cpu = _pgbench(_fresh_database(url, f"{database}_pgbench"))
    save(
        {
            "bare": row(bare, **served),
            "thin_settlement": row(th, round_trips=thin_trips, **served),
            "settlement": row(ec, round_trips=ec_trips, **served),
            "card_settlement": row(cd, **served),
            "pgbench": {
                "rate": tps,
                "app_cpu_ms": None,
                "pg_cpu_ms": pgbench_cpu,
                "latency_avg_ms": pg_latency,
                "round_trips": 7,  # BEGIN, 3 UPDATE, SELECT, INSERT, END (simple protocol)
                "clients": 8,
                "scale": 10,
            },
        }
    )
    store = "Redis" if env.get("REDIS_URL") else "database table"
    print(
        table(
            [
                f"same 2 cores: gunicorn {WORKERS} gthread workers x {THREADS} threads "
                f"(keep-alive), {CLIENTS} keep-alive clients",
                "per second",
                "app CPU ms/req",
                "PG CPU ms/req",
                "PG round trips",
                "p50 ms",
                "p99 ms",
                "errors",
            ],
            [
                [
                    "pgbench TPC-B-like, 8 clients, scale 10 (ceiling)",
                    tps,
                    "n/a",
                    ms(pgbench_cpu),
                    7,
                    pg_latency,
                    "n/a",  # pgbench reports an average latency only
                    0,
                ],
                _line("bare Flask /ping through gunicorn (ceiling)", bare, None),
                _line("thin reference: Flask + psycopg, one PL/pgSQL call", th, thin_trips),
                _line(f"e-credential settlements ({PERSONS} patients, PostgreSQL)", ec, ec_trips),
                _line(f"card + payment password (argon2id, attempts in {store})", cd, None),
            ],
        )
    )
    print(
        f"\nsettlement / thin reference = {ec.rate / th.rate:.0%}; "
        f"settlement / pgbench TPC-B-like = {ec.rate / tps:.0%}; "
        "pgbench's p50 column is its average latency; figures also in bench/results.json\n"
    )


def _line(label: str, r: Any, trips: float | None) -> list[Any]:
    return [
        label,
        r.rate,
        ms(r.app_cpu_ms),
        ms(r.pg_cpu_ms),
        "n/a" if trips is None else f"{trips:.1f}",
        r.pct(50),
        r.pct(99),
        r.errors,
    ]
