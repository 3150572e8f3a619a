"""The cards table. DOMAIN.md, "The e-credential": the e-credential keeps working while a card
is reported lost or being replaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class Card(Base):
    """A card of one person; at most one active card per person (a new card replaces it)."""

    __tablename__ = "cards"
    __table_args__ = (
        Index(
            "uq_cards_one_active_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    card_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # active | lost | replaced
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
