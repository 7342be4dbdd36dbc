"""OAuth 2 for Mastodon apps: oauth_application, oauth_authorization_code, oauth_access_token

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('client_secret_digest', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=True),
    sa.Column('redirect_uris', sa.String(length=4000), nullable=False),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_oauth_application_owner_id_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_application')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_application_client_id'))
    )
    with op.batch_alter_table('oauth_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_application_owner_id'), ['owner_id'], unique=False)

    op.create_table('oauth_authorization_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('redirect_uri', sa.String(length=1000), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_application.id'],
                            name=op.f('fk_oauth_authorization_code_application_id_oauth_application'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_oauth_authorization_code_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_authorization_code')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_oauth_authorization_code_code_digest'))
    )
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_authorization_code_application_id'), ['application_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_code_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_access_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_digest', sa.String(length=64), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('scopes', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_application.id'],
                            name=op.f('fk_oauth_access_token_application_id_oauth_application'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_oauth_access_token_user_id_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_access_token')),
    sa.UniqueConstraint('refresh_token_digest', name=op.f('uq_oauth_access_token_refresh_token_digest')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_oauth_access_token_token_digest'))
    )
    with op.batch_alter_table('oauth_access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_access_token_application_id'), ['application_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_access_token_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_access_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_access_token_application_id'))
    op.drop_table('oauth_access_token')
    with op.batch_alter_table('oauth_authorization_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_code_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_code_application_id'))
    op.drop_table('oauth_authorization_code')
    with op.batch_alter_table('oauth_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_application_owner_id'))
    op.drop_table('oauth_application')
