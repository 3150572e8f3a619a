"""`python -m bench aims`: read bench/results.json and print each aim of issue 14 with its measured
ratio and PASS / MISS (or NOT RUN when a row is missing). Informative only: no test asserts it,
because a shared machine's figures move; the ratios and CPU figures come from one run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.common import RESULTS, table

Rows = dict[str, dict[str, Any]]


def _aims() -> list[tuple[str, str, float, Callable[[Rows], float]]]:
    """(aim, how measured, limit, figure); figure <= limit passes, except "at least" aims which
    are written as a figure that must not exceed the limit (so all compare the same way)."""

    def scan_ceiling(r: Rows) -> dict[str, Any]:
        return r.get("bare_scan_setup") or r["bare"]

    return [
        (
            "settlement rate at least 0.8x the thin reference",
            "thin rate / settlement rate (at most 1.25)",
            1 / 0.8,
            lambda r: r["thin_settlement"]["rate"] / r["settlement"]["rate"],
        ),
        (
            "settlement app CPU at most 3x a bare endpoint's",
            "settlement app_cpu_ms / bare app_cpu_ms",
            3.0,
            lambda r: r["settlement"]["app_cpu_ms"] / r["bare"]["app_cpu_ms"],
        ),
        (
            "settlement PostgreSQL CPU at most 1.7x a pgbench TPC-B transaction's",
            "settlement pg_cpu_ms / pgbench pg_cpu_ms",
            1.7,
            lambda r: r["settlement"]["pg_cpu_ms"] / r["pgbench"]["pg_cpu_ms"],
        ),
        (
            "settlement at most 2 round trips",
            "PostgreSQL round trips per settlement",
            2.0,
            lambda r: r["settlement"]["round_trips"],
        ),
        (
            "settlement p99 under load at most 3x p50",
            "settlement p99_ms / p50_ms",
            3.0,
            lambda r: r["settlement"]["p99_ms"] / r["settlement"]["p50_ms"],
        ),
        (
            "scan at most 2 PostgreSQL round trips",
            "PostgreSQL round trips per scan",
            2.0,
            lambda r: r["scan"]["round_trips"],
        ),
        (
            "scan at most 1 Redis call",
            "Redis round trips per scan",
            1.0,
            lambda r: r["scan"]["redis_calls"],
        ),
        (
            "scan app CPU at most bare + verification + 0.5 ms",
            "scan app_cpu_ms - (bare app_cpu_ms + verify_ms + 0.5), at most 0",
            0.0,
            lambda r: (
                r["scan"]["app_cpu_ms"]
                - (scan_ceiling(r)["app_cpu_ms"] + r["scan"]["verify_ms"] + 0.5)
            ),
        ),
        (
            "settlement CPU within 1.3x from 10,000 to 1,000,000 insured",
            "settlement_1m app+pg CPU / settlement_10k's (bench/scale.py, one run)",
            1.3,
            lambda r: _cpu(r["settlement_1m"]) / _cpu(r["settlement_10k"]),
        ),
        (
            "scan CPU within 1.3x from 10,000 to 1,000,000 insured",
            "scan_1m app+pg CPU / scan_10k's (bench/scale.py, one run)",
            1.3,
            lambda r: _cpu(r["scan_1m"]) / _cpu(r["scan_10k"]),
        ),
        (
            "memory per worker at most 150 MB",
            "largest settlement worker's RSS after the run, MB",
            150.0,
            lambda r: r["settlement"]["rss_mb_per_worker"],
        ),
        (
            "memory per worker at most 150 MB, 1,000,000 insured",
            "largest worker's RSS after scale's settlement_1m and scan_1m runs, MB",
            150.0,
            lambda r: max(
                r["settlement_1m"]["rss_mb_per_worker"], r["scan_1m"]["rss_mb_per_worker"]
            ),
        ),
    ]


def _cpu(row: dict[str, Any]) -> float:
    """App + PostgreSQL CPU milliseconds per request of a results.json row."""
    return float(row["app_cpu_ms"]) + float(row["pg_cpu_ms"])


def main() -> None:
    if not RESULTS.exists():
        print("no bench/results.json yet: run `python -m bench settle scan` first")
        return
    rows: Rows = json.loads(RESULTS.read_text())
    lines = []
    for aim, how, limit, figure in _aims():
        try:
            value = figure(rows)
        except (KeyError, TypeError, ZeroDivisionError):
            value = None
        if value is None:
            lines.append([aim, how, "n/a", f"{limit:g}", "NOT RUN"])
            continue
        lines.append([aim, how, f"{value:.2f}", f"{limit:g}", "PASS" if value <= limit else "MISS"])
    card = rows.get("card_settlement")
    if card:
        lines.append(
            [
                "card payments: bounded by argon2id by design (no limit)",
                "card settlements per second; app CPU ms per settlement",
                f"{card['rate']:.1f}/s; {card['app_cpu_ms']:.1f} ms",
                "-",
                "INFO",
            ]
        )
    print(table(["aim (issue 14)", "measured as", "figure", "limit", "verdict"], lines))
    dates = sorted({str(r.get("date")) for r in rows.values()})
    print(f"\nfrom bench/results.json ({', '.join(dates)})")


if __name__ == "__main__":
    main()
