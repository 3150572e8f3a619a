"""merge the refund function and the lean settlement function

Revision ID: 0012_merge
Revises: 0011_refund_function, 0011_settle_lean
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_merge"
down_revision: str | Sequence[str] | None = ("0011_refund_function", "0011_settle_lean")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
