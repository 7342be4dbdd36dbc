"""The benchmark: seed a data set, serve it with gunicorn, load it with wrk, compare with hello world.

Run with ``make bench`` (or ``.venv/bin/python bench/run.py --help``). See bench/README.md.
Everything runs on 127.0.0.1, on free ports; every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable
BIN = Path(PYTHON).parent

FULL = {"users": 10_000, "posts": 1_000_000, "follows": 50}
SMALL = {"users": 1_000, "posts": 10_000, "follows": 50}
DEMO_PASSWORD = "microblog-demo"  # microblog.seed.DEMO_PASSWORD (not imported: config reads the env)
HOME_DEEP_PAGE = 50
EXPLORE_DEEP_PAGE = 2_000
SEARCH_QUERY = "coffee"

# Goals (see bench/README.md): latency for every path, throughput against hello world per group.
P50_GOAL_MS = 15.0
P99_GOAL_MS = 50.0
RATIO_GOALS = {"page": 0.15, "api": 0.25}
RSS_GOAL_MB = 150
DEPTH_GOAL = 1.5
QUERY_GOAL = 6
QUIET_LOAD = 0.7  # 1-minute load average under which the machine counts as idle


@dataclass
class Target:
    """One row of the table: a request shape and what it must achieve."""

    key: str  # the same on every data set, to compare them
    name: str
    path: str
    group: str = ""  # "page" or "api" (throughput goal), "" for none
    method: str = "GET"
    body: str = ""
    auth: str = "cookie"  # "cookie" (signed-in session), "bearer" (API token) or "none"
    result: dict = field(default_factory=dict)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    database: str | None = None  # PostgreSQL database name, to count its server processes' CPU


_children: list[subprocess.Popen] = []


# -- processes ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict[str, str], label: str, quiet: bool = False) -> str:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: {label} failed ({' '.join(cmd)})")
    if not quiet:
        say(f"  {label}: {time.perf_counter() - started:.1f} s")
    return done.stdout


def start_gunicorn(app: str, env: dict[str, str], workdir: Path, name: str, workers: int) -> Server:
    """gunicorn as the Procfile runs it (sync workers, logs to a file here instead of stdout)."""
    port = free_port()
    log = workdir / f"{name}.log"
    cmd = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--access-logfile", "-", "--error-logfile", "-", app]
    with open(log, "a") as out:
        process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    _children.append(process)
    server = Server(process, port, log, pg_database(env.get("DATABASE_URL", "")))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: gunicorn {name} exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            status, _, _ = http_request(server, "GET", "/healthz" if name == "app" else "/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise SystemExit(f"bench: gunicorn {name} did not answer within 60 s; see {log}")


def pg_database(url: str) -> str | None:
    if not url.startswith("postgresql"):
        return None
    return urllib.parse.urlsplit(url).path.lstrip("/") or None


def stop(server: Server) -> None:
    """Stop gunicorn (the master stops its workers) and wait for it."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in _children:
        _children.remove(process)


def stop_all(*_args) -> None:
    for process in list(_children):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    _children.clear()


