"""No GET changes state: every GET route in the URL map is requested and no row is written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog import signed_tokens
from microblog.extensions import db
from microblog.models import Post, Task, User
from tests.factories import make_follow, make_post, make_user

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def sample_values(app) -> dict[str, object]:
    """One real value for every URL argument in the map (a new argument must be added here)."""
    with app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        task = db.session.scalar(sa.select(Task))
        return {
            "username": "bob",
            "user_id": bob.id,
            "post_id": db.session.scalar(sa.select(Post.id)),
            "digest": bob.avatar_digest,
            "task_id": task.id,
            "fmt": "csv",
            "filename": "microblog.css",
            "name": "signups",
            "key": "m/ab/" + "ab" * 32 + ".jpg",
            "media_id": 1,
            "version": "2.0",
            # The Mastodon-compatible API's (read without a token here: public answers or 401).
            "account_id": bob.id,
            "status_id": db.session.scalar(sa.select(Post.id)),
            "raw_id": 1,
            "hashtag": "hello",
            "list_id": 1,
            # Federation: the id of one of our activities.
            "kind": "create",
            "rest": "1",
            "token": {
                "auth.reset_password": signed_tokens.reset_token(alice),
                "auth.confirm_email": signed_tokens.confirm_token(alice),
                "auth.unsubscribe": signed_tokens.unsubscribe_token(alice, "new_follower"),
                # Random tokens stored as digests: an unknown one shows the "link expired" page.
                "email_change.confirm": "a" * 43,
                "email_change.undo": "b" * 43,
            },
        }


@pytest.mark.slow
def test_no_get_route_writes_to_the_database(app, client, auth):
    with app.app_context():
        alice, bob = make_user("alice", confirmed_at=None), make_user("bob")
        make_follow(alice, bob)
        make_post(bob, "hello")
        db.session.add(Task(id="t" * 32, name="export_posts", description="csv", user_id=alice.id))
        db.session.commit()
    auth.login()
    client.get("/")  # the first page after login may record last_seen (at most once a minute)
    client.get("/actor")  # the site's key pair (federation) is made at its first need, once
    values = sample_values(app)

    writes: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(WRITES):
            writes.append(statement.split("\n")[0])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    checked = []
    try:
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            args = {}
            for name in rule.arguments:
                assert name in values, f"add a sample value for <{name}> ({rule.endpoint})"
                value = values[name]
                args[name] = value[rule.endpoint] if isinstance(value, dict) else value
            with app.test_request_context():
                url = app.url_for(rule.endpoint, **args)
            before = len(writes)
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            assert writes[before:] == [], f"GET {url} wrote: {writes[before:]}"
            checked.append(rule.endpoint)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(checked) >= 25
    with app.app_context():
        assert db.session.scalar(sa.select(User.confirmed_at).where(User.username == "alice")) is None
