"""Settlements and their refunds. Issue 5, "Settlement", "Idempotency", "Refunds".

A settlement row is the answer to one `(institution, order_no)`; its money is in the journal
(`transaction_id`). A refund is its own row, unique per settlement, so a settlement is refunded
once whatever races; the settlement row itself is never changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
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
from server.settlement import one_call


class Settlement(Base):
    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("institution_id", "order_no"),
        CheckConstraint(
            "fund_fen + personal_account_fen + mutual_aid_fen + cash_fen = total_fen",
            name="legs_add_up",
        ),
        CheckConstraint("fund_fen >= 0 AND fund_fen <= total_fen", name="fund_within_total"),
        # The institution's day (reconciliation) and a person's year (family expenses).
        Index("ix_settlements_institution_id_settled_at", "institution_id", "settled_at"),
        Index("ix_settlements_person_id_settled_at", "person_id", "settled_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    terminal_id: Mapped[str] = mapped_column(String(36))
    order_no: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the request body without the password: a retry with the same body answers this
    # settlement again, another body under the same order_no is ORDER_NO_CONFLICT.
    request_digest: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    presented_by_user_id: Mapped[int | None] = mapped_column(Integer)
    scene: Mapped[str] = mapped_column(String(32))
    medium: Mapped[str] = mapped_column(String(16))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    fund_fen: Mapped[int] = mapped_column(BigInteger)
    personal_account_fen: Mapped[int] = mapped_column(BigInteger)  # the patient's own account
    mutual_aid_fen: Mapped[int] = mapped_column(BigInteger)  # family accounts
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    # [{account_id, source: "self" or relation, holder_masked, amount_fen}], in paying order
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    password_checked: Mapped[bool] = mapped_column(Boolean)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"))
    settled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # What the benefit policy computed (issue 11), so that a refund takes off exactly this: the
    # pool and Beijing year it counted in (NULL when the terminal gave fund_fen, or for a fixed
    # amount per visit) and what it added there. docs/benefit-policy.md, "Accumulators".
    benefit_pool: Mapped[str | None] = mapped_column(String(32))
    benefit_year: Mapped[int | None] = mapped_column(Integer)
    deductible_used_delta_fen: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=text("0")
    )
    fund_paid_delta_fen: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=text("0")
    )
    fund_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SettlementRefund(Base):
    __tablename__ = "settlement_refunds"
    __table_args__ = (
        Index("ix_settlement_refunds_institution_id_refunded_at", "institution_id", "refunded_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlements.id"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    terminal_id: Mapped[str] = mapped_column(String(36))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"))
    refunded_at: Mapped[datetime] = mapped_column(UtcDateTime)


# A schema made by create_all (the tests' apps, a playground) gets the settlement function too,
# as the migrations install it (server/settlement/ec_settle.sql, read by one_call.py): after
# every create_all, also one that finds the tables already there and creates none (CREATE OR
# REPLACE), so such a schema made before the function's latest text gets it as well.
for _sql in one_call.INSTALL:
    event.listen(
        Settlement.metadata,
        "after_create",
        # DDL formats its text with %, so any % sign would be doubled (there is none).
        DDL(_sql.replace("%", "%%")).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )
