"""benefit years: accumulators, settlement deltas, institution level, person type

Issue 11 (docs/benefit-policy.md). Existing hospitals are level 3 and existing pharmacies have
no level; persons on the roster as `retiree` are retired, everybody else in service.

Revision ID: 0006_benefit_years
Revises: 0005_merge
Create Date: 2026-11-30 03:47:39.229131
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_benefit_years'
down_revision = '0005_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('benefit_years',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('pool', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('deductible_used_fen', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('fund_paid_fen', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('deductible_used_fen >= 0', name=op.f('ck_benefit_years_deductible_not_negative')),
    sa.CheckConstraint('fund_paid_fen >= 0', name=op.f('ck_benefit_years_fund_paid_not_negative')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_benefit_years_person_id_persons')),
    sa.PrimaryKeyConstraint('person_id', 'pool', 'year', name=op.f('pk_benefit_years'))
    )
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=16), nullable=True))

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_type', sa.String(length=16), server_default=sa.text("'in_service'"), nullable=False))

    op.execute("UPDATE institutions SET level = '3' WHERE kind = 'hospital'")
    op.execute("UPDATE persons SET person_type = 'retired' WHERE insurance_type = 'retiree'")

    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('benefit_pool', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('benefit_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deductible_used_delta_fen', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('fund_paid_delta_fen', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('fund_detail', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('fund_detail')
        batch_op.drop_column('fund_paid_delta_fen')
        batch_op.drop_column('deductible_used_delta_fen')
        batch_op.drop_column('benefit_year')
        batch_op.drop_column('benefit_pool')

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('person_type')

    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('level')

    op.drop_table('benefit_years')
