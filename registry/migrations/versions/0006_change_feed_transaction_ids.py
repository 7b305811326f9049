"""change feed: transaction id per row and in the checkpoint

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rows written before this revision get transaction id 0: they sort before
    # every later row, in seq order, as they did before
    with op.batch_alter_table('change_feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('txid', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index('ix_change_feed_txid_seq', ['txid', 'seq'], unique=False)
    with op.batch_alter_table('indexer_checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('txid', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('indexer_checkpoints', schema=None) as batch_op:
        batch_op.drop_column('txid')
    with op.batch_alter_table('change_feed', schema=None) as batch_op:
        batch_op.drop_index('ix_change_feed_txid_seq')
        batch_op.drop_column('txid')
