"""user.session_version: bumped on logout, password change and reset so older cookies stop working

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 08:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch rebuild), so SQLite keeps the lower(username) index.
    op.add_column('user', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    # SQLite rebuilds the table to drop columns and cannot carry the expression index over.
    op.execute(sa.text('DROP INDEX IF EXISTS uq_user_username_lower'))
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
