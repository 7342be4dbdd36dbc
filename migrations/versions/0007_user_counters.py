"""user counters (posts, followers, following), backfilled; follow-list indexes for keyset pages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 06:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('post_count', 'follower_count', 'following_count')


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.create_index('ix_followers_followed_id_created_at', ['followed_id', 'created_at', 'follower_id'])
        batch_op.create_index('ix_followers_follower_id_created_at', ['follower_id', 'created_at', 'followed_id'])
    # Exact counts for the rows already there (the services keep them exact from now on).
    op.execute(
        'UPDATE "user" SET '
        'post_count = (SELECT count(*) FROM post WHERE post.user_id = "user".id), '
        'follower_count = (SELECT count(*) FROM followers WHERE followers.followed_id = "user".id), '
        'following_count = (SELECT count(*) FROM followers WHERE followers.follower_id = "user".id)'
    )


def downgrade():
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.drop_index('ix_followers_follower_id_created_at')
        batch_op.drop_index('ix_followers_followed_id_created_at')
    with op.batch_alter_table('user', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
