"""The load test: many people posting at once through the real form; nothing lost, nothing doubled.

Run with ``make load`` (or ``.venv/bin/python bench/load.py --help``). See bench/README.md.
For each database (SQLite; PostgreSQL too when LOAD_DATABASE_URL or BENCH_DATABASE_URL is set):
a fresh, migrated database with seeded accounts, gunicorn serving it the Procfile's way, every
account signed in through the login form, then every poster sending its posts through the home
page's form (with its CSRF token) at the same time. Then the database is checked (every post
exactly once, the post counters right) and two read-only phases prove that polling the
notification badge writes nothing and that page views write nothing but ``last_seen``, at most
once a minute per account. Everything runs on 127.0.0.1; every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.datasets import Database, database_env, postgres_database, sqlite_database  # noqa: E402
from bench.report import RESULTS_DIR  # noqa: E402
from bench.servers import (  # noqa: E402
    BIN,
    Server,
    http_request,
    run,
    say,
    sign_in,
    start_gunicorn,
    stop,
    stop_all,
)

POLL_PATH = "/notifications/count.json"  # what every page's badge script (static/notifications.js) asks
LAST_SEEN_RESOLUTION_S = 60  # services/accounts.py: last_seen is written at most once a minute


# -- the database, read directly ----------------------------------------------------------------
def engine_for(url: str):
    import sqlalchemy as sa

    from config import database_url

    return sa.create_engine(database_url(url, Path(".")))


def reflect(conn, name: str):
    """The table as the database has it (SQLite's expression index cannot be reflected: no matter)."""
    import sqlalchemy as sa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        return sa.Table(name, sa.MetaData(), autoload_with=conn)


def snapshot(url: str) -> dict[str, dict]:
    """Every table's rows, hashed per row (by primary key): any insert, update or delete shows up.

    Read straight from the database, so no counter in the app can hide a write.
    """
    import sqlalchemy as sa

    engine = engine_for(url)
    try:
        tables = {}
        with engine.connect() as conn:
            for name in sa.inspect(conn).get_table_names():
                table = reflect(conn, name)
                key = list(table.primary_key.columns) or list(table.columns)
                rows = conn.execute(sa.select(table).order_by(*key)).all()
                tables[name] = {
                    tuple(str(getattr(row, c.name)) for c in key):
                        hashlib.sha256(repr(tuple(row)).encode()).hexdigest()
                    for row in rows
                }
        return tables
    finally:
        engine.dispose()


def changes(before: dict[str, dict], after: dict[str, dict]) -> dict[str, int]:
    """Rows inserted, updated or deleted per table between two snapshots."""
    found = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        changed = sum(1 for k in set(old) | set(new) if old.get(k) != new.get(k))
        if changed:
            found[name] = changed
    return found


def user_rows(url: str) -> dict[str, dict]:
    import sqlalchemy as sa

    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            table = reflect(conn, "user")
            return {row.username: dict(row._mapping) for row in conn.execute(sa.select(table))}
    finally:
        engine.dispose()


def count_posts(url: str, prefix: str) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """How many rows each post body has, and each author's (post_count, real count)."""
    import sqlalchemy as sa

    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            bodies = dict(conn.execute(sa.text(
                "SELECT body, count(*) FROM post WHERE body LIKE :p GROUP BY body"), {"p": prefix + "%"}).all())
            counters = {row[0]: (row[1], row[2]) for row in conn.execute(sa.text(
                'SELECT u.username, u.post_count, (SELECT count(*) FROM post p WHERE p.user_id = u.id) '
                'FROM "user" u'))}
        return bodies, counters
    finally:
        engine.dispose()


# -- traffic ---------------------------------------------------------------------------------------
class Poster:
    """One signed-in account: its cookie and CSRF token, and what it saw."""

    def __init__(self, username: str, cookie: str, token: str) -> None:
        self.username = username
        self.cookie = cookie
        self.token = token


def timed(server: Server, method: str, path: str, cookie: str, body: bytes | None = None) -> tuple[int, float]:
    """One request on a new connection (gunicorn's sync workers close each one): status and seconds.

    A connection that fails counts as status 0.
    """
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        status, _, _ = http_request(server, method, path, body, headers)
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def post_body(prefix: str, username: str, n: int) -> str:
    return f"{prefix} {username} number {n}"


def posting(server: Server, posters: list[Poster], per_user: int, body: Callable[[Poster, int], str]) -> dict:
    """Every poster sends ``per_user`` posts (``body(poster, n)``) through the home page's form, all at once."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(posters))

    def work(poster: Poster) -> None:
        start.wait()
        mine = []
        for n in range(per_user):
            form = urllib.parse.urlencode({"post": body(poster, n), "csrf_token": poster.token}).encode()
            mine.append(timed(server, "POST", "/", poster.cookie, form))
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(posters)) as pool:
        list(pool.map(work, posters))
    elapsed = time.perf_counter() - started
    return summarise(results, elapsed, ok={302})


def reading(server: Server, posters: list[Poster], per_user: int, paths) -> dict:
    """Every account requests ``paths(poster, i)`` ``per_user`` times, all at once."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()

    def work(poster: Poster) -> None:
        mine = [timed(server, "GET", paths(poster, i), poster.cookie) for i in range(per_user)]
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(posters)) as pool:
        list(pool.map(work, posters))
    return summarise(results, time.perf_counter() - started, ok={200})


