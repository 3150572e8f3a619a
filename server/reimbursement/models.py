"""A manual claim: a visit paid in full when the system failed, decided later by the agency.

DOMAIN.md: "The e-credential", "The personal account (个人账户) and who pays what".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class ReimbursementClaim(Base):
    __tablename__ = "reimbursement_claims"
    __table_args__ = (
        CheckConstraint("fund_fen >= 0 AND fund_fen <= total_fen", name="fund_within_total"),
        Index("ix_reimbursement_claims_person_id_visit_date", "person_id", "visit_date"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    fund_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("journal_transactions.id"))
