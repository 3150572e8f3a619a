"""What must hold after every scenario, read straight from the database."""

from __future__ import annotations

from sqlalchemy import create_engine, text

CHECKS = {
    "order settled twice": """
        SELECT count(*) FROM (SELECT institution_id, order_no FROM settlements
        GROUP BY institution_id, order_no HAVING count(*) > 1) d""",
    "settlement journalled twice or not at all": """
        SELECT count(*) FROM settlements s
        WHERE (SELECT count(*) FROM journal_transactions t
               WHERE t.reference = 'settlement:' || s.id) <> 1""",
    "journal transaction for no settlement": """
        SELECT count(*) FROM journal_transactions t
        WHERE t.reference LIKE 'settlement:%'
          AND NOT EXISTS (SELECT 1 FROM settlements s WHERE t.reference = 'settlement:' || s.id)""",
    "debit differs from the settlement": """
        SELECT count(*) FROM settlements s
        WHERE s.personal_account_fen + s.mutual_aid_fen <> -(
            SELECT coalesce(sum(e.amount_fen), 0) FROM journal_entries e
            JOIN journal_transactions t ON t.id = e.transaction_id
            WHERE t.reference = 'settlement:' || s.id AND e.account_id IS NOT NULL)""",
    "journal transaction not summing to zero": """
        SELECT count(*) FROM (SELECT transaction_id FROM journal_entries
        GROUP BY transaction_id HAVING sum(amount_fen) <> 0) d""",
    "balance differs from its entries": """
        SELECT count(*) FROM accounts a
        WHERE a.balance_fen <> (SELECT coalesce(sum(e.amount_fen), 0) FROM journal_entries e
                                WHERE e.account_id = a.id)""",
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
