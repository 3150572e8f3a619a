"""`python -m bench scale`: settlement and scan CPU per request as the roster grows (issue 14,
"settlement and scan CPU within 1.3x from 10,000 to 1,000,000 insured persons, with a year of
journal rows for them").

A scratch database `bench_scale` on the local PostgreSQL (dropped and re-made here; never `test`,
never DATABASE_URL; BENCH_SCALE_DATABASE_URL names another server's scratch database) is migrated
with the app's migrations, given the active patients of bench/settle.py and the offline kits of
bench/scan.py through the API, then grown to each size of BENCH_SCALE_SIZES (default
"10000,1000000") with filler persons, their accounts and a year of journal rows (twelve monthly
credits each: a transaction, the personal entry and the fund's entry), bulk-inserted by the server
(`INSERT ... SELECT generate_series`, no row leaves PostgreSQL) and ANALYZEd. At each size the
same settlement and scan loads run through gunicorn; rows `settlement_<size>` and
`scan_<size>` (`10k`, `200k`, `1m`, ...) go to bench/results.json.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, make_url, text

from bench import scan as scan_bench
from bench import settle as settle_bench
from bench.common import app_env, drive, gunicorn, measured, ms, row, save, table
from mobile_api.offline import OfflineGenerator
from server.cli import migrate

SETTLEMENTS = 1000  # per size
SCANS = 1200  # per size (scan_bench.CLIENTS clients)
MONTHS = 12


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


_FILL = [
    # Persons [a, b): ids that no real (17 digits + check) number can take.
    """
    INSERT INTO persons (id_number, name, phone, region, insurance_type, person_type,
                         face_template, created_at, updated_at)
    SELECT 'F' || lpad(g::text, 17, '0'), '参保人' || g, NULL, '110000', 'employee',
           'in_service', '\\x00'::bytea, now(), now()
    FROM generate_series(:a, :b - 1) AS g
    """,
    """
    INSERT INTO accounts (person_id, balance_fen, password_hash, password_is_initial,
                          password_pending, password_changed_at, password_free_limit_fen,
                          created_at)
    SELECT p.id, :year_fen, NULL, true, false, NULL, 0, now()
    FROM persons AS p
    WHERE p.id_number >= 'F' || lpad(CAST(:a AS text), 17, '0')
      AND p.id_number < 'F' || lpad(CAST(:b AS text), 17, '0')
    """,
    # A year of monthly credits: one transaction per account and month...
    """
    INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id,
                                      reference, reverses_id)
    SELECT 'credit', t.at, t.at, 'bench-scale', NULL,
           'credit:' || to_char(t.at, 'YYYY-MM') || ':' || a.id, NULL
    FROM accounts AS a
    JOIN persons AS p ON p.id = a.person_id
    CROSS JOIN LATERAL (
        SELECT timestamptz '2025-12-01 00:00+08' + make_interval(months => m) AS at
        FROM generate_series(0, :months - 1) AS m
    ) AS t
    WHERE p.id_number >= 'F' || lpad(CAST(:a AS text), 17, '0')
      AND p.id_number < 'F' || lpad(CAST(:b AS text), 17, '0')
    """,
    # ...with the personal entry and the fund's.
    """
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind, amount_fen,
                                 balance_after_fen, business_at, recorded_at, actor, request_id)
    SELECT t.id, e.account_id, e.system_account_id, 'credit', e.amount, e.balance_after,
           t.business_at, t.recorded_at, t.actor, NULL
    FROM journal_transactions AS t
    CROSS JOIN LATERAL (
        SELECT split_part(t.reference, ':', 3)::int AS account_id,
               NULL::int AS system_account_id, :month_fen AS amount,
               :month_fen * (1 + (extract(month FROM t.business_at)::int + 0) % :months)
                   AS balance_after
        UNION ALL
        SELECT NULL, (SELECT id FROM system_accounts WHERE code = 'fund'), -:month_fen, NULL
    ) AS e
    WHERE t.id > :after AND t.actor = 'bench-scale'
    """,
]


def _grow(url: str, start: int, size: int) -> float:
    """Add filler persons [start, size) with their year of journal rows; seconds taken."""
    began = time.monotonic()
    engine = create_engine(url)
    with engine.begin() as conn:
        after = conn.execute(text("SELECT coalesce(max(id), 0) FROM journal_transactions")).scalar()
        fund = conn.execute(text("SELECT count(*) FROM system_accounts WHERE code = 'fund'"))
        assert fund.scalar() == 1, "the fund's system account is made by the app's set-up"
        params = {
            "a": start,
            "b": size,
            "months": MONTHS,
            "month_fen": 10_000,
            "year_fen": 10_000 * MONTHS,
            "after": after,
        }
        for statement in _FILL:
            conn.execute(text(statement), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.monotonic() - began


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)  # noqa: S608
            for t in ("persons", "accounts", "journal_transactions", "journal_entries")
        }
    engine.dispose()
    return counts


def _scan(
    env: dict[str, str], phones: list[OfflineGenerator], headers: dict[str, str], database: str
) -> Any:
    """SCANS scans of fresh codes through gunicorn (bench/scan.py's set-up), measured."""
    per_client = SCANS // scan_bench.CLIENTS
    clients = scan_bench.CLIENTS
    with gunicorn(
        "wsgi:app", env=env, workers=scan_bench.WORKERS, threads=scan_bench.THREADS
    ) as host:
        warm = scan_bench._codes(phones, 20)
        drive(
            host,
            lambda i: (
                "POST",
                "/api/v1/terminal/scan",
                {"qr_text": warm[i // 20][i % 20]},
                headers,
            ),
            20 * clients,
            clients,
        )
        codes = scan_bench._codes(phones, per_client)
        return measured(
            host,
            lambda i: (
                "POST",
                "/api/v1/terminal/scan",
                {"qr_text": codes[i // per_client][i % per_client]},
                headers,
            ),
            per_client * clients,
            clients,
            database=database,
        )


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "10000,1000000").split(",")]
    given = os.environ.get("BENCH_SCALE_DATABASE_URL", "")
    if given:
        assert make_url(given).database not in {"test", None}, "a scratch database, never test"
        url = settle_bench._fresh_database(given, make_url(given).database or "bench_scale")
    else:
        url = settle_bench._fresh_database(settle_bench.LOCAL_SERVER, "bench_scale")
    migrate(url)
    database = make_url(url).database or ""
    rows: dict[str, dict[str, Any]] = {}
    lines: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        env = app_env(url, tmp)
        # The scan's person, then settle's patients numbered past it (their numbers differ).
        terminal, kits = scan_bench._setup(env)
        original = settle_bench._person
        settle_bench._person = lambda i: original(i + 100)
        try:
            ready = settle_bench._setup(env)
        finally:
            settle_bench._person = original
        tokens = ready["tokens"]
        settle_headers = {"Authorization": f"Bearer {ready['terminal']}"}
        scan_headers = {"Authorization": f"Bearer {terminal}"}
        phones = [OfflineGenerator.from_kit(kit, received_at=datetime.now(UTC)) for kit in kits]
        grown = 0
        for n, size in enumerate(sizes):
            seconds = _grow(url, grown, size)
            grown = size
            counts = _counts(url)
            first = n * (SETTLEMENTS + 100)  # this size's own scan tokens

            def settlement(i: int, first: int = first) -> tuple[str, str, Any, dict[str, str]]:
                k = first + i
                return (
                    "POST",
                    "/api/v1/terminal/settlements",
                    {
                        "order_no": f"S{k:07d}",
                        "scene": "outpatient",
                        "medium": "ecredential",
                        "scan_token": tokens[k],
                        "total_fen": 126092,
                        "fund_fen": 88264,
                    },
                    settle_headers,
                )

            clients = settle_bench.CLIENTS
            with gunicorn("wsgi:app", env=env, workers=settle_bench.WORKERS) as host:
                drive(host, lambda i: settlement(SETTLEMENTS + i), 96, clients)  # warm
                st = measured(host, settlement, SETTLEMENTS, clients, database=database)
            sc = _scan(env, phones, scan_headers, database)
            label = _label(size)
            extra = {"insured": counts["persons"], "journal_entries": counts["journal_entries"]}
            rows[f"settlement_{label}"] = row(st, **extra)
            rows[f"scan_{label}"] = row(sc, **extra)
            for name, r in ((f"settlement_{label}", st), (f"scan_{label}", sc)):
                lines.append(
                    [
                        name,
                        f"{counts['persons']:,}",
                        f"{counts['journal_entries']:,}",
                        f"{seconds:.0f}",
                        ms(r.app_cpu_ms),
                        ms(r.pg_cpu_ms),
                        f"{r.rate:.0f}",
                        r.errors,
                    ]
                )
            save(rows)
    print(
        table(
            [
                "row",
                "persons",
                "journal entries",
                "load s",
                "app CPU ms/req",
                "PG CPU ms/req",
                "requests/s",
                "errors",
            ],
            lines,
        )
    )
    print("\nfigures also in bench/results.json; the aim compares app+PG CPU per request")


if __name__ == "__main__":
    main()
