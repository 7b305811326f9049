"""indexer lease, taxonomy undo, search log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('q', sa.String(length=500), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('took_ms', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_log_at'), ['at'], unique=False)

    with op.batch_alter_table('indexer_checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('taxonomy_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('before', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('undone_by', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('taxonomy_history', schema=None) as batch_op:
        batch_op.drop_column('undone_by')
        batch_op.drop_column('before')
        batch_op.drop_column('at')

    with op.batch_alter_table('indexer_checkpoints', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('owner')

    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_log_at'))

    op.drop_table('search_log')
