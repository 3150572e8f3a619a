"""Institutions and terminals: registration by the agency, sign-in of a terminal.

A terminal's secret is 256 random bits shown once; only an HMAC of it (with the pepper) is kept,
which is enough for a secret that cannot be guessed (a slow hash is for human passwords).

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.audit import record
from server.db.models import Institution, Terminal
from server.errors import InstitutionExistsError, NotFoundError, UnauthorizedError
from server.uow import UnitOfWork


def _secret_digest(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, f"terminal:{secret}".encode(), hashlib.sha256).hexdigest()


# A hospital registered without a level is level 3 (三级); a pharmacy has none of its own.
DEFAULT_HOSPITAL_LEVEL = "3"


def create_institution(
    uow: UnitOfWork, *, code: str, name: str, kind: str, actor: str, level: str | None = None
) -> Institution:
    """Register a designated hospital or pharmacy; a taken code is refused.

    `level` (community, 1, 2, 3) defaults to 3 for a hospital and to none for a pharmacy.
    """
    session, now = uow.session, uow.clock.now()
    if level is None and kind == "hospital":
        level = DEFAULT_HOSPITAL_LEVEL
    try:
        with session.begin():
            institution = Institution(code=code, name=name, kind=kind, level=level, created_at=now)
            session.add(institution)
            session.flush()
            record(session, at=now, actor=actor, action="institution.created", subject=code)
    except IntegrityError as exc:
        raise InstitutionExistsError(field="code") from exc
    return institution


@dataclass(frozen=True)
class NewTerminal:
    terminal_id: str
    secret: str


def create_terminal(uow: UnitOfWork, *, institution_code: str, actor: str) -> NewTerminal:
    session, now, pepper = uow.session, uow.clock.now(), uow.settings.password_pepper
    secret = secrets.token_urlsafe(32)
    with session.begin():
        institution = session.scalar(
            select(Institution).where(Institution.code == institution_code)
        )
        if institution is None:
            raise NotFoundError("No institution with this code")
        terminal = Terminal(
            id=str(uuid.uuid4()),
            institution_id=institution.id,
            secret_hash=_secret_digest(pepper, secret),
            created_at=now,
        )
        session.add(terminal)
        record(
            session,
            at=now,
            actor=actor,
            action="terminal.created",
            subject=terminal.id,
            institution=institution_code,
        )
    return NewTerminal(terminal.id, secret)


@dataclass(frozen=True)
class TerminalIdentity:
    terminal_id: str
    institution_id: int
    institution_code: str


def authenticate_terminal(uow: UnitOfWork, *, terminal_id: str, secret: str) -> TerminalIdentity:
    session, pepper = uow.session, uow.settings.password_pepper
    with session.begin():
        row = session.execute(
            select(Terminal, Institution).join(Institution).where(Terminal.id == terminal_id)
        ).first()
    expected = row[0].secret_hash if row else _secret_digest(pepper, secrets.token_hex(8))
    if not hmac.compare_digest(expected, _secret_digest(pepper, secret)) or row is None:
        raise UnauthorizedError("Unknown terminal or wrong secret")
    return TerminalIdentity(row[0].id, row[1].id, row[1].code)
