"""Each account's post, follower and following counts stay exact through every service that changes them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from microblog.extensions import db
from microblog.models import Post, User, followers
from microblog.seed import seed
from microblog.services import counters, follows, posts
from tests.factories import make_user, token_for


def exact(user_id: int) -> tuple[int, int, int]:
    """(posts, followers, following) counted from the tables."""
    count = lambda q: db.session.scalar(sa.select(sa.func.count()).select_from(q))  # noqa: E731
    return (
        count(sa.select(Post).where(Post.user_id == user_id).subquery()),
        count(sa.select(followers).where(followers.c.followed_id == user_id).subquery()),
        count(sa.select(followers).where(followers.c.follower_id == user_id).subquery()),
    )


def stored(user_id: int) -> tuple[int, int, int]:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    return user.post_count, user.follower_count, user.following_count


def assert_all_exact() -> None:
    for user_id in db.session.scalars(sa.select(User.id)):
        assert stored(user_id) == exact(user_id), user_id


def test_services_keep_counts_exact(app):
    with app.app_context():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        first = posts.publish_post(alice, "one").id
        posts.publish_post(alice, "two")
        posts.publish_post(bob, "three")
        assert follows.follow(alice, bob) is True
        assert follows.follow(alice, bob) is False  # twice is harmless, and counted once
        follows.follow(carol, bob)
        follows.follow(bob, alice)
        assert stored(alice.id) == (2, 1, 1) and stored(bob.id) == (1, 2, 1) and stored(carol.id) == (0, 0, 1)
        posts.delete_post(alice, first)
        posts.delete_post(alice, first)  # already gone: nothing to count
        assert follows.unfollow(carol, bob) is True
        assert follows.unfollow(carol, bob) is False
        assert stored(alice.id) == (1, 1, 1) and stored(bob.id) == (1, 1, 1) and stored(carol.id) == (0, 0, 0)
        assert_all_exact()


def test_pages_and_api_show_the_counts(client, app, auth):
    with app.app_context():
        alice_id, bob_id = make_user("alice").id, make_user("bob").id
    auth.login()
    client.post("/", data={"post": "hello"})
    client.post("/follow/bob")
    headers = token_for(client, "bob")
    assert client.post("/api/posts", json={"body": "from the API"}, headers=headers).status_code == 201
    assert client.post(f"/api/users/{alice_id}/follow", headers=headers).status_code == 204
    html = client.get("/user/alice").get_data(as_text=True)
    assert "1 post" in html and "1 follower" in html and "1 following" in html
    body = client.get(f"/api/users/{bob_id}").json
    assert (body["post_count"], body["follower_count"], body["following_count"]) == (1, 1, 1)
    assert client.get(f"/api/users/{bob_id}/followers").json["_meta"]["total_items"] == 1
    assert client.delete(f"/api/users/{alice_id}/follow", headers=headers).status_code == 204
    with app.app_context():
        assert stored(alice_id) == (1, 0, 1)
        assert_all_exact()


def test_a_failed_post_changes_no_count(app):
    with app.app_context():
        alice = make_user("alice")
        try:
            posts.publish_post(alice, "   ")
        except Exception:  # noqa: BLE001 - the validation error is the point
            pass
        assert stored(alice.id) == (0, 0, 0)


def test_seed_sets_exact_counts(app):
    with app.app_context():
        seed(40, 400, 6)
        assert_all_exact()
        assert db.session.scalar(sa.select(sa.func.sum(User.post_count))) == 400


def test_recount_repairs_counts(app):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        db.session.execute(sa.insert(followers).values(follower_id=alice.id, followed_id=bob.id))
        db.session.add(Post(body="behind the services' back", author=alice))
        db.session.commit()
        assert stored(alice.id) == (0, 0, 0)
        counters.recount([alice.id, bob.id])
        db.session.commit()
        assert_all_exact()


def test_migration_backfills_the_counts(make_app):
    app = make_app(create_tables=False)
    with app.app_context():
        upgrade(revision="0006")
        now = "CURRENT_TIMESTAMP"
        for name in ("ann", "ben"):
            db.session.execute(sa.text(
                'INSERT INTO "user" (username, email, password_hash, role, created_at, last_seen) '
                f"VALUES ('{name}', '{name}@example.com', 'x', 'user', {now}, {now})"
            ))
        ann, ben = db.session.scalars(sa.text('SELECT id FROM "user" ORDER BY username')).all()
        db.session.execute(sa.text(
            f"INSERT INTO followers (follower_id, followed_id, created_at) VALUES ({ann}, {ben}, {now})"
        ))
        for body in ("a", "b"):
            db.session.execute(
                sa.text(f"INSERT INTO post (body, user_id, timestamp) VALUES ('{body}', {ann}, {now})")
            )
        db.session.commit()
        upgrade()
        rows = db.session.execute(sa.text(
            'SELECT post_count, follower_count, following_count FROM "user" ORDER BY username')).all()
        assert [tuple(r) for r in rows] == [(2, 0, 1), (0, 1, 0)]
