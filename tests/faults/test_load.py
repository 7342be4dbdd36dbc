"""A small version of bench/load.py in CI: concurrent posters under gunicorn lose and double nothing.

16 accounts signed in through the login form post 10 times each through the home page's form,
all at once, against gunicorn with 4 workers (as the Procfile serves the site) on SQLite and on
PostgreSQL. Then the badge's polling must write no row and page views nothing but ``last_seen``.
The full run (64 x 50) is ``make load``; its figures are in bench/README.md.
"""

from __future__ import annotations

from bench.datasets import Database
from bench.load import problems, run_load
from tests.faults.processes import database_url


def test_concurrent_posters_lose_nothing_and_reads_write_nothing(database, tmp_path):
    kind = "postgresql" if database.get("TEST_SCHEMA") else "sqlite"
    result = run_load(Database(kind, database_url(database)), tmp_path, users=16, posts=10, workers=4,
                      polls=5, views=1, compile_catalogs=False)
    assert problems(result) == []
    assert result["integrity"]["saved"] == result["integrity"]["expected"] == 160
    assert result["posting"]["statuses"] == {"302": 160}
    assert result["polling"]["statuses"] == {"200": 80} and result["polling"]["rows_written"] == {}
