"""Tables of family proxy accounts (亲情账户): who bound whom, and when it ended.

A binding is never deleted: unbinding stamps `unbound_at`, so the audit trail and a later
re-binding (a new `member_id`) both stay clear. At most one live binding per user and person.

DOMAIN.md: "Family proxy accounts (亲情账户)".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class FamilyMember(Base):
    """A family member an app user has bound, to show their code and see their expenses."""

    __tablename__ = "family_members"
    __table_args__ = (
        Index(
            "uq_family_members_one_live_binding",
            "user_id",
            "person_id",
            unique=True,
            sqlite_where=text("unbound_at IS NULL"),
            postgresql_where=text("unbound_at IS NULL"),
        ),
        CheckConstraint(
            "relation IN ('spouse', 'parent', 'child', 'grandparent', 'grandchild', 'sibling')",
            name="relation_known",
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the member_id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # what the member is to the user
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
