"""A premium paid from a personal account for one insured person and product, once a year.

DOMAIN.md: "The personal account (个人账户) and who pays what".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class SupplementaryPurchase(Base):
    __tablename__ = "supplementary_purchases"
    __table_args__ = (UniqueConstraint("insured_person_id", "product_code", "year"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payer_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    insured_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    product_code: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)  # Beijing year of purchase
    premium_fen: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"))
    purchased_at: Mapped[datetime] = mapped_column(UtcDateTime)
