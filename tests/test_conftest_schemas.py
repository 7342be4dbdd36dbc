"""The PostgreSQL schemas the suite uses again (tests/conftest.py): each test still starts empty."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from tests.factories import make_post, make_user

pytestmark = pytest.mark.postgres


def test_a_schema_used_again_has_no_rows_and_counts_ids_from_one(postgres_schemas, postgres_admin_engine,
                                                                  make_app, database):
    if "TEST_SCHEMA" not in database:
        pytest.skip("PostgreSQL only")
    app = make_app()
    with app.app_context():
        make_post(make_user("alice"), "hello")
        db.session.remove()
        db.engine.dispose()
    schema = database["TEST_SCHEMA"]
    postgres_schemas.give_back(schema)
    assert postgres_schemas.free[-1] == schema
    again, ready = postgres_schemas.take()
    assert (again, ready) == (schema, True)
    with postgres_admin_engine.connect() as conn:
        for table in ("user", "post"):
            assert conn.execute(sa.text(f'SELECT count(*) FROM "{schema}"."{table}"')).scalar() == 0
        next_id = conn.execute(sa.text(f"SELECT nextval('{schema}.user_id_seq')")).scalar()
        assert next_id == 1


def test_a_schema_whose_tables_changed_is_dropped(postgres_schemas, postgres_admin_engine, make_app,
                                                  database):
    if "TEST_SCHEMA" not in database:
        pytest.skip("PostgreSQL only")
    make_app()
    schema = database["TEST_SCHEMA"]
    with postgres_admin_engine.connect() as conn:
        conn.execute(sa.text(f'ALTER TABLE "{schema}"."post" ADD COLUMN extra integer'))
    postgres_schemas.give_back(schema)
    assert schema not in postgres_schemas.free
    with postgres_admin_engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).all()
    assert not found
    with postgres_admin_engine.connect() as conn:  # the fixture's own give_back then finds nothing to do
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
