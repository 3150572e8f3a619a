"""merge the credential, ledger and family branches

Revision ID: 0005_merge
Revises: 0002_credentials, 0003_ledger, 0004_family
Create Date: 2026-11-25 00:42:30.679819
"""

from alembic import op
import sqlalchemy as sa
import server.db.types


revision = '0005_merge'
down_revision = ('0002_credentials', '0003_ledger', '0004_family')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
