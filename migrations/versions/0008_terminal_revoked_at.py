"""terminal revocation: terminals.revoked_at

The agency desk revokes a lost or retired scanner; a revoked terminal can no longer sign in.

Revision ID: 0008_terminal_revoked_at
Revises: 0007_merge
Create Date: 2026-12-01 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import server.db.types


revision = '0008_terminal_revoked_at'
down_revision = '0007_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', server.db.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('terminals', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
