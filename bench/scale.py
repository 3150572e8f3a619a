"""`python -m bench scale`: settlement and scan CPU per request as the roster grows (issue 14,
"settlement and scan CPU within 1.3x from 10,000 to 1,000,000 insured persons, with a year of
journal rows for them"). Not part of a bare `python -m bench` / `make bench` (the 1,000,000 fill
takes minutes and gigabytes): run it by name, or set BENCH_SCALE=1.

A scratch database `bench_scale` on the local PostgreSQL (dropped and re-made here; never `test`,
never DATABASE_URL; BENCH_SCALE_DATABASE_URL names another scratch database) is migrated with the
app's migrations and given, through the API, the active patients of bench/settle.py and the
offline kits of bench/scan.py, who then settle 1,000 times unmeasured (no table the load reads
is empty when first analyzed). It is then grown to each size of BENCH_SCALE_SIZES (default
"10000,1000000"; insured persons in all) with filler persons (a phone each), their accounts and a
year of monthly credits shaped as `server/ledger/credits.py` writes them: per month and import
batch of 1,000 persons one journal transaction (`credit:YYYY-MM`) with each person's entry (its
balance after) and the fund's balancing entry, and each person's `monthly_credits` marker. The
rows are made by the server (`INSERT ... SELECT generate_series`, no row leaves PostgreSQL) in
transactions of FILL_CHUNK persons; that session alone has synchronous_commit off and skips the
per-row foreign-key triggers. Then the row counts are checked (and printed), every foreign key of
the filled tables is checked set-wise, the money is checked (the journal balances; every balance
is its entries' sum), the database is VACUUM ANALYZEd and CHECKPOINTed, and the same
settlement and scan loads run through gunicorn: rows `settlement_<size>` and `scan_<size>`
(`10k`, `200k`, `1m`, ...) go to bench/results.json with app and PostgreSQL CPU per request,
the database's size, its buffer hit ratio during the run and the depth of the indexes that grew.

The load is the same at every size: ROUNDS rounds of each, the same patients, fresh scan tokens
and fresh codes; a terminal token is issued afresh at each size (access tokens live 15 minutes,
a fill may not). docs/capacity.md has the figures and what they mean.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, create_engine, make_url, text

from bench import scan as scan_bench
from bench import settle as settle_bench
from bench.common import (
    RequestMaker,
    Result,
    app_env,
    drive,
    gunicorn,
    measured,
    ms,
    row,
    save,
    table,
)
from mobile_api.offline import OfflineGenerator
from server import create_app
from server.cli import migrate

# The load at every size: ROUNDS measured rounds after one warm-up, each of SETTLEMENTS
# settlements (bench/settle.py's set-up: 4 workers, 8 clients) and of SCANS scans (bench/scan.py's:
# 2 workers x 4 threads, 6 clients); the round with the median CPU per request is reported, so one
# round disturbed by a neighbour's test suite on this shared machine does not make the figure.
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "5"))
SETTLEMENTS = 1000
SCANS = 1200
WARM = 96
MONTHS = 12
MONTH_FEN = 10_000
BATCH = 1000  # persons per monthly import request (one journal transaction each)
FILL_CHUNK = 100_000  # persons per fill transaction
# Indexes whose depth is printed: the roster's, the accounts' and the journal's.
INDEXES = (
    "uq_persons_id_number",
    "pk_accounts",
    "uq_accounts_person_id",
    "pk_journal_entries",
    "ix_journal_entries_account_id_id",
    "uq_monthly_credits_account_id_month",
)
# The foreign keys of the filled tables, checked after the fill (it runs without RI triggers).
_REFERENCES = (
    ("accounts", "person_id", "persons"),
    ("journal_entries", "transaction_id", "journal_transactions"),
    ("journal_entries", "account_id", "accounts"),
    ("journal_entries", "system_account_id", "system_accounts"),
    ("monthly_credits", "account_id", "accounts"),
    ("monthly_credits", "transaction_id", "journal_transactions"),
)
TABLES = ("persons", "accounts", "journal_transactions", "journal_entries", "monthly_credits")


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


# Filler person g (an integer) has id number 'F' + g in 17 digits: no real number (17 digits and
# a check character) can take it, and the fillers [a, b) are the range [:lo, :hi) of its unique
# index. Parameters: a, b, lo, hi, months, month_fen, year_fen, batch.
_FILL = [
    """
    INSERT INTO persons (id_number, name, phone, region, insurance_type, person_type,
                         face_template, created_at, updated_at)
    SELECT 'F' || lpad(g::text, 17, '0'), '参保人' || g, '17' || lpad(g::text, 9, '0'), '110000',
           'employee', 'in_service', '\\x00'::bytea, now(), now()
    FROM generate_series(:a, :b - 1) AS g
    ORDER BY g
    """,
    """
    INSERT INTO accounts (person_id, balance_fen, password_hash, password_is_initial,
                          password_pending, password_changed_at, password_free_limit_fen,
                          created_at)
    SELECT p.id, :year_fen, NULL, true, false, NULL, 0, now()
    FROM persons AS p
    WHERE p.id_number >= :lo AND p.id_number < :hi
    ORDER BY p.id
    """,
    # One transaction per import batch and month (credits.py: one per request), remembered.
    """
    CREATE TEMP TABLE fill_tx (id bigint, batch int, m int, month text, at timestamptz)
    ON COMMIT DROP
    """,
    """
    WITH made AS (
        INSERT INTO journal_transactions (kind, business_at, recorded_at, actor, request_id,
                                          reference, reverses_id)
        SELECT 'credit', t.at, t.at, 'bench-scale', 'bench-scale:' || b || ':' || m,
               'credit:' || to_char(date '2025-12-01' + make_interval(months => m), 'YYYY-MM'),
               NULL
        FROM generate_series(:a / :batch, (:b - 1) / :batch) AS b
        CROSS JOIN generate_series(0, :months - 1) AS m
        CROSS JOIN LATERAL (
            SELECT timestamptz '2025-12-01 00:00+08' + make_interval(months => m) AS at
        ) AS t
        ORDER BY b, m
        RETURNING id, request_id, reference, business_at
    )
    INSERT INTO fill_tx
    SELECT id, split_part(request_id, ':', 2)::int, split_part(request_id, ':', 3)::int,
           split_part(reference, ':', 2), business_at
    FROM made
    """,
    # Each person's twelve entries (balance after: one more month's credit each time)...
    """
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind,
                                 amount_fen, balance_after_fen, business_at, recorded_at, actor,
                                 request_id)
    SELECT t.id, a.id, NULL, 'credit', :month_fen, :month_fen * (t.m + 1), t.at, t.at,
           'bench-scale', 'bench-scale:' || t.batch || ':' || t.m
    FROM persons AS p
    JOIN accounts AS a ON a.person_id = p.id
    JOIN fill_tx AS t ON t.batch = substr(p.id_number, 2)::bigint / :batch
    WHERE p.id_number >= :lo AND p.id_number < :hi
    ORDER BY a.id, t.m
    """,
    # ...the fund's balancing entry of each transaction...
    """
    INSERT INTO journal_entries (transaction_id, account_id, system_account_id, kind,
                                 amount_fen, balance_after_fen, business_at, recorded_at, actor,
                                 request_id)
    SELECT t.id, NULL, (SELECT id FROM system_accounts WHERE code = 'fund'), 'credit',
           -:month_fen * (least(:b, (t.batch + 1) * :batch) - greatest(:a, t.batch * :batch)),
           NULL, t.at, t.at, 'bench-scale', 'bench-scale:' || t.batch || ':' || t.m
    FROM fill_tx AS t
    ORDER BY t.id
    """,
    # ...and the (account, month) markers.
    """
    INSERT INTO monthly_credits (account_id, month, amount_fen, transaction_id)
    SELECT a.id, t.month, :month_fen, t.id
    FROM persons AS p
    JOIN accounts AS a ON a.person_id = p.id
    JOIN fill_tx AS t ON t.batch = substr(p.id_number, 2)::bigint / :batch
    WHERE p.id_number >= :lo AND p.id_number < :hi
    ORDER BY a.id, t.m
    """,
]


def _filler(g: int) -> str:
    return f"F{g:017d}"


def _grow(url: str, start: int, stop: int) -> float:
    """Add filler persons [start, stop) with their year of credits; seconds taken."""
    began = time.monotonic()
    engine = create_engine(url)
    with engine.connect() as conn:
        fund = conn.execute(text("SELECT count(*) FROM system_accounts WHERE code = 'fund'"))
        assert fund.scalar() == 1, "the fund's system account is made by the app's set-up"
        # This session only: no commit waits for the disk, and no per-row foreign-key checks
        # (replica role skips the RI triggers, as pg_restore --disable-triggers does; they were
        # 70 % of a journal insert). _facts() checks every reference set-wise afterwards.
        conn.execute(text("SET synchronous_commit = off"))
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("SET work_mem = '64MB'"))
        conn.commit()
        # Chunks end on multiples of FILL_CHUNK, so no import batch spans two of them.
        ends = sorted({stop, *range((start // FILL_CHUNK + 1) * FILL_CHUNK, stop, FILL_CHUNK)})
        for a, b in zip([start, *ends[:-1]], ends, strict=True):
            t = time.monotonic()
            with conn.begin():
                params = {
                    "a": a,
                    "b": b,
                    "lo": _filler(a),
                    "hi": _filler(b),
                    "months": MONTHS,
                    "month_fen": MONTH_FEN,
                    "year_fen": MONTHS * MONTH_FEN,
                    "batch": BATCH,
                }
                for statement in _FILL:
                    conn.execute(text(statement), params)
            took = time.monotonic() - t
            print(f"  filled persons {a:,} .. {b - 1:,} in {took:.0f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        t = time.monotonic()
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))  # the fill's dirty pages are not flushed during a run
        print(f"  VACUUM ANALYZE + CHECKPOINT in {time.monotonic() - t:.0f} s", flush=True)
    engine.dispose()
    return time.monotonic() - began


def _facts(url: str, first: int, stop: int) -> dict[str, Any]:
    """Row counts (checked against what the fill promises), the money check, the database's
    size and the depth of the indexes that grew."""
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)  # noqa: S608
            for t in TABLES
        }
        # Fillers [first, stop): twelve entries and markers each, one transaction (and its
        # fund entry) per import batch and month.
        filler = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE account_id IS NOT NULL),"
                " count(*) FILTER (WHERE account_id IS NULL)"
                " FROM journal_entries WHERE actor = 'bench-scale'"
            )
        ).one()
        made = conn.execute(
            text("SELECT count(*) FROM journal_transactions WHERE actor = 'bench-scale'")
        ).scalar()
        batches = len({g // BATCH for g in range(first, stop)})
        expected = ((stop - first) * MONTHS, batches * MONTHS, batches * MONTHS)
        assert (*filler, made) == expected, (*filler, made)
        assert counts["persons"] == stop, counts
        assert counts["monthly_credits"] >= (stop - first) * MONTHS, counts
        total, personal = conn.execute(
            text(
                "SELECT coalesce(sum(amount_fen), 0),"
                " coalesce(sum(amount_fen) FILTER (WHERE account_id IS NOT NULL), 0)"
                " FROM journal_entries"
            )
        ).one()
        balances = conn.execute(text("SELECT coalesce(sum(balance_fen), 0) FROM accounts"))
        for child, column, parent in _REFERENCES:
            dangling = conn.execute(
                text(
                    f"SELECT count(*) FROM {child} AS c WHERE c.{column} IS NOT NULL"  # noqa: S608
                    f" AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.id = c.{column})"
                )
            ).scalar()
            assert dangling == 0, f"{dangling} {child}.{column} name no {parent} row"
        assert total == 0, f"the journal does not balance: {total} fen"
        assert personal == balances.scalar(), "balances are not their entries' sums"
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        depth = _depths(conn)
    engine.dispose()
    return {**counts, "db_mb": round(int(size or 0) / 2**20), "index_levels": depth}


def _depths(conn: Connection) -> dict[str, int | None]:
    """B-tree levels above the leaves (0: the root is the leaf) from pageinspect's metapage."""
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        conn.commit()
    except Exception:  # contrib's pageinspect not installed: the depths are left out
        conn.rollback()
        return {}
    out: dict[str, int | None] = {}
    for name in INDEXES:
        level = conn.execute(text("SELECT level FROM bt_metap(:n)"), {"n": name}).scalar()
        out[name] = None if level is None else int(level)
    return out


