"""The person's year (年度累计): accumulators per person, pool and Beijing calendar year.

Issue 11; docs/benefit-policy.md, "Accumulators and refunds". A row always equals the sum of the
recorded deltas of the person's settlements in that pool and year that were not refunded.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class BenefitYear(Base):
    __tablename__ = "benefit_years"
    __table_args__ = (
        CheckConstraint("deductible_used_fen >= 0", name="deductible_not_negative"),
        CheckConstraint("fund_paid_fen >= 0", name="fund_paid_not_negative"),
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    pool: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    deductible_used_fen: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=text("0")
    )
    fund_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
