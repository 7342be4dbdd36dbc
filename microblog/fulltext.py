"""The full-text search columns and indexes of the schema (PostgreSQL only), as DDL.

The models declare them, migrations and the schema comparison filter by them, and the PostgreSQL
search backend queries the very same expressions. This module imports only SQLAlchemy, so the
models need nothing from the search package.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn

# Text search configurations for the stemming languages (query.STEM_LANGUAGES).
CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
# Posts whose language was not detected are stemmed as English; detected languages without a
# configuration (ja, zh_CN, ...) are not stemmed.
_POST_LANGUAGE_CODES = (
    "en", "es", "fr", "de", "pt", "it", "nl", "da", "fi", "hu", "no", "ro", "ru", "sv", "ar",
)


# The indexed expressions, written exactly as PostgreSQL prints them back (pg_get_indexdef), so
# that Alembic finds the models and the migrated database identical; the models index them and
# the queries below use the very same text, so the planner matches them to the GIN indexes.
POST_SIMPLE_SQL = "to_tsvector('simple'::regconfig, body::text)"
POST_STEMMED_SQL = (
    "to_tsvector(\nCASE COALESCE(language, 'en'::character varying)\n"
    + "".join(f"    WHEN '{code}'::text THEN '{CONFIGS[code]}'::regconfig\n" for code in _POST_LANGUAGE_CODES)
    + "    ELSE 'simple'::regconfig\nEND, body::text)"
)
_USER_TEXT_SQL = "(username::text || ' '::text) || COALESCE(about_me, ''::character varying)::text"
USER_SIMPLE_SQL = f"to_tsvector('simple'::regconfig, {_USER_TEXT_SQL})"
USER_STEMMED_SQL = f"to_tsvector('english'::regconfig, {_USER_TEXT_SQL})"
# (name, table, expression) of each GIN index over an expression, for the models.
INDEXES = (
    ("ix_user_fts_simple", "user", USER_SIMPLE_SQL),
    ("ix_user_fts_stemmed", "user", USER_STEMMED_SQL),
)
# The stored vectors of posts: (column, expression it is generated from, its GIN index).
POST_VECTORS = (
    ("search_simple", POST_SIMPLE_SQL, "ix_post_search_simple"),
    ("search_stemmed", POST_STEMMED_SQL, "ix_post_search_stemmed"),
)
# Marks the columns and indexes that exist on PostgreSQL only (in ``info``).
POSTGRESQL_ONLY = "postgresql_only"


def gin_indexes(table: str) -> list[sa.Index]:
    """The full-text indexes of ``table``, created on PostgreSQL only (for ``__table_args__``)."""
    indexes = [
        sa.Index(name, sa.text(expression), postgresql_using="gin").ddl_if(dialect="postgresql")
        for name, table_name, expression in INDEXES
        if table_name == table
    ]
    if table == "post":
        indexes += [
            sa.Index(index, column, postgresql_using="gin", info={POSTGRESQL_ONLY: True}).ddl_if(
                dialect="postgresql")
            for column, _expression, index in POST_VECTORS
        ]
    return indexes


def post_vector_columns() -> list[sa.Column]:
    """The generated tsvector columns of ``post`` (for models/posts.py; see :func:`_create_column`).

    They are left out of the mapper (``exclude_properties``): loading a post never reads them.
    """
    return [
        sa.Column(column, TSVECTOR, sa.Computed(expression, persisted=True), info={POSTGRESQL_ONLY: True})
        for column, expression, _index in POST_VECTORS
    ]


@compiles(CreateColumn)
def _create_column(element: CreateColumn, compiler: Any, **kw: Any) -> Any:
    """CREATE TABLE leaves the PostgreSQL-only columns out on other databases."""
    if element.element.info.get(POSTGRESQL_ONLY) and compiler.dialect.name != "postgresql":
        return None
    return compiler.visit_create_column(element, **kw)


def schema_filter(dialect_name: str) -> Any:
    """An Alembic ``include_object`` hook: on other databases, skip what exists on PostgreSQL only."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if dialect_name == "postgresql":
            return True
        return not getattr(obj, "info", {}).get(POSTGRESQL_ONLY)

    return include_object
