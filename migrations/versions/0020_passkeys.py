"""Passkeys: webauthn_credential, user.webauthn_user_handle

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webauthn_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('backup_eligible', sa.Boolean(), nullable=False),
    sa.Column('backed_up', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_webauthn_credential_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webauthn_credential'))
    )
    with op.batch_alter_table('webauthn_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webauthn_credential_credential_id'), ['credential_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_webauthn_credential_user_id'), ['user_id'], unique=False)

    # Plain ADD COLUMN and CREATE INDEX (no batch rebuild), so SQLite keeps the lower(username) index.
    op.add_column('user', sa.Column('webauthn_user_handle', sa.LargeBinary(length=64), nullable=True))
    op.create_index(op.f('ix_user_webauthn_user_handle'), 'user', ['webauthn_user_handle'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_user_webauthn_user_handle'), table_name='user')
    # In place on SQLite too (DROP COLUMN, SQLite 3.35 and newer), as 0016 does.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE user DROP COLUMN webauthn_user_handle')
    else:
        op.drop_column('user', 'webauthn_user_handle')

    with op.batch_alter_table('webauthn_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webauthn_credential_user_id'))
        batch_op.drop_index(batch_op.f('ix_webauthn_credential_credential_id'))
    op.drop_table('webauthn_credential')
