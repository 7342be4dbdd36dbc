"""users, posts and followers

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 05:24:00.095022

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('about_me', sa.String(length=500), nullable=True),
    sa.Column('role', sa.String(length=16), server_default='user', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    # Usernames are unique without regard to case.
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
    op.create_table('followers',
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('followed_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('follower_id <> followed_id', name=op.f('ck_followers_not_self')),
    sa.ForeignKeyConstraint(['followed_id'], ['user.id'], name=op.f('fk_followers_followed_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follower_id'], ['user.id'], name=op.f('fk_followers_follower_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('follower_id', 'followed_id', name=op.f('pk_followers'))
    )
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.create_index('ix_followers_followed_id_follower_id', ['followed_id', 'follower_id'], unique=False)

    op.create_table('post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 1000', name=op.f('ck_post_body_length')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_post_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post'))
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index('ix_post_timestamp_id', ['timestamp', 'id'], unique=False)
        batch_op.create_index('ix_post_user_id_timestamp_id', ['user_id', 'timestamp', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_user_id_timestamp_id')
        batch_op.drop_index('ix_post_timestamp_id')

    op.drop_table('post')
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.drop_index('ix_followers_followed_id_follower_id')

    op.drop_table('followers')
    op.drop_index('uq_user_username_lower', table_name='user')
    op.drop_table('user')
