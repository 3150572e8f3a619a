"""The ledger's tables: system accounts, the append-only journal, and once-only markers.

docs/ledger.md. A personal account is the `accounts` row (server/db/models.py): its `balance_fen` is
the cached sum of its entries, updated in the same transaction as the entries and kept
non-negative by a CHECK. System accounts (the fund, cash/external, each institution, the
supplementary insurer) are the other side of every movement; they keep no cached balance, so
that no single row serializes every settlement in the city: their balance is the sum of their
entries (an index scan of `ix_journal_entries_system_account_id`).

The journal is append-only: a trigger refuses UPDATE and DELETE on both journal tables, so a
correction can only be a new, reversing transaction.

DOMAIN.md: "The personal account (个人账户) and who pays what", "Dates and money".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime

_BIGID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


class SystemAccount(Base):
    """An account that is not a person's: `fund`, `external` (cash, bank cards, WeChat, Alipay),
    `insurer` (supplementary insurance premiums) or one per institution (`institution`)."""

    __tablename__ = "system_accounts"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'institution') = (institution_id IS NOT NULL)", name="institution_link"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # fund | external | insurer | institution
    code: Mapped[str] = mapped_column(String(48), unique=True)  # "fund", "institution:3"
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalTransaction(Base):
    """One money movement; its entries sum to zero (checked in ledger.rules before writing)."""

    __tablename__ = "journal_transactions"
    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    # ledger.rules.Kind; no index: nothing reads the journal by kind (a handful of values)
    kind: Mapped[str] = mapped_column(String(16))
    business_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # What it belongs to: "settlement:<id>", "credit:2026-11", "interest:2026", "claim:<id>", ...
    # No index (migration 0014): nothing looks a transaction up by it; every row a transaction
    # belongs to (settlement, refund, credit or interest marker, premium, claim) names it by id.
    reference: Mapped[str] = mapped_column(String(80))
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_transactions.id"), unique=True
    )


class JournalEntry(Base):
    """One account's side of a transaction: exactly one of `account_id` (a person's personal
    account) and `system_account_id` is set. `balance_after_fen` is kept for personal accounts."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        CheckConstraint("(account_id IS NULL) <> (system_account_id IS NULL)", name="one_account"),
        CheckConstraint(
            "account_id IS NULL OR balance_after_fen >= 0", name="personal_balance_not_negative"
        ),
        # A person's statement, newest first (GET /api/v1/account/transactions), and balances at
        # a past moment, are index scans of this. Both indexes leave out the entries of the other
        # kind of account (migration 0014): every query names an account, and the NULLs were
        # two of a settlement's three entries, all written at the one leaf where NULLs sort.
        Index(
            "ix_journal_entries_account_id_id",
            "account_id",
            "id",
            postgresql_where=text("account_id IS NOT NULL"),
            sqlite_where=text("account_id IS NOT NULL"),
        ),
        Index(
            "ix_journal_entries_system_account_id",
            "system_account_id",
            postgresql_where=text("system_account_id IS NOT NULL"),
            sqlite_where=text("system_account_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    system_account_id: Mapped[int | None] = mapped_column(ForeignKey("system_accounts.id"))
    # What the movement is for this account: credit, interest, payment, refund, premium,
    # mutual_aid_out (a family member's bill paid from this account), reimbursement.
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int | None] = mapped_column(BigInteger)
    business_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))


class MonthlyCredit(Base):
    """Marks a person's monthly credit (划入) as done: one per account and month, even when two
    imports race (the unique key decides)."""

    __tablename__ = "monthly_credits"
    __table_args__ = (UniqueConstraint("account_id", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11", Beijing calendar
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Set in the same transaction right after the marker is claimed (never NULL once committed).
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"))


class InterestPayment(Base):
    """Marks a year's interest (结息) as paid for an account; amount 0 when it rounded to 0."""

    __tablename__ = "interest_payments"
    __table_args__ = (UniqueConstraint("account_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    year: Mapped[int] = mapped_column(Integer)
    annual_rate_bp: Mapped[int] = mapped_column(Integer)
    balance_days_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"))


# Append-only, enforced by the database (also for tables made by create_all in tests).
APPEND_ONLY_TABLES = ("journal_transactions", "journal_entries")
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql
"""


def append_only_ddl(table: str, dialect: str) -> list[str]:
    """The statements that make `table` refuse UPDATE and DELETE on `dialect`."""
    if dialect == "postgresql":
        return [
            _PG_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
        ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return []


for _table in APPEND_ONLY_TABLES:
    for _dialect in ("postgresql", "sqlite"):
        for _sql in append_only_ddl(_table, _dialect):
            event.listen(
                Base.metadata.tables[_table],
                "after_create",
                # DDL formats its text with %, so the function's own % signs are doubled.
                DDL(_sql.replace("%", "%%")).execute_if(  # type: ignore[no-untyped-call]
                    dialect=_dialect
                ),
            )
