"""Upgrading a site from an earlier release keeps every row, on SQLite and PostgreSQL.

The earlier release is the one that brought private messages (commit ca449d9, whose migrations'
head was revision 0006). Its schema is built with `flask db upgrade 0006`, filled with plain SQL as
that release's code would have written it, then `flask db upgrade` (the release step, run as a real
process in production mode) brings it to this code's head: six migrations, among them the counter
backfill (0007) and the stored search vectors (0012, PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from microblog.extensions import db
from microblog.models import Message, Post, User
from microblog.passwords import hash_password
from microblog.schema_check import database_revision, migrations_head
from microblog.timeutil import UTCDateTime
from tests.faults.processes import flask, process_env
from tests.test_migrations import schema_differences

PREVIOUS_RELEASE = "0006"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PASSWORDS = {name: f"{name}'s long pass phrase" for name in ("ann", "bob", "cyd")}


def insert(table: str, returning: bool = True, **values) -> int | None:
    """One row, in plain SQL; times bound as the app stores them. Returns the new id."""
    columns = ", ".join(f'"{name}"' for name in values)
    placeholders = ", ".join(f":{name}" for name in values)
    statement = sa.text(f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})'
                        + (" RETURNING id" if returning else ""))
    times = [sa.bindparam(name, type_=UTCDateTime()) for name, value in values.items()
             if isinstance(value, datetime)]
    result = db.session.execute(statement.bindparams(*times), values)
    return result.scalar_one() if returning else None


def seed_previous_release() -> dict[str, int]:
    """Three people, their posts, follows, messages and a notification, as release 0006 wrote them."""
    ids = {}
    for n, name in enumerate(PASSWORDS):
        # bob signed up under an older release still, whose hashes were werkzeug's.
        stored = (generate_password_hash(PASSWORDS[name], method="pbkdf2:sha256:1000") if name == "bob"
                  else hash_password(PASSWORDS[name]))
        ids[name] = insert("user", username=name, email=f"{name}@example.com", password_hash=stored,
                           about_me=f"I am {name}", role="user", created_at=START + timedelta(minutes=n),
                           last_seen=START + timedelta(days=1), confirmed_at=START, notify_new_follower=True,
                           locale="fr" if name == "cyd" else None, timezone="Europe/Paris")
    posts = [("ann", "Zeppelin over the harbour", "en"), ("ann", "Second thoughts", "en"),
             ("ann", "A third post", None), ("bob", "Bob was here", "en"), ("bob", "Encore moi", "fr"),
             ("cyd", "Bonjour à tous", "fr")]
    for n, (author, body, language) in enumerate(posts):
        insert("post", body=body, timestamp=START + timedelta(hours=n), user_id=ids[author],
               language=language)
    for follower, followed in (("ann", "bob"), ("bob", "ann"), ("cyd", "ann")):
        insert("followers", returning=False, follower_id=ids[follower], followed_id=ids[followed],
               created_at=START)
    insert("message", sender_id=ids["bob"], recipient_id=ids["ann"], body="Lunch tomorrow?",
           timestamp=START + timedelta(hours=2), read_at=START + timedelta(hours=3))
    insert("message", sender_id=ids["bob"], recipient_id=ids["ann"], body="Or Friday?",
           timestamp=START + timedelta(hours=4))
    db.session.execute(sa.text('INSERT INTO notification (user_id, kind, actor_id, payload, created_at) '
                               "VALUES (:user, 'new_follower', :actor, :payload, :at)").bindparams(
        sa.bindparam("payload", type_=sa.JSON()), sa.bindparam("at", type_=UTCDateTime())),
        {"user": ids["ann"], "actor": ids["cyd"], "payload": {"username": "cyd"}, "at": START})
    db.session.commit()
    return ids


def test_upgrade_from_the_previous_release_keeps_everything(make_app, database, tmp_path):
    search = {"SEARCH_BACKEND": "postgres"} if "TEST_SCHEMA" in database else {}
    app = make_app(create_tables=False, **search)
    old = app.test_cli_runner().invoke(args=["db", "upgrade", PREVIOUS_RELEASE])
    assert old.exit_code == 0, old.output
    with app.app_context():
        ids = seed_previous_release()
        db.session.remove()
        db.engine.dispose()

    release = flask(process_env(database, tmp_path, **search), "db", "upgrade")
    assert release.returncode == 0, release.stderr
    assert "Running upgrade 0011 -> 0012" in release.stderr
    assert database_revision(app) == migrations_head(app)
    assert schema_differences(app) == []

    with app.app_context():
        people = {user.username: user for user in db.session.scalars(sa.select(User))}
        assert set(people) == set(PASSWORDS)
        ann = people["ann"]
        assert (ann.id, ann.email, ann.about_me, ann.timezone) == (ids["ann"], "ann@example.com", "I am ann",
                                                                    "Europe/Paris")
        assert ann.created_at == START and ann.role == "user" and ann.session_version == 0
        # 0007 counted what was there.
        assert (ann.post_count, ann.follower_count, ann.following_count) == (3, 2, 1)
        assert (people["cyd"].post_count, people["cyd"].following_count) == (1, 1)
        bodies = db.session.scalars(sa.select(Post.body).order_by(Post.timestamp)).all()
        assert bodies[0] == "Zeppelin over the harbour" and len(bodies) == 6
        assert db.session.scalar(sa.select(Post.timestamp).where(Post.body.startswith("Zeppelin"))) == START
        messages = db.session.scalars(sa.select(Message).order_by(Message.timestamp)).all()
        assert [(m.body, m.read_at is not None) for m in messages] == [("Lunch tomorrow?", True),
                                                                      ("Or Friday?", False)]
        payload = db.session.execute(sa.text("SELECT payload FROM notification")).scalar_one()
        assert "cyd" in str(payload)

    # The people can use the site as before.
    client = app.test_client()
    signed_in = client.post("/auth/login", data={"username": "ann", "password": PASSWORDS["ann"]})
    assert signed_in.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Bob was here" in home  # she follows bob
    conversation = client.get("/messages/bob").get_data(as_text=True)
    assert "Lunch tomorrow?" in conversation and "Or Friday?" in conversation
    # New rows get new ids (the sequences survived) and show up.
    assert client.post("/", data={"post": "After the upgrade"}).status_code == 302
    if search:  # the stored vectors were computed for the old rows
        found = client.get("/search?q=zeppelin").get_data(as_text=True)
        assert 'id="post-1"' in found and "over the harbour" in found  # the word itself is highlighted
    client.post("/auth/logout")
    # bob's old werkzeug hash still signs him in (and is upgraded to argon2 on the way).
    bob = client.post("/auth/login", data={"username": "bob", "password": PASSWORDS["bob"]})
    assert bob.status_code == 302
    with app.app_context():
        rehashed = db.session.scalar(sa.select(User.password_hash).where(User.id == ids["bob"]))
        assert rehashed.startswith("$argon2")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 7
