"""Colour theme: user.theme (auto, light or dark)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CHECK = "theme IN ('auto', 'light', 'dark')"


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place, CHECK included: a batch copy of "user" would drop the table, and with foreign keys
        # on, dropping it deletes every post, follow and message (ON DELETE CASCADE).
        op.execute("ALTER TABLE user ADD COLUMN theme VARCHAR(8) DEFAULT 'auto' NOT NULL "
                   f"CONSTRAINT ck_user_theme CHECK ({CHECK})")
        return
    op.add_column('user', sa.Column('theme', sa.String(length=8), server_default='auto', nullable=False))
    op.create_check_constraint(op.f('ck_user_theme'), 'user', sa.text(CHECK))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE user DROP COLUMN theme")  # in place too (SQLite 3.35 and newer)
        return
    op.drop_constraint(op.f('ck_user_theme'), 'user', type_='check')
    op.drop_column('user', 'theme')
