"""post.search_simple and post.search_stemmed: stored tsvectors with GIN indexes (PostgreSQL only)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The vectors were GIN indexes over expressions (0005): every search parsed the body again for
# each row it ranked, phrase-checked or tested while walking the time index. Now the database
# stores them. SQLite gets nothing: there the Whoosh backend keeps its own index.
_LANGUAGES = (
    ('en', 'english'), ('es', 'spanish'), ('fr', 'french'), ('de', 'german'), ('pt', 'portuguese'),
    ('it', 'italian'), ('nl', 'dutch'), ('da', 'danish'), ('fi', 'finnish'), ('hu', 'hungarian'),
    ('no', 'norwegian'), ('ro', 'romanian'), ('ru', 'russian'), ('sv', 'swedish'), ('ar', 'arabic'),
)
_POST_CONFIG = (
    "CASE coalesce(language, 'en') "
    + " ".join(f"WHEN '{code}' THEN '{config}'::regconfig" for code, config in _LANGUAGES)
    + " ELSE 'simple'::regconfig END"
)
SIMPLE = "to_tsvector('simple'::regconfig, body)"
STEMMED = f"to_tsvector({_POST_CONFIG}, body)"
VECTORS = (
    ('search_simple', SIMPLE, 'ix_post_search_simple', 'ix_post_fts_simple'),
    ('search_stemmed', STEMMED, 'ix_post_search_stemmed', 'ix_post_fts_stemmed'),
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    # One ALTER TABLE, so the table is rewritten once for both columns.
    op.execute(sa.text('ALTER TABLE post ' + ', '.join(
        f'ADD COLUMN {column} tsvector GENERATED ALWAYS AS ({expression}) STORED'
        for column, expression, _index, _old in VECTORS)))
    for column, _expression, index, old_index in VECTORS:
        op.create_index(index, 'post', [column], postgresql_using='gin')
        op.drop_index(old_index, table_name='post')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column, expression, index, old_index in reversed(VECTORS):
        op.create_index(old_index, 'post', [sa.text(expression)], postgresql_using='gin')
        op.drop_index(index, table_name='post')
        op.drop_column('post', column)
