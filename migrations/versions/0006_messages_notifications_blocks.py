"""private messages, notifications and blocks; the new-message email setting

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 06:09:40.447380

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('block',
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocker_id <> blocked_id', name=op.f('ck_block_not_self')),
    sa.ForeignKeyConstraint(['blocked_id'], ['user.id'], name=op.f('fk_block_blocked_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['user.id'], name=op.f('fk_block_blocker_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_block'))
    )
    op.create_index('ix_block_blocked_id_blocker_id', 'block', ['blocked_id', 'blocker_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 2000', name=op.f('ck_message_body_length')),
    sa.CheckConstraint('sender_id <> recipient_id', name=op.f('ck_message_not_self')),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_message_recipient_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user.id'], name=op.f('fk_message_sender_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    op.create_index('ix_message_recipient_id_sender_id_id', 'message', ['recipient_id', 'sender_id', 'id'], unique=False)
    op.create_index('ix_message_sender_id_recipient_id_id', 'message', ['sender_id', 'recipient_id', 'id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_notification_actor_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index(op.f('ix_notification_actor_id'), 'notification', ['actor_id'], unique=False)
    op.create_index('ix_notification_user_id_id', 'notification', ['user_id', 'id'], unique=False)
    op.create_index('ix_notification_user_id_read_at', 'notification', ['user_id', 'read_at'], unique=False)

    # Plain ADD COLUMN (no batch rebuild), so SQLite keeps the lower(username) index.
    op.add_column('user', sa.Column('notify_new_message', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    op.drop_index('ix_notification_user_id_read_at', table_name='notification')
    op.drop_index('ix_notification_user_id_id', table_name='notification')
    op.drop_index(op.f('ix_notification_actor_id'), table_name='notification')
    op.drop_table('notification')
    op.drop_index('ix_message_sender_id_recipient_id_id', table_name='message')
    op.drop_index('ix_message_recipient_id_sender_id_id', table_name='message')
    op.drop_table('message')
    op.drop_index('ix_block_blocked_id_blocker_id', table_name='block')
    op.drop_table('block')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('notify_new_message')
    # SQLite rebuilds the table to drop columns and cannot carry the expression index over.
    op.execute(sa.text('DROP INDEX IF EXISTS uq_user_username_lower'))
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
