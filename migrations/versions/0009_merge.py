"""merge the settlement function and the terminal revocation branches

Revision ID: 0009_merge
Revises: 0008_settle_function, 0008_terminal_revoked_at
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_merge"
down_revision: str | Sequence[str] | None = ("0008_settle_function", "0008_terminal_revoked_at")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