def summarise(results: list[tuple[int, float]], elapsed: float, ok: set[int]) -> dict:
    latencies = sorted(seconds * 1000 for _, seconds in results)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "requests": len(results),
        "seconds": round(elapsed, 2),
        "per_second": round(len(results) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "statuses": statuses,
        "errors_5xx": sum(n for s, n in statuses.items() if int(s) >= 500),
        "failed_connections": statuses.get("0", 0),
        "unexpected": sum(n for s, n in statuses.items() if int(s) not in ok),
    }


# -- one run -----------------------------------------------------------------------------------------
def load_env(database: Database, workdir: Path, workers: int) -> dict[str, str]:
    """A production process's environment (as bench/run.py's), on this database."""
    # Every account signs in from 127.0.0.1: the limit per address would stop the 26th. The
    # limits per account (posting, signing in) stay as they are: the load stays under them.
    return database_env(database, workdir, workers, RATELIMIT_LOGIN="100000 per 5 minutes")


def run_load(database: Database, workdir: Path, users: int, posts: int, workers: int = 4,
             polls: int = 10, views: int = 3, compile_catalogs: bool = True) -> dict:
    """Set up, serve, post, check and read on one database; return every figure as a dict."""
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    env = load_env(database, workdir, workers)
    flask = str(BIN / "flask")
    if compile_catalogs:
        run([flask, "translate", "compile"], env, "compile catalogs", quiet=True)
    run([flask, "db", "upgrade"], env, "migrate", quiet=True)
    if env.get("SEARCH_BACKEND", "whoosh") == "whoosh":
        # An empty index, so posts are indexed one by one (by each gunicorn worker's job thread)
        # instead of the first one finding no index and starting a rebuild.
        run([flask, "search", "reindex"], env, "create an empty search index", quiet=True)
    # One account more than posters: it warms the workers up (their first post loads the language
    # detector's profiles, a second or more) before anything is measured.
    run([flask, "seed", "--users", str(users + 1), "--posts", "0", "--follows", str(min(8, users))],
        env, "seed accounts", quiet=True)
    names = sorted(user_rows(database.url))
    server = start_gunicorn("microblog:create_app()", env, workdir, "app", workers)
    try:
        with ThreadPoolExecutor(8) as pool:
            posters = [Poster(name, *session) for name, session in
                       zip(names, pool.map(lambda name: sign_in(server, name), names), strict=True)]
        warmup = posters.pop()
        posting(server, [warmup] * (2 * workers), 1, lambda _p, _n: f"warm-up {secrets.token_hex(8)}")
        prefix = f"load-{secrets.token_hex(4)}"
        load_average = round(os.getloadavg()[0], 2)
        post_phase = posting(server, posters, posts, lambda p, n: post_body(prefix, p.username, n))
        bodies, counters = count_posts(database.url, prefix)
        expected = {post_body(prefix, p.username, n) for p in posters for n in range(posts)}
        saved = {body for body in expected if bodies.get(body)}
        integrity = {
            "expected": len(expected),
            "saved": sum(bodies.values()),
            "lost": len(expected - saved),
            "duplicated": sum(1 for n in bodies.values() if n > 1),
            "unexpected_rows": len(set(bodies) - expected),
            # A request that failed (5xx, dropped connection) but whose post was saved: nothing
            # lost, but the poster was told otherwise.
            "saved_though_refused": max(0, len(saved) - (post_phase["statuses"].get("302", 0))),
            "counters_wrong": sorted(u for u, (stored, real) in counters.items() if stored != real),
        }

        # Reads: the badge's polling must write nothing at all.
        time.sleep(1)  # let the after-commit jobs (search indexing) settle
        before = snapshot(database.url)
        poll_phase = reading(server, posters, polls, lambda _p, _i: POLL_PATH)
        poll_writes = changes(before, snapshot(database.url))

        # Page views may write last_seen, at most once a minute per account, and nothing else.
        users_before = user_rows(database.url)
        before = snapshot(database.url)
        others = [p.username for p in posters]
        pages = ["/", "/explore", "/user/{other}"]
        view_phase = reading(server, posters, views * len(pages), lambda p, i: pages[i % len(pages)].format(
            other=others[(others.index(p.username) + 1 + i) % len(others)]))
        view_writes = changes(before, snapshot(database.url))
        users_after = user_rows(database.url)
        touched = [name for name in users_after if users_after[name] != users_before.get(name)]
        only_last_seen = all(
            {k for k in users_after[n] if users_after[n][k] != users_before[n][k]} <= {"last_seen"}
            for n in touched)
    finally:
        stop(server)
    return {
        "database": database.kind,
        # The machine's 1-minute load average as posting began: other work slows every figure.
        "load_average": load_average,
        "users": users,
        "posts_per_user": posts,
        "workers": workers,
        "posting": post_phase,
        "integrity": integrity,
        "polling": {**poll_phase, "rows_written": poll_writes},
        "page_views": {**view_phase, "rows_written": view_writes, "accounts_touched": len(touched),
                       "only_last_seen": only_last_seen,
                       "seconds_allow_one_write_per_account": view_phase["seconds"] < LAST_SEEN_RESOLUTION_S},
    }


