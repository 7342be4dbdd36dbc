"""language and time zone settings, post language

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 05:36:47.788045

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))

    # Plain ADD COLUMN (no batch rebuild), so SQLite keeps the lower(username) index.
    op.add_column('user', sa.Column('locale', sa.String(length=16), nullable=True))
    op.add_column('user', sa.Column('timezone', sa.String(length=64), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('locale')
    # SQLite rebuilds the table to drop columns and cannot carry the expression index over.
    op.execute(sa.text('DROP INDEX IF EXISTS uq_user_username_lower'))
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('language')

