"""The bench's databases: a SQLite file or a PostgreSQL schema of its own, migrated and seeded."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import BIN, PYTHON, production_env, run, say


@dataclass
class Database:
    kind: str  # "sqlite" or "postgresql"
    url: str
    cleanup: list = field(default_factory=list)


def sqlite_database(workdir: Path) -> Database:
    return Database("sqlite", f"sqlite:///{workdir / 'bench.db'}")


def postgres_database(admin_url: str) -> Database:
    """A schema of its own inside ``admin_url``'s database, dropped by ``cleanup``."""
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


def postgres_version(url: str) -> str:
    import sqlalchemy as sa

    from config import database_url

    engine = sa.create_engine(database_url(url, Path(".")))
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.scalar(sa.text("SHOW server_version"))).split()[0]
    finally:
        engine.dispose()


def database_env(database: Database, workdir: Path, workers: int, **settings: str) -> dict[str, str]:
    """A production environment on ``database`` for gunicorn with ``workers`` workers, quiet logs."""
    env = production_env(database.url, workdir / "instance", LOG_LEVEL="WARNING",
                         WEB_CONCURRENCY=str(workers), **settings)
    if database.kind == "postgresql":
        env["SEARCH_BACKEND"] = "postgres"  # several app servers share PostgreSQL's index
    return env


def has_route(env: dict[str, str], endpoint: str) -> bool:
    out = run([str(BIN / "flask"), "routes"], env, "flask routes", quiet=True)
    return any(line.split()[:1] == [endpoint] for line in out.splitlines())


def vacuum(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('VACUUM ANALYZE "user", post, followers')
    finally:
        engine.dispose()


def seed(database: Database, env: dict[str, str], sizes: dict, no_search: bool, search_wanted: bool) -> bool:
    """Migrate and seed ``sizes`` (users, posts, follows), and build the search index when search is
    measured. Returns whether it is (the site has /search and neither flag leaves it out)."""
    flask = str(BIN / "flask")
    run([flask, "translate", "compile"], env, "compile catalogs", quiet=True)
    run([flask, "db", "upgrade"], env, "migrate")
    has_search = has_route(env, "main.search")
    whoosh = env.get("SEARCH_BACKEND", "whoosh") == "whoosh" and has_search
    if whoosh and no_search:
        # An empty index, so new posts are indexed one by one (as on a live site) instead of the
        # first one finding no index and starting a full rebuild inside a gunicorn worker.
        run([flask, "search", "reindex"], env, "create an empty search index", quiet=True)
    run([flask, "seed", "--users", str(sizes["users"]), "--posts", str(sizes["posts"]),
         "--follows", str(sizes["follows"])], env, "seed")
    if database.kind == "postgresql":
        # What autovacuum does within a minute of a bulk load: statistics, and the visibility map
        # that lets index-only scans skip the table.
        vacuum(database.url)
    searchable = has_search and not no_search and search_wanted
    if searchable and whoosh:
        # Whoosh is pure Python: about 1,000 posts a second here, so ~15-20 minutes at 1M posts.
        say(f"  building the Whoosh search index ({sizes['posts']:,} posts; --no-search skips it)...")
        run([flask, "search", "reindex"], env, "build the search index")
    return searchable


def bench_user(env: dict[str, str]) -> dict:
    """A seeded user in the middle of the id range who follows exactly ``follows`` people."""
    script = (
        "import json, sqlalchemy as sa\n"
        "from microblog import create_app\n"
        "from microblog.extensions import db\n"
        "from microblog.models import Post, PostTag, Tag, User, followers\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    top = db.session.scalar(sa.select(sa.func.max(User.id)))\n"
        "    me = db.session.get(User, top // 2)\n"
        "    them = db.session.scalars(sa.select(User).join(followers, followers.c.followed_id == User.id)"
        ".where(followers.c.follower_id == me.id).order_by(User.id)).all()\n"
        "    thread = db.session.scalar(sa.select(Post.id).order_by(Post.reply_count.desc()).limit(1))\n"
        "    tag = db.session.scalar(sa.select(Tag.name).join(PostTag).group_by(Tag.id, Tag.name)"
        ".order_by(sa.func.count().desc()).limit(1))\n"
        "    liked = db.session.scalar(sa.select(Post.id).where(Post.visibility == 'public', Post.hidden_at.is_(None))"
        ".order_by(Post.id.desc()).limit(1))\n"
        "    print(json.dumps({'id': me.id, 'username': me.username, 'follows': len(them),"
        " 'other_id': them[0].id, 'other': them[0].username, 'thread': thread, 'tag': tag,"
        " 'liked': liked}))\n"
    )
    return json.loads(run([PYTHON, "-c", script], env, "pick the bench user", quiet=True).splitlines()[-1])
