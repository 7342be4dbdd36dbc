"""task.heartbeat_at: a running job writes it as it goes, so a task whose worker died is seen as failed

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('task', sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
