"""family: proxy bindings and mutual-aid filings

Revision ID: 0004_family
Revises: 0001_foundation
Create Date: 2026-11-24 23:54:04.174090
"""

from alembic import op
import sqlalchemy as sa
import server.db.types


revision = '0004_family'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mutual_aid_filings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('holder_person_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_person_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filed_at', server.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('effective_at', server.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', server.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("relation IN ('spouse', 'parent', 'child')", name=op.f('ck_mutual_aid_filings_relation_allowed')),
    sa.CheckConstraint('holder_person_id <> beneficiary_person_id', name=op.f('ck_mutual_aid_filings_not_oneself')),
    sa.ForeignKeyConstraint(['beneficiary_person_id'], ['persons.id'], name=op.f('fk_mutual_aid_filings_beneficiary_person_id_persons')),
    sa.ForeignKeyConstraint(['holder_person_id'], ['persons.id'], name=op.f('fk_mutual_aid_filings_holder_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutual_aid_filings'))
    )
    with op.batch_alter_table('mutual_aid_filings', schema=None) as batch_op:
        batch_op.create_index('ix_mutual_aid_filings_beneficiary_order', ['beneficiary_person_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_mutual_aid_filings_holder_person_id'), ['holder_person_id'], unique=False)
        batch_op.create_index('uq_mutual_aid_filings_one_live_filing', ['holder_person_id', 'beneficiary_person_id'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('family_members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('bound_at', server.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('unbound_at', server.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("relation IN ('spouse', 'parent', 'child', 'grandparent', 'grandchild', 'sibling')", name=op.f('ck_family_members_relation_known')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_family_members_person_id_persons')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_family_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_members'))
    )
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_members_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_members_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_family_members_one_live_binding', ['user_id', 'person_id'], unique=True, sqlite_where=sa.text('unbound_at IS NULL'), postgresql_where=sa.text('unbound_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_index('uq_family_members_one_live_binding', sqlite_where=sa.text('unbound_at IS NULL'), postgresql_where=sa.text('unbound_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_family_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_family_members_person_id'))

    op.drop_table('family_members')
    with op.batch_alter_table('mutual_aid_filings', schema=None) as batch_op:
        batch_op.drop_index('uq_mutual_aid_filings_one_live_filing', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_mutual_aid_filings_holder_person_id'))
        batch_op.drop_index('ix_mutual_aid_filings_beneficiary_order')

    op.drop_table('mutual_aid_filings')