def problems(result: dict) -> list[str]:
    """What the run got wrong (empty: requirement 12 met)."""
    found = []
    integrity, post_phase = result["integrity"], result["posting"]
    for key in ("lost", "duplicated", "unexpected_rows"):
        if integrity[key]:
            found.append(f"{integrity[key]} posts {key.replace('_', ' ')}")
    if integrity["counters_wrong"]:
        found.append(f"post counters wrong for {', '.join(integrity['counters_wrong'][:5])}")
    for phase in ("posting", "polling", "page_views"):
        if result[phase]["errors_5xx"]:
            found.append(f"{result[phase]['errors_5xx']} responses >= 500 while {phase.replace('_', ' ')}")
        if result[phase]["unexpected"]:
            found.append(f"{phase.replace('_', ' ')}: unexpected statuses {result[phase]['statuses']}")
    if post_phase["failed_connections"]:
        found.append(f"{post_phase['failed_connections']} posting connections failed")
    if result["polling"]["rows_written"]:
        found.append(f"notification polling wrote rows: {result['polling']['rows_written']}")
    views = result["page_views"]
    extra = {t: n for t, n in views["rows_written"].items() if t != "user"}
    if extra or not views["only_last_seen"]:
        found.append(f"page views wrote more than last_seen: {views['rows_written']}")
    if views["accounts_touched"] > result["users"]:
        found.append(f"page views wrote last_seen {views['accounts_touched']} times for {result['users']} accounts")
    return found


# -- the report ----------------------------------------------------------------------------------
def table(results: list[dict]) -> str:
    lines = [
        "| database | load avg | posts sent | p50 ms | p99 ms | max ms | posts/s | 5xx | lost | duplicated | counters | "
        "polls (p50 ms) | rows written by polls | page views (p50 ms) | rows written by views |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p, i, q, v = r["posting"], r["integrity"], r["polling"], r["page_views"]
        lines.append(
            f"| {r['database']} | {r['load_average']} | {p['requests']} ({r['users']} x {r['posts_per_user']}) | {p['p50_ms']} | "
            f"{p['p99_ms']} | {p['max_ms']} | {p['per_second']} | {p['errors_5xx']} | {i['lost']} | "
            f"{i['duplicated']} | {'right' if not i['counters_wrong'] else 'WRONG'} | "
            f"{q['requests']} ({q['p50_ms']}) | {sum(q['rows_written'].values())} | "
            f"{v['requests']} ({v['p50_ms']}) | {v['accounts_touched']} user rows, last_seen only: "
            f"{'yes' if v['only_last_seen'] else 'NO'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=64, help="concurrent posters (accounts)")
    parser.add_argument("--posts", type=int, default=50, help="posts per poster")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--polls", type=int, default=10, help="badge polls per account")
    parser.add_argument("--views", type=int, default=3, help="rounds of page views per account")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    pg_url = os.environ.get("LOAD_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(1)))
    started = datetime.now(timezone.utc)
    results = []
    with tempfile.TemporaryDirectory(prefix="microblog-load-") as tmp:
        kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if pg_url else [])
        if not kinds:
            raise SystemExit("load: nothing to run (--no-sqlite without LOAD_DATABASE_URL)")
        for kind in kinds:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            database = sqlite_database(workdir) if kind == "sqlite" else postgres_database(pg_url)
            say(f"== {kind}: {args.users} posters x {args.posts} posts, gunicorn --workers {args.workers} ==")
            try:
                result = run_load(database, workdir, args.users, args.posts, args.workers, args.polls, args.views)
            finally:
                stop_all()
                for cleanup in database.cleanup:
                    cleanup()
            result["problems"] = problems(result)
            results.append(result)
            say(json.dumps(result, indent=1))
    report = (f"# Load test {started:%Y-%m-%d %H:%M} UTC\n\n{table(results)}\n\n"
              + "\n".join(f"- {r['database']}: " + ("; ".join(r["problems"]) or "requirement 12 met")
                          for r in results) + "\n")
    say("\n" + report)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stem = RESULTS_DIR / f"load-{started:%Y%m%d-%H%M}-{os.uname().nodename}"
        stem.with_suffix(".md").write_text(report)
        stem.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
        say(f"saved {stem}.md and .json")
    if any(r["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
