"""SQL statements per request for the bench's paths, counted in-process on the bench's database.

Run by bench/run.py with the same environment as the gunicorn it measures (production settings,
same database, same secret key, so the signed-in session cookie works here too). Each path is
requested once to warm up (caches, first-use work), then once more while a ``before_cursor_execute``
listener on the engine counts statements. Prints one JSON object: {name: count}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from microblog import create_app
from microblog.extensions import db


def main() -> None:
    targets = json.loads(os.environ["BENCH_TARGETS"])
    cookie = os.environ.get("BENCH_COOKIE", "")
    bearer = os.environ.get("BENCH_BEARER", "")
    app = create_app()
    client = app.test_client(use_cookies=False)
    counted: list[str] = []
    counted_params: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        # The request's own statements: not those of the jobs it queued, which run in another thread.
        if threading.current_thread() is threading.main_thread():
            counted.append(statement)
            counted_params.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    plans = open(os.environ["BENCH_EXPLAIN"], "w") if os.environ.get("BENCH_EXPLAIN") else None
    counts = {}
    for target in targets:
        headers = {}
        if target["auth"] == "cookie":
            headers["Cookie"] = target.get("cookie") or cookie
        elif target["auth"] == "bearer":
            headers["Authorization"] = f"Bearer {target.get('bearer') or bearer}"
        # Plain http like gunicorn here (the test client would follow PREFERRED_URL_SCHEME=https).
        kwargs = {"method": target["method"], "headers": headers, "base_url": "http://localhost"}
        if target["method"] == "POST":
            kwargs["data"] = target["body"]
            kwargs["content_type"] = target.get("content_type") or "application/x-www-form-urlencoded"
            if target.get("body_file"):
                kwargs["data"] = Path(target["body_file"]).read_bytes().replace(b"{n}", b"q")
        for attempt in range(2):
            counted.clear()
            counted_params.clear()
            response = client.open(target["path"], **kwargs)
            if response.status_code >= 400:
                raise SystemExit(f"{target['path']}: HTTP {response.status_code}\n{response.get_data(as_text=True)[:3000]}")
        counts[target["name"]] = len(counted)
        if plans is not None and target["method"] == "GET":
            plans.write(explain(engine, target, counted_params))
        if os.environ.get("BENCH_SHOW_QUERIES"):
            print(f"-- {target['name']}: {len(counted)}", *counted, sep="\n", file=sys.stderr)
    if plans is not None:
        plans.close()
    print(json.dumps(counts))


def explain(engine: sa.Engine, target: dict, statements: list[tuple[str, object]]) -> str:
    """The plan of each SELECT the request ran (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL)."""
    out = [f"## {target['name']}: GET {target['path']}", ""]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            if engine.dialect.name == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = ["  " * _depth(rows, row) + row[3] for rows in [cursor.fetchall()] for row in rows]
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
                plan = [row[0] for row in cursor.fetchall()]
            out += ["```sql", " ".join(statement.split()), "```", "```", *plan, "```", ""]
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(out) + "\n"


def _depth(rows: list, row: tuple) -> int:
    """How deep a SQLite plan row sits (its parent chain)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth


if __name__ == "__main__":
    main()
