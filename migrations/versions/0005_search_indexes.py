"""full-text search: GIN indexes over post and user text (PostgreSQL only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The exact expressions microblog/search/postgres_backend.py queries (SEARCH_BACKEND=postgres).
# SQLite gets nothing: there the Whoosh backend keeps its own index outside the database.
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
_USER_TEXT = "(username || ' ') || coalesce(about_me, '')"
INDEXES = (
    ('ix_post_fts_simple', 'post', "to_tsvector('simple'::regconfig, body)"),
    ('ix_post_fts_stemmed', 'post', f"to_tsvector({_POST_CONFIG}, body)"),
    ('ix_user_fts_simple', 'user', f"to_tsvector('simple'::regconfig, {_USER_TEXT})"),
    ('ix_user_fts_stemmed', 'user', f"to_tsvector('english'::regconfig, {_USER_TEXT})"),
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, expression in INDEXES:
        op.create_index(name, table, [sa.text(expression)], postgresql_using='gin')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, _expression in reversed(INDEXES):
        op.drop_index(name, table_name=table)
