"""The benchmark: seed a data set, serve it with gunicorn, load it with wrk, compare with hello world.

Run with ``make bench`` (or ``.venv/bin/python bench/run.py --help``). See bench/README.md.
Everything runs on 127.0.0.1, on free ports; every process started here is stopped here.
The pieces live beside this file: servers.py (gunicorn, HTTP), datasets.py (databases, seeding),
measure.py (wrk, CPU, memory, SQL counts) and report.py (goals, tables).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the project root must be importable
    sys.path.insert(0, str(ROOT))

from bench.datasets import (  # noqa: E402
    Database,
    bench_user,
    database_env,
    postgres_database,
    postgres_version,
    seed,
    sqlite_database,
)
from bench.measure import (  # noqa: E402
    Target,
    WrkOptions,
    count_queries,
    ensure_wrk,
    measure,
    wait_for_quiet,
    worker_rss_mb,
)
from bench.media import upload_form  # noqa: E402
from bench.report import RESULTS_DIR, evaluate, machine, report  # noqa: E402
from bench.servers import (  # noqa: E402
    PYTHON,
    Server,
    api_token,
    mastodon_token,
    page_link,
    run,
    say,
    sign_in,
    start_gunicorn,
    stop,
    stop_all,
)

FULL = {"users": 10_000, "posts": 1_000_000, "follows": 50}
SMALL = {"users": 1_000, "posts": 10_000, "follows": 50}
HOME_DEEP_PAGE = 50
EXPLORE_DEEP_PAGE = 2_000
TAG_DEEP_PAGE = 500
SEARCH_QUERY = "coffee"


def wanted(args: argparse.Namespace, key: str) -> bool:
    """Whether ``--paths`` selects the path ``key`` (a key, or a prefix of keys: ``search``, ``api``)."""
    return not args.paths or any(key.startswith(p.strip()) for p in args.paths.split(",") if p.strip())


def targets(args: argparse.Namespace, server: Server, me: dict, cookie: str, token: str,
            searchable: bool, workdir: Path) -> list[Target]:
    """The paths measured, in order (the selected ones); deep pages are found by walking to them."""
    # Walking to the deep pages takes a while: only when they are measured.
    home_deep, home_reached = (page_link(server, "/", HOME_DEEP_PAGE, cookie)
                               if wanted(args, "home-deep") else ("/", 1))
    explore_deep, explore_reached = (page_link(server, "/explore", EXPLORE_DEEP_PAGE, cookie)
                                     if wanted(args, "explore-deep") else ("/explore", 1))
    other = urllib.parse.quote(me["other"])
    tag = f"/tags/{urllib.parse.quote(me['tag'] or 'coffee')}"
    tag_deep, tag_reached = (page_link(server, tag, TAG_DEEP_PAGE, cookie)
                             if wanted(args, "tag-deep") else (tag, 1))
    found = [
        Target("home", "home timeline, page 1", "/", "page"),
        Target("home-deep", f"home timeline, page {home_reached}", home_deep, "page"),
        Target("explore", "explore, page 1", "/explore", "page"),
        Target("explore-deep", f"explore, page {explore_reached:,}", explore_deep, "page"),
        Target("profile", "profile", f"/user/{other}", "page"),
        Target("followers", "followers list", f"/user/{other}/followers"),
        Target("thread", "permalink, 200-reply thread", f"/post/{me['thread']}", "page"),
        Target("tag", "tag page 1", tag, "page"),
        Target("tag-deep", f"tag page {tag_reached:,}", tag_deep, "page"),
    ]
    if wanted(args, "images"):
        # Another member, whose home timeline has four images on every post (bench/media.py).
        gallery_cookie, _ = sign_in(server, me["gallery"])
        found.append(Target("images", "home timeline, 4 images a post", "/", "page",
                            cookie=gallery_cookie))
    if searchable:
        found.append(Target("search", f"search ?q={SEARCH_QUERY}", f"/search?q={SEARCH_QUERY}"))
        found.append(Target("search-new", f"search ?q={SEARCH_QUERY}&sort=new",
                            f"/search?q={SEARCH_QUERY}&sort=new"))
    found += [
        Target("api-user", "GET /api/users/<id>", f"/api/users/{me['other_id']}", "api", auth="none"),
        Target("api-followers", "GET /api/users/<id>/followers", f"/api/users/{me['other_id']}/followers",
               "api", auth="none"),
        Target("api-timeline", "GET /api/timeline", "/api/timeline", "api", auth="bearer"),
        # The same home timeline as a Mastodon app reads it (an OAuth token of the bench user).
        Target("api-mastodon-home", "GET /api/v1/timelines/home", "/api/v1/timelines/home", "api",
               auth="bearer", bearer=mastodon_token(server, cookie) if wanted(args, "api-mastodon") else ""),
        # Writes last: their after-commit jobs (search indexing) must not slow the reads above.
        Target("like", "POST like / unlike", f"/post/{me['liked']}/like", "", "POST",
               urllib.parse.urlencode({"csrf_token": token}), alternate=f"/post/{me['liked']}/unlike"),
        Target("post", "POST / (new post)", "/", "", "POST",
               urllib.parse.urlencode({"csrf_token": token, "post": "Benchmark post"}) + "+{n}"),
    ]
    if wanted(args, "upload"):
        # Last of all: each post leaves a resize to the jobs thread of the worker that took it.
        form, content_type, size = upload_form(workdir, token)
        found.append(Target("upload", f"POST / with a {size / 1e6:.1f} MB JPEG", "/", "", "POST",
                            body_file=str(form), content_type=content_type))
    return [t for t in found if wanted(args, t.key)]


def bench_set(label: str, sizes: dict, database: Database, args: argparse.Namespace, wrk_bin: str,
              workdir: Path) -> dict:
    """Seed one data set into one database and measure every path on it, plus hello world."""
    say(f"\n== {database.kind}: {label} ({sizes['users']:,} users, {sizes['posts']:,} posts, "
        f"{sizes['follows']} follows each) ==")
    options = wrk_options(args)
    env = database_env(database, workdir, args.workers, **{
        # The limiter stays on (its cost is part of every request) but never refuses the load.
        "RATELIMIT_API": "100000000 per minute",
        "RATELIMIT_API_WRITES": "100000000 per minute",
        # The Mastodon-compatible API counts per token (300 per 5 minutes): the bench's one token.
        "RATELIMIT_MASTODON": "100000000 per minute",
        # Posting is measured from one account: its own limit (300 per 3 hours) must not answer 429.
        "RATELIMIT_POSTS": "100000000 per minute",
        # Nor its limit on uploads, nor its storage quota (every upload path post keeps its image).
        "RATELIMIT_UPLOADS": "100000000 per minute",
        "MEDIA_QUOTA_BYTES": str(10**15),
    })
    (workdir / "instance").mkdir(parents=True, exist_ok=True)
    load_before = wait_for_quiet(args.wait_idle)
    searchable = seed(database, env, sizes, args.no_search, wanted(args, "search"))
    me = bench_user(env)
    say(f"  signed in as {me['username']} (id {me['id']}), who follows {me['follows']} people")
    if wanted(args, "images"):
        # After bench_user: these accounts must not change which seeded account is the bench user.
        gallery = json.loads(run([PYTHON, str(ROOT / "bench" / "media.py")], env, "image timeline",
                                 quiet=True).splitlines()[-1])
        me["gallery"] = gallery["fan"]

    hello = start_gunicorn("bench.hello:app", env, workdir, "hello", args.workers)
    try:
        hello_result = measure(wrk_bin, hello, Target("hello", "hello world", "/", auth="none"), options)
    finally:
        stop(hello)

    server = start_gunicorn("microblog:create_app()", env, workdir, "app", args.workers)
    try:
        cookie, token = sign_in(server, me["username"])
        bearer = api_token(server, me["username"])
        measured = targets(args, server, me, cookie, token, searchable, workdir)
        plans = workdir / "plans.md"
        queries = count_queries(env, measured, cookie, bearer, plans)
        for target in measured:
            target.result = measure(wrk_bin, server, target, options, cookie, bearer)
            target.result["queries"] = queries.get(target.key)
        rss = worker_rss_mb(server.process.pid)
        say(f"  worker memory after the run: {', '.join(f'{mb:.0f} MB' for mb in rss)}")
    finally:
        stop(server)
    return {
        "label": label, "sizes": sizes, "database": database.kind, "searchable": searchable,
        "load": [load_before, round(os.getloadavg()[0], 2)],
        "hello": hello_result, "user": me, "rss_mb": rss,
        "plans": plans.read_text() if plans.exists() else "",
        "rows": [{"key": t.key, "name": t.name, "group": t.group, "method": t.method, "path": t.path,
                  **t.result} for t in measured],
    }


def wrk_options(args: argparse.Namespace) -> WrkOptions:
    return WrkOptions(threads=args.threads, connections=args.connections, warmup=args.warmup,
                      duration=args.duration)


def parse_args() -> argparse.Namespace:
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
                        help="leave /search out "
                             "(on SQLite it needs a Whoosh index: ~15-20 minutes at 1M posts)")
    parser.add_argument("--paths", default="", metavar="KEYS",
                        help="measure only these paths: keys or their prefixes, comma-separated (search, "
                             "home, explore, profile, followers, thread, tag, images, api, like, post, "
                             "upload); hello world is always measured")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each data set, wait up to this long for the load average to drop")
    parser.add_argument("--no-save", action="store_true", help="print the table, do not write bench/results/")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (databases, logs)")
    return parser.parse_args()


def save(text: str, results: list[dict], args: argparse.Namespace, started: datetime, extra: dict) -> None:
    """The report, the query plans and every figure, under bench/results/."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"{started:%Y-%m-%d-%H%M}-{socket.gethostname()}-{'small' if args.small else 'full'}"
    (RESULTS_DIR / f"{stem}.md").write_text(text + "\n")
    plans = [f"# Query plans: {r['database']}, {r['label']}\n\n{r['plans']}"
             for r in results if r.get("plans")]
    (RESULTS_DIR / f"{stem}-plans.md").write_text("\n".join(plans))
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(
        {"started": started.isoformat(), "machine": machine(), **extra, "args": vars(args),
         "results": [{k: v for k, v in r.items() if k != "plans"} for r in results]}, indent=1) + "\n")
    say(f"\nsaved: bench/results/{stem}.md (and -plans.md, .json)")


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
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

    text = report(results, args.workers, wrk_options(args), started, extra)
    say("\n" + text)
    if not args.no_save:
        save(text, results, args, started, extra)


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
