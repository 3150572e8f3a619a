"""What must hold after every scenario, read straight from the database."""

from __future__ import annotations

from sqlalchemy import create_engine, text

CHECKS = {
    "order settled twice": """
        SELECT count(*) FROM (SELECT institution_id, order_no FROM settlements
        GROUP BY institution_id, order_no HAVING count(*) > 1) d""",
    # Set-wise (grouped, then joined): a subquery per settlement read the journal once per row,
    # and without an index on `reference` (0014: nothing in the app looks one up by it) that was
    # quadratic, minutes after a few thousand settlements.
    "settlement journalled twice or not at all": """
        SELECT count(*) FROM settlements s
        LEFT JOIN (SELECT reference, count(*) AS n FROM journal_transactions
                   WHERE reference LIKE 'settlement:%' GROUP BY reference) t
          ON t.reference = 'settlement:' || s.id
        WHERE coalesce(t.n, 0) <> 1""",
    "journal transaction for no settlement": """
        SELECT count(*) FROM journal_transactions t
        WHERE t.reference LIKE 'settlement:%'
          AND NOT EXISTS (SELECT 1 FROM settlements s WHERE t.reference = 'settlement:' || s.id)""",
    "debit differs from the settlement": """
        SELECT count(*) FROM settlements s
        LEFT JOIN (SELECT t.reference, sum(e.amount_fen) AS fen FROM journal_entries e
                   JOIN journal_transactions t ON t.id = e.transaction_id
                   WHERE t.reference LIKE 'settlement:%' AND e.account_id IS NOT NULL
                   GROUP BY t.reference) d
          ON d.reference = 'settlement:' || s.id
        WHERE s.personal_account_fen + s.mutual_aid_fen <> -coalesce(d.fen, 0)""",
    "journal transaction not summing to zero": """
        SELECT count(*) FROM (SELECT transaction_id FROM journal_entries
        GROUP BY transaction_id HAVING sum(amount_fen) <> 0) d""",
    "balance differs from its entries": """
        SELECT count(*) FROM accounts a
        LEFT JOIN (SELECT account_id, sum(amount_fen) AS fen FROM journal_entries
                   WHERE account_id IS NOT NULL GROUP BY account_id) e ON e.account_id = a.id
        WHERE a.balance_fen <> coalesce(e.fen, 0)""",
}


def ledger_failures(database_url: str) -> dict[str, int]:
    """Each check's count of offending rows; {} when all hold. The journal's grand total is
    checked too (it must be zero)."""
    engine = create_engine(database_url)
    out: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            for name, sql in CHECKS.items():
                n = int(conn.execute(text(sql)).scalar_one())
                if n:
                    out[name] = n
            total = int(
                conn.execute(
                    text("SELECT coalesce(sum(amount_fen), 0) FROM journal_entries")
                ).scalar_one()
            )
            if total:
                out["journal total is not zero"] = total
    finally:
        engine.dispose()
    return out


def settled_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM settlements")).scalar_one())
    finally:
        engine.dispose()
