"""merge the HIS prescription number into the line

Revision ID: 0010_merge
Revises: 0009_merge, 0008_his_rxno
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_merge"
down_revision: str | Sequence[str] | None = ("0009_merge", "0008_his_rxno")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
