"""merge the benefit-years and HIS-interface branches

Revision ID: 0007_merge
Revises: 0006_benefit_years, 0006_his
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_merge"
down_revision: str | Sequence[str] | None = ("0006_benefit_years", "0006_his")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
