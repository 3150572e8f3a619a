"""The core tables: roster, app users, credentials, institutions, tokens, audit.

Feature packages keep their own tables in their own `models.py` on the same `Base`
(server/db/base.py); `server.db.all_models` imports them all for Alembic.

DOMAIN.md: "Who uses it", "The e-credential", "Activation = real-name verification", "The personal
account (个人账户) and who pays what".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.db.types import UtcDateTime


class Admin(Base):
    """An agency clerk who signs in to /api/v1/admin."""

    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Person(Base):
    """An insured person on the agency's roster (参保人员). DOMAIN.md: Activation."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(11), index=True)
    region: Mapped[str] = mapped_column(String(6))
    insurance_type: Mapped[str] = mapped_column(String(16))
    # in_service | retired (在职 / 退休): the benefit policy's person type (docs/benefit-policy.md)
    person_type: Mapped[str] = mapped_column(
        String(16), default="in_service", server_default=text("'in_service'")
    )
    face_template: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Account(Base):
    """A person's personal account (个人账户): its balance and its payment password.

    The balance is the cached sum of the account's ledger entries; the CHECK makes a negative
    balance impossible whatever the Python code does.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance_fen >= 0", name="balance_not_negative"),
        CheckConstraint("password_free_limit_fen >= 0", name="limit_not_negative"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # argon2id(HMAC-SHA256(pepper, password)); NULL until the initial password is issued.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_is_initial: Mapped[bool] = mapped_column(Boolean, default=True)
    password_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    password_free_limit_fen: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=text("0")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class User(Base):
    """A phone-app account, signed in by SMS; linked to a Person once activated."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Credential(Base):
    """An activated e-credential. At most one active credential per person."""

    __tablename__ = "credentials"
    __table_args__ = (
        Index(
            "uq_credentials_one_active_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # active | revoked
    activated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RefreshToken(Base):
    """One issued refresh token. Tokens of one sign-in share a family; reuse revokes it."""

    __tablename__ = "refresh_tokens"
    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Institution(Base):
    """A designated hospital or pharmacy (定点医疗机构 / 定点零售药店)."""

    __tablename__ = "institutions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # hospital | pharmacy
    # community | 1 | 2 | 3 (社区 / 一、二、三级); NULL for a pharmacy, whose prescription bills
    # take the prescribing hospital's level (docs/benefit-policy.md)
    level: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Terminal(Base):
    """A scanner of one institution; it signs in with its id and a secret shown once."""

    __tablename__ = "terminals"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by the agency's revocation (server/institutions/terminals.py); the secret goes with it.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class KvEntry(Base):
    """Short-lived shared state when Redis is not configured (server/ports/store.py)."""

    __tablename__ = "kv_entries"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class AuditEvent(Base):
    """Who did what, when, on which request. Append-only; never holds a secret or full ID."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "admin:3", "user:12", "terminal:<id>"
    # No index on action (migration 0014): no query reads by it; an audit question goes by time
    # or request id.
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
