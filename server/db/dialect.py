"""The one place that picks a dialect's INSERT, for ON CONFLICT (upserts, claim-once markers).

SQLAlchemy's portable `insert` has no ON CONFLICT; PostgreSQL's and SQLite's do, with the same
`on_conflict_do_nothing` / `on_conflict_do_update` / `returning`. Serves every DOMAIN.md section
whose rows are claimed once (credits, interest, system accounts, the short-lived store).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_for(bind: Session | Engine | Connection) -> Any:
    """The `insert` of the bind's dialect: PostgreSQL's, else SQLite's (the only two we run on).

    Typed Any: the two dialects' Insert classes share the ON CONFLICT methods but no base class
    that declares them.
    """
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
