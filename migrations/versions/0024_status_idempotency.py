"""Idempotency keys of POST /api/v1/statuses: status_idempotency

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('status_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_status_idempotency_post_id_post'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_status_idempotency_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_idempotency')),
    sa.UniqueConstraint('user_id', 'digest', name='uq_status_idempotency_user_id_digest')
    )
    with op.batch_alter_table('status_idempotency', schema=None) as batch_op:
        batch_op.create_index('ix_status_idempotency_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_idempotency_post_id'), ['post_id'], unique=False)


def downgrade():
    with op.batch_alter_table('status_idempotency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_idempotency_post_id'))
        batch_op.drop_index('ix_status_idempotency_created_at')

    op.drop_table('status_idempotency')
