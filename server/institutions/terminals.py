"""The agency's view of the scanners: list them, revoke one.

A revoked terminal can neither sign in again (its secret digest is overwritten, so no secret
matches) nor keep using an access token it already holds. `terminals.revoked_at` is the durable
truth; revocation also marks the terminal in the store for as long as such a token can live (a
durable key: server/ports/store.py DURABLE_PREFIXES keeps it in the database even beside Redis),
and server/auth/tokens.py refuses tokens of a marked terminal with TOKEN_REVOKED. The hot routes
(scan, settlement, refund; issue 14) read `revoked_at` in their own statement instead of the
mark: one read fewer, and the same refusal.

DOMAIN.md: "Who uses it".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server.audit import record
from server.db.models import Institution, Terminal
from server.errors import NotFoundError
from server.ports.store import ShortLivedStore
from server.uow import UnitOfWork

# Longer than any access token lives (at most 15 minutes, server/config.py), with clock leeway.
_MARK_SLACK_SECONDS = 120


def revoked_key(terminal_id: str) -> str:
    return f"terminal:revoked:{terminal_id}"


def is_marked_revoked(store: ShortLivedStore, terminal_id: str) -> bool:
    """Whether tokens of this terminal are refused (fails closed when the store is down)."""
    return store.get(revoked_key(terminal_id)) is not None


@dataclass(frozen=True)
class TerminalView:
    terminal_id: str
    institution_code: str
    institution_name: str
    created_at: datetime
    revoked_at: datetime | None


def list_terminals(uow: UnitOfWork, *, institution_code: str | None = None) -> list[TerminalView]:
    """Every terminal (of one institution when a code is given), newest first."""
    query = select(Terminal, Institution).join(Institution)
    if institution_code is not None:
        query = query.where(Institution.code == institution_code)
    query = query.order_by(Terminal.created_at.desc(), Terminal.id)
    with uow.transaction():
        rows = uow.session.execute(query).all()
        return [TerminalView(t.id, i.code, i.name, t.created_at, t.revoked_at) for t, i in rows]


def revoke_terminal(uow: UnitOfWork, *, terminal_id: str, actor: str) -> datetime:
    """Revoke a terminal: no new sign-in, and its live tokens are refused. Idempotent.

    Returns when it was revoked. Raises NOT_FOUND for an unknown terminal.
    """
    session, now = uow.session, uow.clock.now()
    with uow.transaction():
        terminal = session.get(Terminal, terminal_id, with_for_update=True)
        if terminal is None:
            raise NotFoundError("No terminal with this id")
        if terminal.revoked_at is None:
            terminal.revoked_at = now
            # Not a hex digest, so no secret's digest can ever match it.
            terminal.secret_hash = f"revoked:{secrets.token_hex(16)}"
            record(session, at=now, actor=actor, action="terminal.revoked", subject=terminal_id)
        revoked_at = terminal.revoked_at
    # After the commit (the store is never called inside the money transaction's kind of lock).
    ttl = uow.settings.access_token_seconds + _MARK_SLACK_SECONDS
    uow.store.put(revoked_key(terminal_id), "1", ttl)
    return revoked_at
