"""Imports of follows, blocks, mutes and bookmarks: import_row (the import itself is a task)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_import_row_task_id_task'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row')),
    sa.UniqueConstraint('task_id', 'row_number', name=op.f('uq_import_row_task_id'))
    )
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.create_index('ix_import_row_task_state', ['task_id', 'state', 'row_number'], unique=False)


def downgrade():
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.drop_index('ix_import_row_task_state')
    op.drop_table('import_row')
