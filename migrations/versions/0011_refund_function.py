"""the refund as one PL/pgSQL call (issue 14): ec_refund, PostgreSQL only

Revision ID: 0011_refund_function
Revises: 0010_merge
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from server.settlement.refund_call import INSTALL, UNINSTALL

revision: str = "0011_refund_function"
down_revision: str | Sequence[str] | None = "0010_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite refunds with the Python reference (server/settlement/refunds.py)
    for statement in INSTALL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UNINSTALL:
        op.execute(statement)
