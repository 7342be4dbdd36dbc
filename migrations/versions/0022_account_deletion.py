"""Deactivating and deleting one's own account: user.deactivated_at, deletion_due_at,
deletion_started_at, deletion_lease_until; reserved_username

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

COLUMNS = ('deactivated_at', 'deletion_due_at', 'deletion_started_at', 'deletion_lease_until')
INDEXED = ('deactivated_at', 'deletion_due_at')


def upgrade():
    op.create_table('reserved_username',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reserved_username'))
    )
    # Plain ADD COLUMN (no batch rebuild), so SQLite keeps the lower(username) index.
    for column in COLUMNS:
        op.add_column('user', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    for column in INDEXED:
        op.create_index(op.f(f'ix_user_{column}'), 'user', [column], unique=False)


def downgrade():
    for column in INDEXED:
        op.drop_index(op.f(f'ix_user_{column}'), table_name='user')
    # In place on SQLite too (DROP COLUMN, SQLite 3.35 and newer), as 0016 does.
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE user DROP COLUMN {column}')
        else:
            op.drop_column('user', column)
    op.drop_table('reserved_username')