def _blocks(url: str, settle: bool = False) -> tuple[int, int]:
    """(blocks found in shared buffers, blocks read) so far by the database's backends; `settle`
    waits first, as backends report their counts at most once a second."""
    if settle:
        time.sleep(1.5)
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        hit, read = conn.execute(
            text(
                "SELECT blks_hit, blks_read FROM pg_stat_database"
                " WHERE datname = current_database()"
            )
        ).one()
    engine.dispose()
    return int(hit), int(read)


def _hit_ratio(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    hit, read = after[0] - before[0], after[1] - before[1]
    return None if hit + read == 0 else hit / (hit + read)


def _terminal(env: dict[str, str]) -> str:
    """A new terminal of the benchmark's hospital B1 and its fresh access token."""
    app = create_app(dict(env))
    c = app.test_client()
    admin = c.post(
        "/api/v1/admin/login",
        json={"username": env["ADMIN_USERNAME"], "password": env["ADMIN_PASSWORD"]},
    ).get_json()["access_token"]
    t = c.post(
        "/api/v1/admin/terminals",
        json={"institution_code": "B1"},
        headers={"Authorization": f"Bearer {admin}"},
    ).get_json()
    token = str(c.post("/api/v1/terminal/token", json=t).get_json()["access_token"])
    app.extensions["wiring"].close()
    return token


def _tokens(url: str, count: int, clients: int) -> list[str]:
    """`count` fresh scan tokens (what a scan grants) for the set-up's activated patients, written
    straight into scan_tokens as bench/settle.py does, just before they are used. Request i goes
    to client i // (count // clients) (drive()'s split), so at any moment the clients settle for
    different patients, as a city's tills do."""
    engine = create_engine(url)
    with engine.begin() as conn:
        kits = conn.execute(
            text(
                "SELECT DISTINCT ON (s.person_id) s.kit_id, s.person_id, s.institution_id,"
                " s.terminal_id FROM scan_tokens AS s ORDER BY s.person_id, s.created_at"
            )
        ).all()
        share = max(count // clients, 1)
        tokens, rows = [], []
        for i in range(count):
            kit, person, institution, terminal = kits[
                ((i % share) * clients + i // share) % len(kits)
            ]
            token = secrets.token_urlsafe(24)
            tokens.append(token)
            rows.append(
                {
                    "h": hashlib.sha256(token.encode()).hexdigest(),
                    "kit": kit,
                    "person": person,
                    "institution": institution,
                    "terminal": terminal,
                }
            )
        conn.execute(
            text(
                "INSERT INTO scan_tokens (token_hash, kit_id, person_id, presented_by_user_id,"
                " relation, institution_id, terminal_id, created_at, expires_at, used_at)"
                " VALUES (:h, :kit, :person, NULL, NULL, :institution, :terminal, now(),"
                " now() + interval '1 hour', NULL)"
            ),
            rows,
        )
    engine.dispose()
    return tokens


def _median(results: list[Result]) -> tuple[Result, list[float]]:
    """The round with the median app + PostgreSQL CPU per request, and every round's figure."""
    cpu = [(r.app_cpu_ms or 0.0) + (r.pg_cpu_ms or 0.0) for r in results]
    order = sorted(range(len(results)), key=lambda k: cpu[k])
    return results[order[len(order) // 2]], [round(c, 3) for c in cpu]


def _settle(
    env: dict[str, str], label: str, headers: dict[str, str], rounds: int = ROUNDS
) -> tuple[list[Result], float | None]:
    """`rounds` rounds of SETTLEMENTS settlements, each with fresh scan tokens, through gunicorn
    (bench/settle.py's set-up), measured; and the buffer hit ratio of the measured rounds."""
    url = env["DATABASE_URL"]
    database = make_url(url).database or ""
    clients = settle_bench.CLIENTS

    def settlements(round_: str, count: int) -> RequestMaker:
        tokens = _tokens(url, count, clients)
        return lambda i: (
            "POST",
            "/api/v1/terminal/settlements",
            {
                "order_no": f"S{label}-{round_}-{i:05d}",
                "scene": "outpatient",
                "medium": "ecredential",
                "scan_token": tokens[i],
                "total_fen": 126092,
                "fund_fen": 88264,
            },
            headers,
        )

    with gunicorn("wsgi:app", env=env, workers=settle_bench.WORKERS) as host:
        drive(host, settlements("w", WARM), WARM, clients)
        before = _blocks(url)
        out = []
        for n in range(rounds):
            make = settlements(str(n), SETTLEMENTS)  # made before the meters start
            out.append(measured(host, make, SETTLEMENTS, clients, database=database))
        return out, _hit_ratio(before, _blocks(url, settle=True))


def _scan(
    env: dict[str, str],
    phones: list[OfflineGenerator],
    headers: dict[str, str],
    rounds: int = ROUNDS,
) -> tuple[list[Result], float | None]:
    """`rounds` rounds of SCANS scans of fresh codes through gunicorn (bench/scan.py's set-up),
    measured; and the buffer hit ratio of the measured rounds."""
    url = env["DATABASE_URL"]
    database = make_url(url).database or ""
    per_client = SCANS // scan_bench.CLIENTS
    clients = scan_bench.CLIENTS

    def scans(codes: list[list[str]], per: int) -> RequestMaker:
        return lambda i: (
            "POST",
            "/api/v1/terminal/scan",
            {"qr_text": codes[i // per][i % per]},
            headers,
        )

    out = []
    with gunicorn(
        "wsgi:app", env=env, workers=scan_bench.WORKERS, threads=scan_bench.THREADS
    ) as host:
        drive(host, scans(scan_bench._codes(phones, 20), 20), 20 * clients, clients)
        before = _blocks(url)
        for _ in range(rounds):
            codes = scan_bench._codes(phones, per_client)
            out.append(
                measured(
                    host, scans(codes, per_client), per_client * clients, clients, database=database
                )
            )
        return out, _hit_ratio(before, _blocks(url, settle=True))


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "10000,1000000").split(",")]
    assert sizes == sorted(sizes), "sizes grow: BENCH_SCALE_SIZES in increasing order"
    given = os.environ.get("BENCH_SCALE_DATABASE_URL", "")
    if given:
        assert make_url(given).database not in {"test", None}, "a scratch database, never test"
        url = settle_bench._fresh_database(given, make_url(given).database or "bench_scale")
    else:
        url = settle_bench._fresh_database(settle_bench.LOCAL_SERVER, "bench_scale")
    migrate(url)
    rows: dict[str, dict[str, Any]] = {}
    lines: list[list[Any]] = []
    facts_lines: list[list[Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        env = app_env(url, tmp)
        # The scan's person, then settle's patients numbered past it (their numbers differ).
        _, kits = scan_bench._setup(env)
        original = settle_bench._person
        settle_bench._person = lambda i: original(i + 100)
        try:
            settle_bench._setup(env)
        finally:
            settle_bench._person = original
        phones = [OfflineGenerator.from_kit(kit, received_at=datetime.now(UTC)) for kit in kits]
        # Trading before the first statistics: VACUUM ANALYZE on an empty `settlements` table
        # gives plans that scan it whole, and cached (PL/pgSQL, prepared) they stay so while it
        # grows when no autovacuum re-analyzes (this server runs without): the CPU per
        # settlement then climbed round after round at the first size (5.8 -> 8.1 ms).
        primed, _ = _settle(env, "p", {"Authorization": f"Bearer {_terminal(env)}"}, rounds=1)
        assert primed[0].errors == 0, "the priming settlements failed"
        # Fillers are numbered past the real persons, so `size` is the number of insured.
        real = _count(url, "persons")
        grown = real
        for size in sizes:
            assert size > grown, f"{size:,} insured: already {grown:,}"
            print(f"\n{_label(size)}: filling persons {grown:,} .. {size - 1:,}", flush=True)
            seconds = _grow(url, grown, size)
            grown = size
            facts = _facts(url, real, size)
            print(f"  {facts}", flush=True)
            terminal = _terminal(env)
            headers = {"Authorization": f"Bearer {terminal}"}
            settled, st_hits = _settle(env, _label(size), headers)
            scanned, sc_hits = _scan(env, phones, headers)
            st, st_rounds = _median(settled)
            sc, sc_rounds = _median(scanned)
            label = _label(size)
            extra = {
                "insured": facts["persons"],
                "journal_transactions": facts["journal_transactions"],
                "journal_entries": facts["journal_entries"],
                "monthly_credits": facts["monthly_credits"],
                "db_mb": facts["db_mb"],
                "fill_s": round(seconds),
                "index_levels": facts["index_levels"],
            }
            rows[f"settlement_{label}"] = row(
                st,
                **extra,
                buffer_hit_ratio=st_hits,
                rounds_cpu_ms=st_rounds,
                workers=settle_bench.WORKERS,
                clients=settle_bench.CLIENTS,
            )
            rows[f"scan_{label}"] = row(
                sc,
                **extra,
                buffer_hit_ratio=sc_hits,
                rounds_cpu_ms=sc_rounds,
                workers=scan_bench.WORKERS,
                threads=scan_bench.THREADS,
                clients=scan_bench.CLIENTS,
            )
            facts_lines.append(
                [
                    label,
                    f"{facts['persons']:,}",
                    f"{facts['journal_transactions']:,}",
                    f"{facts['journal_entries']:,}",
                    f"{facts['monthly_credits']:,}",
                    f"{facts['db_mb']:,}",
                    f"{seconds:.0f}",
                    " ".join(f"{v}" for v in facts["index_levels"].values()) or "n/a",
                ]
            )
            for name, r, hits, cpus in (
                (f"settlement_{label}", st, st_hits, st_rounds),
                (f"scan_{label}", sc, sc_hits, sc_rounds),
            ):
                lines.append(
                    [
                        name,
                        f"{facts['persons']:,}",
                        " / ".join(f"{c:.2f}" for c in cpus),
                        ms(r.app_cpu_ms),
                        ms(r.pg_cpu_ms),
                        "n/a" if hits is None else f"{hits:.2%}",
                        f"{r.rate:.0f}",
                        f"{r.pct(50):.1f}",
                        f"{r.pct(99):.1f}",
                        f"{r.rss_mb or 0:.0f}",
                        r.errors,
                    ]
                )
            save(rows)
    print()
    print(
        table(
            [
                "size",
                "persons",
                "journal transactions",
                "journal entries",
                "monthly credits",
                "database MB",
                "fill s",
                "index levels (" + ", ".join(INDEXES) + ")",
            ],
            facts_lines,
        )
    )
    print()
    print(
        table(
            [
                "row",
                "persons",
                "app+PG CPU ms/req, each round",
                "app CPU ms/req",
                "PG CPU ms/req",
                "buffer hits",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "RSS MB/worker",
                "errors",
            ],
            lines,
        )
    )
    print(
        "\nCPU columns: the round with the median app+PG CPU per request"
        f" ({ROUNDS} rounds of {SETTLEMENTS} settlements / {SCANS} scans after a warm-up);"
        " buffer hits: shared-buffer hit ratio of the database during the measured rounds."
        "\nfigures also in bench/results.json (`python -m bench aims` compares the sizes)"
    )


def _count(url: str, table_name: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(text(f"SELECT count(*) FROM {table_name}")).scalar() or 0)  # noqa: S608
    engine.dispose()
    return n


if __name__ == "__main__":
    main()