# -- HTTP with a cookie, for setting up (wrk does the measuring) -------------------------------
def http_request(server: Server, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        found = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        if cookies:
            found["set-cookie"] = "\n".join(cookies)
        return response.status, found, text
    finally:
        conn.close()


def session_cookie(headers: dict[str, str]) -> str | None:
    for line in headers.get("set-cookie", "").split("\n"):
        if line.startswith("session="):
            return line.split(";", 1)[0]
    return None


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise SystemExit("bench: no CSRF token on the page")
    return match.group(1) or match.group(2)


def sign_in(server: Server, username: str) -> tuple[str, str]:
    """Sign in through the real form; return the session cookie and the page's CSRF token."""
    status, headers, html = http_request(server, "GET", "/auth/login")
    cookie = session_cookie(headers) or ""
    form = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD,
                                   "csrf_token": csrf_token(html)})
    status, headers, _ = http_request(server, "POST", "/auth/login", form.encode(), {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    cookie = session_cookie(headers)
    if status != 302 or not cookie:
        raise SystemExit(f"bench: could not sign in as {username} (HTTP {status})")
    # The first form on the signed-in session puts its CSRF secret in the session: keep that cookie.
    status, headers, html = http_request(server, "GET", "/", headers={"Cookie": cookie})
    return session_cookie(headers) or cookie, csrf_token(html)


def api_token(server: Server, username: str) -> str:
    basic = b64encode(f"{username}:{DEMO_PASSWORD}".encode()).decode()
    status, _, text = http_request(server, "POST", "/api/tokens", b"", {"Authorization": f"Basic {basic}"})
    if status != 201:
        raise SystemExit(f"bench: no API token for {username} (HTTP {status}: {text[:200]})")
    return json.loads(text)["token"]


NEXT_RE = re.compile(r'rel="next" href="([^"]+)"')


def page_link(server: Server, start: str, number: int, cookie: str) -> tuple[str, int]:
    """Follow the pages' rel="next" links from ``start`` to page ``number`` (or the last page).

    Returns the URL and the page number reached, so a small data set gets its deepest page.
    """
    url, reached = start, 1
    while reached < number:
        status, _, html = http_request(server, "GET", url, headers={"Cookie": cookie})
        if status != 200:
            raise SystemExit(f"bench: {url} answered {status} while walking to page {number}")
        match = NEXT_RE.search(html)
        if not match:
            break
        url, reached = match.group(1).replace("&amp;", "&"), reached + 1
    return url, reached


# -- wrk ---------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing the Debian package")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: could not install wrk (apt-get install -y wrk)")
    return found


def wrk(wrk_bin: str, server: Server, target: Target, seconds: float, args: argparse.Namespace,
        cookie: str, bearer: str) -> dict:
    env = {**os.environ, "BENCH_METHOD": target.method, "BENCH_BODY": target.body,
           "BENCH_COOKIE": cookie if target.auth == "cookie" else "",
           "BENCH_AUTH": f"Bearer {bearer}" if target.auth == "bearer" else ""}
    cmd = [wrk_bin, f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "--latency", "-s", str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{server.port}{target.path}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"bench: no summary from wrk:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH_JSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["p50_ms"] = data["p50_us"] / 1000
    data["p99_ms"] = data["p99_us"] / 1000
    data["error_count"] = sum(data["errors"].values())
    return data


def cpu_seconds(master: int, database: str | None) -> float:
    """CPU time (user + system) used so far by gunicorn's workers (the master's children) and, on
    PostgreSQL, by the server processes connected to ``database``: what the requests cost."""
    ticks = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            ours = int(fields[1]) == master  # ppid
            if not ours and database:
                words = (proc / "cmdline").read_bytes().replace(b"\0", b" ").split()
                ours = len(words) > 2 and words[0] == b"postgres:" and words[2] == database.encode()
        except (OSError, IndexError, ValueError):
            continue
        if ours:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    sizes = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line)
            if int(status["PPid"]) == master:
                sizes.append(round(int(status["VmRSS"].split()[0]) / 1024, 1))
        except (OSError, KeyError, ValueError):
            continue
    return sorted(sizes)


def measure(wrk_bin: str, server: Server, target: Target, args: argparse.Namespace,
            cookie: str = "", bearer: str = "") -> dict:
    if args.warmup > 0:
        wrk(wrk_bin, server, target, args.warmup, args, cookie, bearer)
    load = os.getloadavg()[0]
    cpu_before = cpu_seconds(server.process.pid, server.database)
    result = wrk(wrk_bin, server, target, args.duration, args, cookie, bearer)
    # CPU the app's workers spent per request: what the path costs, whatever else the machine runs.
    result["cpu_ms"] = (cpu_seconds(server.process.pid, server.database) - cpu_before) * 1000 / max(result["requests"], 1)
    result["load"] = round(load, 2)
    flag = f"  ({result['error_count']} errors: {result['errors']})" if result["error_count"] else ""
    say(f"  {target.name:<34} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:6.2f} ms"
        f"  p99 {result['p99_ms']:6.2f} ms  cpu {result['cpu_ms']:5.2f} ms/req  load {load:.2f}{flag}")
    return result


# -- data sets ---------------------------------------------------------------------------------
@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str
    cleanup: list = field(default_factory=list)


def sqlite_database(workdir: Path) -> Database:
    return Database("sqlite", f"sqlite:///{workdir / 'bench.db'}")


def postgres_database(admin_url: str) -> Database:
    """A schema of its own inside BENCH_DATABASE_URL's database, dropped at the end."""
    import sqlalchemy as sa

    from config import database_url

    schema = f"bench_{secrets.token_hex(4)}"
    url = database_url(admin_url, Path("."))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    separator = "&" if "?" in url else "?"
    options = urllib.parse.quote(f"-csearch_path={schema}")
    return Database("postgresql", f"{url}{separator}options={options}", [drop])


def app_env(database: Database, workdir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({
        "FLASK_APP": "microblog",
        "MICROBLOG_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database.url,
        "INSTANCE_DIR": str(workdir / "instance"),
        "LOG_TO_STDOUT": "1",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(args.workers),
        # The limiter stays on (its cost is part of every request) but never refuses the load.
        "RATELIMIT_API": "100000000 per minute",
        "RATELIMIT_API_WRITES": "100000000 per minute",
        # Posting is measured from one account: its own limit (300 per 3 hours) must not answer 429.
        "RATELIMIT_POSTS": "100000000 per minute",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    })
    if database.kind == "postgresql":
        env["SEARCH_BACKEND"] = "postgres"  # several app servers share PostgreSQL's index
    return env


def vacuum(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('VACUUM ANALYZE "user", post, followers')
    finally:
        engine.dispose()


def wait_for_quiet(seconds: float) -> float:
    """Wait (up to ``seconds``) until other work on the machine settles; return the 1-minute load."""
    deadline = time.monotonic() + seconds
    load = os.getloadavg()[0]
    if seconds > 0 and load >= QUIET_LOAD:
        say(f"  load average {load:.2f}: waiting up to {seconds:.0f} s for the machine to settle...")
    while load >= QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(10)
        load = os.getloadavg()[0]
    if load >= QUIET_LOAD:
        say(f"  note: load average {load:.2f} before measuring: other work is running on this machine")
    return round(load, 2)


def has_route(env: dict[str, str], endpoint: str) -> bool:
    out = run([str(BIN / "flask"), "routes"], env, "flask routes", quiet=True)
    return any(line.split()[:1] == [endpoint] for line in out.splitlines())


def bench_user(database: Database, env: dict[str, str]) -> dict:
    """A seeded user in the middle of the id range who follows exactly ``follows`` people."""
    script = (
        "import json, sqlalchemy as sa\n"
        "from microblog import create_app\n"
        "from microblog.extensions import db\n"
        "from microblog.models import User, followers\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    top = db.session.scalar(sa.select(sa.func.max(User.id)))\n"
        "    me = db.session.get(User, top // 2)\n"
        "    them = db.session.scalars(sa.select(User).join(followers, followers.c.followed_id == User.id)"
        ".where(followers.c.follower_id == me.id).order_by(User.id)).all()\n"
        "    print(json.dumps({'id': me.id, 'username': me.username, 'follows': len(them),"
        " 'other_id': them[0].id, 'other': them[0].username}))\n"
    )
    return json.loads(run([PYTHON, "-c", script], env, "pick the bench user", quiet=True).splitlines()[-1])


def count_queries(env: dict[str, str], targets: list[Target], cookie: str, bearer: str,
                  plans: Path) -> dict[str, int]:
    """SQL statements per request, counted in-process by bench/count_queries.py (see README).

    It also writes the plan of every SELECT of every GET target to ``plans``.
    """
    spec = [{"name": t.key, "path": t.path, "method": t.method, "body": t.body.replace("{n}", "q"),
             "auth": t.auth} for t in targets]
    env = {**env, "BENCH_TARGETS": json.dumps(spec), "BENCH_COOKIE": cookie, "BENCH_BEARER": bearer,
           "BENCH_EXPLAIN": str(plans)}
    out = run([PYTHON, str(BENCH_DIR / "count_queries.py")], env, "count queries", quiet=True)
    return json.loads(out.splitlines()[-1])


def bench_set(label: str, sizes: dict, database: Database, args: argparse.Namespace, wrk_bin: str,
              workdir: Path) -> dict:
    """Seed one data set into one database and measure every path on it, plus hello world."""
    say(f"\n== {database.kind}: {label} ({sizes['users']:,} users, {sizes['posts']:,} posts, "
        f"{sizes['follows']} follows each) ==")
    env = app_env(database, workdir, args)
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    load_before = wait_for_quiet(args.wait_idle)
    flask = str(BIN / "flask")
    run([flask, "translate", "compile"], env, "compile catalogs", quiet=True)
    run([flask, "db", "upgrade"], env, "migrate")
    whoosh = env.get("SEARCH_BACKEND", "whoosh") == "whoosh" and has_route(env, "main.search")
    if whoosh and args.no_search:
        # An empty index, so new posts are indexed one by one (as on a live site) instead of the
        # first one finding no index and starting a full rebuild inside a gunicorn worker.
        run([flask, "search", "reindex"], env, "create an empty search index", quiet=True)
    run([flask, "seed", "--users", str(sizes["users"]), "--posts", str(sizes["posts"]),
         "--follows", str(sizes["follows"])], env, "seed")
    if database.kind == "postgresql":
        # What autovacuum does within a minute of a bulk load: statistics, and the visibility map
        # that lets index-only scans skip the table.
        vacuum(database.url)
    searchable = has_route(env, "main.search") and not args.no_search and wanted(args, "search")
    if searchable and whoosh:
        # Whoosh is pure Python: about 1,000 posts a second here, so ~15-20 minutes at 1M posts.
        say(f"  building the Whoosh search index ({sizes['posts']:,} posts; --no-search skips it)...")
        run([flask, "search", "reindex"], env, "build the search index")
    me = bench_user(database, env)
    say(f"  signed in as {me['username']} (id {me['id']}), who follows {me['follows']} people")

    hello = start_gunicorn("bench.hello:app", env, workdir, "hello", args.workers)
    try:
        hello_result = measure(wrk_bin, hello, Target("hello", "hello world", "/", auth="none"), args)
    finally:
        stop(hello)

    server = start_gunicorn("microblog:create_app()", env, workdir, "app", args.workers)
    try:
        cookie, token = sign_in(server, me["username"])
        bearer = api_token(server, me["username"])
        # Walking to the deep pages takes a while: only when they are measured.
        home_deep, home_reached = (page_link(server, "/", HOME_DEEP_PAGE, cookie)
                                   if wanted(args, "home-deep") else ("/", 1))
        explore_deep, explore_reached = (page_link(server, "/explore", EXPLORE_DEEP_PAGE, cookie)
                                         if wanted(args, "explore-deep") else ("/explore", 1))
        other = urllib.parse.quote(me["other"])
        targets = [
            Target("home", "home timeline, page 1", "/", "page"),
            Target("home-deep", f"home timeline, page {home_reached}", home_deep, "page"),
            Target("explore", "explore, page 1", "/explore", "page"),
            Target("explore-deep", f"explore, page {explore_reached:,}", explore_deep, "page"),
            Target("profile", "profile", f"/user/{other}", "page"),
            Target("followers", "followers list", f"/user/{other}/followers"),
        ]
        if searchable:
            targets.append(Target("search", f"search ?q={SEARCH_QUERY}", f"/search?q={SEARCH_QUERY}"))
            targets.append(Target("search-new", f"search ?q={SEARCH_QUERY}&sort=new",
                                  f"/search?q={SEARCH_QUERY}&sort=new"))
        targets += [
            Target("api-user", "GET /api/users/<id>", f"/api/users/{me['other_id']}", "api", auth="none"),
            Target("api-followers", "GET /api/users/<id>/followers", f"/api/users/{me['other_id']}/followers",
                   "api", auth="none"),
            Target("api-timeline", "GET /api/timeline", "/api/timeline", "api", auth="bearer"),
            # Posting last: its after-commit jobs (search indexing) must not slow the reads above.
            Target("post", "POST / (new post)", "/", "", "POST",
                   urllib.parse.urlencode({"csrf_token": token, "post": "Benchmark post"}) + "+{n}"),
        ]
        targets = [t for t in targets if wanted(args, t.key)]
        plans = workdir / "plans.md"
        queries = count_queries(env, targets, cookie, bearer, plans)
        for target in targets:
            target.result = measure(wrk_bin, server, target, args, cookie, bearer)
            target.result["queries"] = queries.get(target.key)
        rss = worker_rss_mb(server.process.pid)
        say(f"  worker memory after the run: {', '.join(f'{mb:.0f} MB' for mb in rss)}")
    finally:
        stop(server)
    return {
        "label": label, "sizes": sizes, "database": database.kind, "searchable": searchable,
        "load": [load_before, round(os.getloadavg()[0], 2)],
        "hello": hello_result, "user": me, "rss_mb": rss, "plans": plans.read_text() if plans.exists() else "",
        "rows": [{"key": t.key, "name": t.name, "group": t.group, "method": t.method, "path": t.path, **t.result}
                 for t in targets],
    }


def wanted(args: argparse.Namespace, key: str) -> bool:
    """Whether ``--paths`` selects the path ``key`` (a key, or a prefix of keys: ``search``, ``api``)."""
    return not args.paths or any(key.startswith(p.strip()) for p in args.paths.split(",") if p.strip())


# -- the table ---------------------------------------------------------------------------------
def depth_pairs(rows: list[dict]) -> list[tuple[dict, dict]]:
    """(page 1, deep page) rows of the home timeline and explore."""
    pairs = []
    by_key = {r["key"]: r for r in rows}
    for key in ("home", "explore"):
        if key in by_key and f"{key}-deep" in by_key:
            pairs.append((by_key[key], by_key[f"{key}-deep"]))
    return pairs


def evaluate(result: dict, baseline: dict | None) -> None:
    """Mark each row with the goals it meets or misses."""
    hello_rps = result["hello"]["rps"]
    small = {r["key"]: r for r in (baseline or {}).get("rows", [])}
    for row in result["rows"]:
        misses = []
        row["ratio"] = row["rps"] / hello_rps
        if row["p50_ms"] >= P50_GOAL_MS:
            misses.append(f"p50>={P50_GOAL_MS:g}")
        if row["p99_ms"] >= P99_GOAL_MS:
            misses.append(f"p99>={P99_GOAL_MS:g}")
        goal = RATIO_GOALS.get(row["group"])
        if goal is not None and row["ratio"] < goal:
            misses.append(f"ratio<{goal:.0%}")
        if row.get("queries") is None or row["queries"] > QUERY_GOAL:
            misses.append(f"queries>{QUERY_GOAL}")
        if row["error_count"]:
            misses.append(f"{row['error_count']} errors")
        twin = small.get(row["key"])
        if twin is not None:
            row["growth"] = row["cpu_ms"] / twin["cpu_ms"]
            if row["growth"] > DEPTH_GOAL:
                misses.append(f"growth>{DEPTH_GOAL:g}x")
        row["misses"] = misses
    for first, deep in depth_pairs(result["rows"]):
        deep["depth"] = deep["cpu_ms"] / first["cpu_ms"]
        if deep["depth"] > DEPTH_GOAL:
            deep["misses"].append(f"depth>{DEPTH_GOAL:g}x")


def table(result: dict) -> str:
    has_growth = any("growth" in r for r in result["rows"])
    head = "| path | req/s | p50 ms | p99 ms | worker CPU ms/req | SQL/req | vs hello |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if has_growth:
        head += " CPU vs small set |"
        rule += "---:|"
    head += " goals |"
    rule += "---|"
    lines = [head, rule]
    hello = result["hello"]
    lines.append(f"| hello world (ceiling) | {hello['rps']:.0f} | {hello['p50_ms']:.2f} | {hello['p99_ms']:.2f} "
                 f"| {hello['cpu_ms']:.2f} | - | 100% |" + (" - |" if has_growth else "") + " - |")
    for row in result["rows"]:
        cost = ""
        if "depth" in row:
            cost = f" (cost {row['depth']:.2f}x page 1)"
        line = (f"| {row['name']}{cost} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
                f"| {row['cpu_ms']:.2f} | {row.get('queries', '?')} | {row['ratio']:.1%} |")
        if has_growth:
            line += f" {row['growth']:.2f}x |" if "growth" in row else " - |"
        line += (" ok |" if not row["misses"] else " " + ", ".join(row["misses"]) + " |")
        lines.append(line)
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"host": socket.gethostname(), "cpu": cpu, "cores": str(os.cpu_count()), "memory": memory,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "os": platform.platform()}


def report(results: list[dict], args: argparse.Namespace, started: datetime, extra: dict) -> str:
    info = machine()
    out = [f"# microblog benchmark, {started:%Y-%m-%d %H:%M} UTC, {info['host']}", "",
           f"- machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['os']}",
           f"- Python {info['python']}, SQLite {info['sqlite']}"
           + (f", {extra['postgres']}" if extra.get("postgres") else ""),
           f"- gunicorn: {args.workers} sync workers (as the Procfile), MICROBLOG_ENV=production; "
           f"wrk: {args.threads} threads, {args.connections} connections, {args.warmup:g} s warm-up, "
           f"{args.duration:g} s measured, per path",
           "- SQL/req: statements per request, counted in-process with the test client on the same "
           "database after one warm-up request (bench/count_queries.py)",
           f"- goals: p50 < {P50_GOAL_MS:g} ms, p99 < {P99_GOAL_MS:g} ms, SQL/req <= {QUERY_GOAL}, "
           f"req/s >= {RATIO_GOALS['page']:.0%} of hello world (pages), >= {RATIO_GOALS['api']:.0%} (API reads), "
           f"deep pages and the big set within {DEPTH_GOAL:g}x",
           "- worker CPU ms/req: CPU time the gunicorn workers (and, on PostgreSQL, the database's server "
           "processes) spent per request during the measured run; unlike req/s and latency it barely "
           "moves when other work shares the machine, so the cost ratios (deep page against page 1, "
           "full set against small set) use it", ""]
    for result in results:
        sizes = result["sizes"]
        out += [f"## {result['database']}: {result['label']} ({sizes['users']:,} users, "
                f"{sizes['posts']:,} posts, {sizes['follows']} follows each)", "",
                f"Signed in as `{result['user']['username']}`, who follows {result['user']['follows']} people. "
                f"Load average before/after (other work on the machine): {result['load'][0]} / {result['load'][1]}."
                + ("" if result["searchable"] else " Search not measured (no /search route, or --no-search).")
                + (f" Memory of each gunicorn worker after the run: {', '.join(f'{mb:.0f} MB' for mb in result['rss_mb'])}"
                   f" RSS (goal: under {RSS_GOAL_MB} MB)." if result.get("rss_mb") else ""),
                "", table(result), ""]
    return "\n".join(out)


def say(text: str) -> None:
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true",
                        help=f"only the small set ({SMALL['users']:,} users, {SMALL['posts']:,} posts)")
    parser.add_argument("--no-small", action="store_true",
                        help="full set only: skip the small set the growth column compares with")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "all"], default="all",
                        help="all: SQLite, and PostgreSQL when BENCH_DATABASE_URL is set")
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per path")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per path")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--no-search", action="store_true",
                        help="leave /search out (on SQLite it needs a Whoosh index: ~15-20 minutes at 1M posts)")
    parser.add_argument("--paths", default="", metavar="KEYS",
                        help="measure only these paths: keys or their prefixes, comma-separated (search, "
                             "home, explore, profile, followers, api, post); hello world is always measured")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each data set, wait up to this long for the load average to drop")
    parser.add_argument("--no-save", action="store_true", help="print the table, do not write bench/results/")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (databases, logs)")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(ROOT))
    started = datetime.now(timezone.utc)
    wrk_bin = ensure_wrk()
    kinds = ["sqlite"] if args.database in ("sqlite", "all") else []
    postgres_url = os.environ.get("BENCH_DATABASE_URL")
    if args.database in ("postgresql", "all") and postgres_url:
        kinds.append("postgresql")
    elif args.database == "postgresql":
        raise SystemExit("bench: set BENCH_DATABASE_URL for PostgreSQL")
    sets = [("small set", SMALL)] if args.small else [("full set", FULL)]
    if not args.small and not args.no_small:
        sets.append(("small set", SMALL))

    results, extra = [], {}
    workroot = Path(tempfile.mkdtemp(prefix="microblog-bench-"))
    try:
        for kind in kinds:
            by_label = {}
            for label, sizes in sets:
                workdir = workroot / f"{kind}-{label.split()[0]}"
                workdir.mkdir()
                database = sqlite_database(workdir) if kind == "sqlite" else postgres_database(postgres_url)
                try:
                    if kind == "postgresql" and "postgres" not in extra:
                        extra["postgres"] = postgres_version(postgres_url)
                    by_label[label] = bench_set(label, sizes, database, args, wrk_bin, workdir)
                finally:
                    for cleanup in database.cleanup:
                        cleanup()
            for label, _ in sets:
                baseline = by_label.get("small set") if label == "full set" else None
                evaluate(by_label[label], baseline)
                results.append(by_label[label])
    finally:
        stop_all()
        if args.keep:
            say(f"\nwork folder kept: {workroot}")
        else:
            shutil.rmtree(workroot, ignore_errors=True)

    text = report(results, args, started, extra)
    say("\n" + text)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stem = f"{started:%Y-%m-%d-%H%M}-{socket.gethostname()}-{'small' if args.small else 'full'}"
        (RESULTS_DIR / f"{stem}.md").write_text(text + "\n")
        plans = [f"# Query plans: {r['database']}, {r['label']}\n\n{r['plans']}" for r in results if r.get("plans")]
        (RESULTS_DIR / f"{stem}-plans.md").write_text("\n".join(plans))
        (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(
            {"started": started.isoformat(), "machine": machine(), **extra, "args": vars(args),
             "results": [{k: v for k, v in r.items() if k != "plans"} for r in results]}, indent=1) + "\n")
        say(f"\nsaved: bench/results/{stem}.md (and -plans.md, .json)")


def postgres_version(url: str) -> str:
    import sqlalchemy as sa

    from config import database_url

    engine = sa.create_engine(database_url(url, Path(".")))
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.scalar(sa.text("SHOW server_version"))).split()[0]
    finally:
        engine.dispose()


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
