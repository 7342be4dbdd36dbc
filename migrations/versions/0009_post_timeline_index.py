"""post(user_id, timestamp, id) index carries hidden_at, so timelines page from the index alone

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 07:20:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Build the new index before dropping the old one: timelines keep an index all along.
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_user_id_timestamp_id_hidden_at', ['user_id', 'timestamp', 'id', 'hidden_at'])
        batch_op.drop_index('ix_post_user_id_timestamp_id')


def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_user_id_timestamp_id', ['user_id', 'timestamp', 'id'])
        batch_op.drop_index('ix_post_user_id_timestamp_id_hidden_at')
