"""Federation: remote accounts and posts as rows with an origin, keys, locked accounts and follow
requests, received activities, deliveries, what we know of other servers, the site's own key

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 20:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

URI = 2048
USER_COLUMNS = (
    ('locked', sa.Boolean(), dict(server_default=sa.false(), nullable=False)),
    ('domain', sa.String(length=255), {}),
    ('actor_uri', sa.String(length=URI), {}),
    ('inbox_url', sa.String(length=URI), {}),
    ('shared_inbox_url', sa.String(length=URI), {}),
    ('followers_url', sa.String(length=URI), {}),
    ('profile_url', sa.String(length=URI), {}),
    ('avatar_url', sa.String(length=URI), {}),
    ('display_name', sa.String(length=100), {}),
    ('key_id', sa.String(length=URI), {}),
    ('public_key_pem', sa.Text(), {}),
    ('private_key_pem', sa.Text(), {}),
    ('fetched_at', sa.DateTime(timezone=True), {}),
    ('moved_to_id', sa.Integer(), {}),
    ('also_known_as', sa.Text(), {}),
)
POST_COLUMNS = (
    ('uri', sa.String(length=URI)),
    ('url', sa.String(length=URI)),
    ('content_html', sa.Text()),
    ('remote_attachments', sa.Text()),
)


def upgrade():
    # Plain ADD COLUMN (no batch): a batch copy of "user" on SQLite would lose its expression index
    # (lower(username)) and, with foreign keys on, cascade to every table naming it.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name, type_, options in USER_COLUMNS:
        op.add_column('user', sa.Column(name, type_, nullable=options.get('nullable', True),
                                         server_default=options.get('server_default')))
    # A remote account's username is "name@domain": the column grows from 32 to 300 characters.
    if sqlite:
        # In place: a wider copy of the column replaces it, then the case-blind unique index is remade.
        op.execute("ALTER TABLE user ADD COLUMN username_wide VARCHAR(300) NOT NULL DEFAULT ''")
        op.execute('UPDATE user SET username_wide = username')
        op.execute('DROP INDEX uq_user_username_lower')
        op.execute('ALTER TABLE user DROP COLUMN username')
        op.execute('ALTER TABLE user RENAME COLUMN username_wide TO username')
        op.execute('CREATE UNIQUE INDEX uq_user_username_lower ON user (lower(username))')
    else:
        op.alter_column('user', 'username', type_=sa.String(length=300))
    op.create_index(op.f('ix_user_domain'), 'user', ['domain'])
    op.create_index(op.f('ix_user_actor_uri'), 'user', ['actor_uri'], unique=True)
    op.create_index(op.f('ix_user_key_id'), 'user', ['key_id'], unique=True)
    for name, type_ in POST_COLUMNS:
        op.add_column('post', sa.Column(name, type_, nullable=True))
    op.create_index(op.f('ix_post_uri'), 'post', ['uri'], unique=True)

    op.create_table('follow_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follower_id', sa.Integer(), nullable=False),
    sa.Column('followed_id', sa.Integer(), nullable=False),
    sa.Column('activity_uri', sa.String(length=URI), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['follower_id'], ['user.id'], name=op.f('fk_follow_request_follower_id_user'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['followed_id'], ['user.id'], name=op.f('fk_follow_request_followed_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_request')),
    sa.UniqueConstraint('follower_id', 'followed_id', name=op.f('uq_follow_request_follower_id'))
    )
    op.create_index(op.f('ix_follow_request_followed_id'), 'follow_request', ['followed_id'])
    op.create_table('inbox_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=URI), nullable=False),
    sa.Column('actor_uri', sa.String(length=URI), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_inbox_activity_recipient_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_activity')),
    sa.UniqueConstraint('uri', name=op.f('uq_inbox_activity_uri'))
    )
    op.create_index(op.f('ix_inbox_activity_received_at'), 'inbox_activity', ['received_at'])
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inbox_url', sa.String(length=URI), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sender_id'], ['user.id'], name=op.f('fk_delivery_sender_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery'))
    )
    op.create_index('ix_delivery_status_next_attempt_at', 'delivery', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_delivery_domain'), 'delivery', ['domain'])
    op.create_table('instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unavailable_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_media', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('block_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance')),
    sa.UniqueConstraint('domain', name=op.f('uq_instance_domain'))
    )
    op.create_table('site_key',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_site_key'))
    )


def downgrade():
    op.drop_table('site_key')
    op.drop_table('instance')
    op.drop_index('ix_delivery_status_next_attempt_at', table_name='delivery')
    op.drop_index(op.f('ix_delivery_domain'), table_name='delivery')
    op.drop_table('delivery')
    op.drop_index(op.f('ix_inbox_activity_received_at'), table_name='inbox_activity')
    op.drop_table('inbox_activity')
    op.drop_index(op.f('ix_follow_request_followed_id'), table_name='follow_request')
    op.drop_table('follow_request')
    op.drop_index(op.f('ix_post_uri'), table_name='post')
    for name, _type in reversed(POST_COLUMNS):
        op.drop_column('post', name)
    op.drop_index(op.f('ix_user_key_id'), table_name='user')
    op.drop_index(op.f('ix_user_actor_uri'), table_name='user')
    op.drop_index(op.f('ix_user_domain'), table_name='user')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DELETE FROM "user" WHERE domain IS NOT NULL')  # remote accounts' names do not fit
        op.alter_column('user', 'username', type_=sa.String(length=32))
    else:
        op.execute('DELETE FROM user WHERE domain IS NOT NULL')
    for name, _type, _options in reversed(USER_COLUMNS):
        op.drop_column('user', name)
