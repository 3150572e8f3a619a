"""The audit trail: one row per consequential action, written in the action's own transaction.

DOMAIN.md: none: the audit trail every section's actions write.
"""

from __future__ import annotations

import contextvars
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from server.db.models import AuditEvent

# Set per request by server/observability.py; services read it without knowing of Flask.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_NEW_EVENT = insert(cast(Table, AuditEvent.__table__))  # built once (hot paths)


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    **details: Any,
) -> None:
    """Add an audit row to the session's current transaction. Never pass secrets or full IDs."""
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            request_id=request_id_var.get(),
            details=details,
        )
    )


def record_now(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    **details: Any,
) -> None:
    """`record`, written at once with a prebuilt statement (for hot paths; no ORM flush).

    Same row, same transaction; only the moment the INSERT is sent differs.
    """
    session.execute(
        _NEW_EVENT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "request_id": request_id_var.get(),
            "details": details,
        },
    )
