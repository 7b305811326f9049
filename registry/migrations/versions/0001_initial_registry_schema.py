"""initial registry schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_feed',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('record_version', sa.Integer(), nullable=False),
    sa.Column('op', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('change_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_feed_record_id'), ['record_id'], unique=False)

    op.create_table('indexer_checkpoints',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('innovations',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('results', sa.Text(), nullable=True),
    sa.Column('priorities', sa.JSON(), nullable=False),
    sa.Column('communities', sa.JSON(), nullable=False),
    sa.Column('phase', sa.String(length=40), nullable=False),
    sa.Column('innovation_type', sa.String(length=40), nullable=False),
    sa.Column('target_groups', sa.JSON(), nullable=False),
    sa.Column('evidence_level', sa.Integer(), nullable=True),
    sa.Column('organisation', sa.String(length=300), nullable=False),
    sa.Column('province', sa.String(length=40), nullable=False),
    sa.Column('places_applied', sa.Integer(), nullable=True),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.Column('programmes', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('last_verified', sa.Date(), nullable=True),
    sa.Column('created', sa.Date(), nullable=True),
    sa.Column('contact', sa.JSON(), nullable=True),
    sa.Column('budget_eur', sa.Integer(), nullable=True),
    sa.Column('lessons_learned', sa.Text(), nullable=True),
    sa.Column('internal_notes', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('innovations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_innovations_status'), ['status'], unique=False)

    op.create_table('taxonomy_history',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('op', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('taxonomy_terms',
    sa.Column('vocabulary', sa.String(length=40), nullable=False),
    sa.Column('term_id', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label_nl', sa.String(length=300), nullable=False),
    sa.Column('label_en', sa.String(length=300), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('vocabulary', 'term_id')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('indexer_dead_letters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('change_seq', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['change_seq'], ['change_feed.seq'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('indexer_dead_letters')
    op.drop_table('users')
    op.drop_table('taxonomy_terms')
    op.drop_table('taxonomy_history')
    with op.batch_alter_table('innovations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_innovations_status'))

    op.drop_table('innovations')
    op.drop_table('indexer_checkpoints')
    with op.batch_alter_table('change_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_feed_record_id'))

    op.drop_table('change_feed')
