"""his: the prescription number (rxno) of a fee line, so a pharmacy visit settles as 外配处方

Revision ID: 0008_his_rxno
Revises: 0007_merge
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_his_rxno'
down_revision = '0007_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('his_fee_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rxno', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('his_fee_lines', schema=None) as batch_op:
        batch_op.drop_column('rxno')
