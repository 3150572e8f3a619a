"""The e-credential's own tables: offline kits (a device key attested for a handle) and scan tokens.

The `credentials` table itself is in server/db/models.py. QR.md points 1, 4, 6, 7.

DOMAIN.md: "The e-credential", "Family proxy accounts (亲情账户)".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class OfflineKit(Base):
    """One attestation the server signed: `device_public_key` may present `handle` until
    `expires_at`. A server-held kit backs GET /credential/qr (thin clients): its device key is
    derived from the signing key that attested it and never stored."""

    __tablename__ = "offline_kits"
    __table_args__ = (Index("ix_offline_kits_kid_expires_at", "kid", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handle: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    # The credential whose revocation kills this kit: the holder's own, also for proxy codes
    # (a lost phone takes the family codes on it along).
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))  # whose code it is
    presenter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    member_id: Mapped[str | None] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(16))
    kid: Mapped[str] = mapped_column(String(16))
    attestation: Mapped[bytes] = mapped_column(LargeBinary)  # the signed COSE_Sign1, public
    device_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    is_server_held: Mapped[bool] = mapped_column(Boolean)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Server-held kits: the last counter put in a code. Every kit: the last counter accepted.
    issued_counter: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    last_counter: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class ScanToken(Base):
    """What one accepted scan grants its institution for 10 minutes: one settlement."""

    __tablename__ = "scan_tokens"
    # A token is updated once, by the settlement that uses it up (`used_at`, in no index): a
    # tenth of each page kept free lets that update stay on its page (HOT), adding no entry to
    # the indexes (migration 0014).
    __table_args__ = ({"postgresql_with": {"fillfactor": 90}},)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex
    kit_id: Mapped[str] = mapped_column(ForeignKey("offline_kits.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    presented_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    relation: Mapped[str | None] = mapped_column(String(16))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    terminal_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
