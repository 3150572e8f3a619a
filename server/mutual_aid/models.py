"""Tables of family mutual aid (家庭共济): a holder's filings (备案) of beneficiaries.

A filing is never deleted: withdrawal stamps `withdrawn_at`. `position` is the beneficiary's
own order over the filings that name them (002: the beneficiary may change it).

DOMAIN.md: "Family mutual aid (家庭共济)".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class MutualAidFiling(Base):
    """A holder's personal account that a filed spouse, parent or child may draw on."""

    __tablename__ = "mutual_aid_filings"
    __table_args__ = (
        Index(
            "uq_mutual_aid_filings_one_live_filing",
            "holder_person_id",
            "beneficiary_person_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
        Index("ix_mutual_aid_filings_beneficiary_order", "beneficiary_person_id", "position"),
        CheckConstraint("relation IN ('spouse', 'parent', 'child')", name="relation_allowed"),
        CheckConstraint("holder_person_id <> beneficiary_person_id", name="not_oneself"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # beneficiary_id / source_id
    holder_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    beneficiary_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(16))  # what the beneficiary is to the holder
    position: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
