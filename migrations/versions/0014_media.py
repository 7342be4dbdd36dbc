"""Media: images on posts (media), files to delete (file_deletion), post.media_count, user avatar and header

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:52:25.126204

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('file_deletion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_deletion'))
    )
    with op.batch_alter_table('file_deletion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_deletion_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_deletion_not_before'), ['not_before'], unique=False)

    op.create_table('media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('description', sa.String(length=1500), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('original_key', sa.String(length=160), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('mime', sa.String(length=32), nullable=True),
    sa.Column('file_key', sa.String(length=160), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=160), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('thumbnail_width', sa.Integer(), nullable=True),
    sa.Column('thumbnail_height', sa.Integer(), nullable=True),
    sa.Column('animated', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=True),
    sa.Column('blurhash', sa.String(length=64), nullable=True),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name=op.f('ck_media_status')),
    sa.CheckConstraint('position BETWEEN 0 AND 3', name=op.f('ck_media_position')),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_media_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_media_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media'))
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index('ix_media_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_media_post_id_position', ['post_id', 'position'], unique=False)
        batch_op.create_index('ix_media_user_id_created_at', ['user_id', 'created_at'], unique=False)

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_count', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_post_media_count'), sa.text('media_count BETWEEN 0 AND 4'))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_key', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('header_key', sa.String(length=160), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('header_key')
        batch_op.drop_column('avatar_key')

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_post_media_count'), type_='check')
        batch_op.drop_column('media_count')

    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index('ix_media_user_id_created_at')
        batch_op.drop_index('ix_media_post_id_position')
        batch_op.drop_index('ix_media_created_at')

    op.drop_table('media')
    with op.batch_alter_table('file_deletion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_deletion_not_before'))
        batch_op.drop_index(batch_op.f('ix_file_deletion_key'))

    op.drop_table('file_deletion')
