"""Demo data: `seed()` and `flask seed` make the requested, realistic, reproducible rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, User, followers
from microblog.seed import DEMO_PASSWORD, seed

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def snapshot() -> dict[str, list[tuple]]:
    """Every seeded row, in a stable order (the password hash has a random salt, so it is left out)."""
    user_columns = (User.id, User.username, User.email, User.about_me, User.role, User.created_at,
                    User.last_seen)
    user_rows = db.session.execute(sa.select(*user_columns).order_by(User.id)).all()
    post_rows = db.session.execute(
        sa.select(Post.id, Post.body, Post.timestamp, Post.user_id).order_by(Post.id)
    ).all()
    follow_rows = db.session.execute(
        sa.select(followers).order_by(followers.c.follower_id, followers.c.followed_id)
    ).all()
    return {
        "users": [tuple(row) for row in user_rows],
        "posts": [tuple(row) for row in post_rows],
        "follows": [tuple(row) for row in follow_rows],
    }


def count(table) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def test_same_seed_gives_same_data_and_another_seed_does_not(app):
    with app.app_context():
        seed(20, 150, 4, seed_value=42, now=NOW)
        first = snapshot()
        db.session.remove()
        db.drop_all()
        db.create_all()
        seed(20, 150, 4, seed_value=42, now=NOW)
        assert snapshot() == first
        db.session.remove()
        db.drop_all()
        db.create_all()
        seed(20, 150, 4, seed_value=43, now=NOW)
        other = snapshot()
    assert other["posts"] != first["posts"]
    assert other["follows"] != first["follows"]


def test_seed_creates_the_requested_counts_and_reports_progress(app):
    reported: list[tuple[str, int]] = []
    with app.app_context():
        counts = seed(25, 300, 6, progress=lambda stage, n: reported.append((stage, n)))
        assert counts == {"users": 25, "posts": 300, "follows": 150}
        assert (count(User), count(Post), count(followers)) == (25, 300, 150)
    assert [stage for stage, _ in reported] == ["users", "posts", "follows"]
    # The CLI's progress bar is sized users + posts + follows: it must end exactly full.
    assert sum(n for _, n in reported) == 25 + 300 + 150


def test_follows_are_distinct_never_self_and_capped_by_the_number_of_others(app):
    with app.app_context():
        seed(12, 50, 5)
        pairs = db.session.execute(sa.select(followers.c.follower_id, followers.c.followed_id)).all()
        assert len(pairs) == 12 * 5
        assert len(set(pairs)) == len(pairs)
        assert all(follower != followed for follower, followed in pairs)
        per_follower = db.session.execute(
            sa.select(followers.c.follower_id, sa.func.count()).group_by(followers.c.follower_id)
        ).all()
        assert sorted(n for _, n in per_follower) == [5] * 12

        db.session.execute(sa.delete(followers))
        db.session.execute(sa.delete(Post))
        db.session.execute(sa.delete(User))
        db.session.commit()
        counts = seed(4, 10, 50)  # more follows asked than there are other people: everyone follows all
        assert counts["follows"] == 4 * 3
        assert count(followers) == 12


def test_seeded_history_is_plausible(app):
    """Nobody posts or follows before joining; post ids grow with time; everything is within a year."""
    with app.app_context():
        seed(30, 400, 5, now=NOW)
        users = {user.id: user for user in db.session.scalars(sa.select(User))}
        posts = db.session.scalars(sa.select(Post).order_by(Post.id)).all()
        for post in posts:
            assert post.timestamp >= users[post.user_id].created_at
            assert NOW - timedelta(days=366) <= post.timestamp <= NOW
            assert 1 <= len(post.body) <= 280
        assert [post.timestamp for post in posts] == sorted(post.timestamp for post in posts)
        for follower_id, followed_id, created_at in db.session.execute(sa.select(followers)):
            assert created_at >= users[follower_id].created_at
            assert created_at >= users[followed_id].created_at
            assert created_at <= NOW
        for user in users.values():
            assert user.created_at <= user.last_seen <= NOW


def test_seed_leaves_fresh_planner_statistics_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL keeps planner statistics; SQLite is left without them on purpose")
        seed(6, 70, 2)
        estimate = db.session.scalar(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'post'::regclass"))
        assert estimate == 70


def test_seeding_again_adds_new_people(app):
    with app.app_context():
        seed(10, 20, 3, seed_value=5)
        seed(10, 20, 3, seed_value=5)
        assert count(User) == 20
        assert count(Post) == 40
        assert count(followers) == 60
        names = db.session.scalars(sa.select(User.username)).all()
        assert len({name.lower() for name in names}) == 20


def invoke_seed(app, runner, *args: str):
    # `flask` itself pushes an app context for every command; the test runner needs one pushed here.
    with app.app_context():
        result = runner.invoke(args=["seed", *args])
    assert result.exit_code == 0, result.output
    return result


def test_seed_command_adds_the_requested_rows(app, runner):
    result = invoke_seed(app, runner, "--users", "15", "--posts", "120", "--follows", "4", "--seed", "7")
    assert "Added 15 users, 120 posts and 60 follows" in result.output
    with app.app_context():
        assert (count(User), count(Post), count(followers)) == (15, 120, 60)


def test_seed_command_if_empty_seeds_an_empty_site_and_leaves_a_populated_one_alone(app, runner):
    result = invoke_seed(app, runner, "--users", "5", "--posts", "10", "--follows", "2", "--if-empty")
    assert "Added 5 users" in result.output
    with app.app_context():
        before = snapshot()

    result = invoke_seed(app, runner, "--users", "5", "--posts", "10", "--follows", "2", "--if-empty")
    assert "already has users: not seeding" in result.output
    with app.app_context():
        assert snapshot() == before


def test_demo_users_can_sign_in_with_the_demo_password(app, client):
    with app.app_context():
        seed(5, 40, 2)
        username = db.session.scalar(sa.select(User.username).order_by(User.id))

    response = client.post("/auth/login", data={"username": username, "password": "wrong-password"})
    assert response.status_code == 200
    assert b"Invalid username or password" in response.data

    response = client.post("/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    timeline = client.get("/")
    assert timeline.status_code == 200
    assert username.encode() in timeline.data


def test_demo_users_count_as_confirmed_and_can_post_where_confirmation_is_required(make_app):
    app = make_app(EMAIL_CONFIRMATION=True)
    with app.app_context():
        seed(3, 5, 1)
        user = db.session.scalar(sa.select(User).order_by(User.id))
        assert user.confirmed_at == user.created_at
        assert user.notify_new_follower is False  # example.com addresses receive no mail
        username = user.username
    client = app.test_client()
    signed_in = client.post("/auth/login", data={"username": username, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    response = client.post("/", data={"post": "Hello from a demo account"}, follow_redirects=True)
    assert b"Your post is now live!" in response.data


def test_seeded_conversations_are_consistent(app):
    """Replies answer earlier posts, tags and mentions match the text, every counter matches its rows,
    and one post has the long thread the benchmark opens."""
    from microblog import post_text
    from microblog.models import Announce, Bookmark, Like, Mention, PostTag, Tag
    from microblog.seed_conversations import LONG_THREAD_REPLIES

    with app.app_context():
        seed(40, 3_000, 5, now=NOW)
        posts = {post.id: post for post in db.session.scalars(sa.select(Post))}
        names = {user.id: user.username.lower() for user in db.session.scalars(sa.select(User))}
        tags = dict(db.session.execute(sa.select(Tag.id, Tag.name)).tuples().all())
        filed: dict[int, set[str]] = {}
        for post_id, tag_id in db.session.execute(sa.select(PostTag.post_id, PostTag.tag_id)):
            filed.setdefault(post_id, set()).add(tags[tag_id])
        mentioned: dict[int, set[str]] = {}
        for post_id, user_id in db.session.execute(sa.select(Mention.post_id, Mention.user_id)):
            mentioned.setdefault(post_id, set()).add(names[user_id])
        replies: dict[int, int] = {}
        for post in posts.values():
            assert set(post_text.tag_names(post.body)) == filed.get(post.id, set())
            assert set(post_text.mentioned_names(post.body)) == mentioned.get(post.id, set())
            if post.is_reply:
                parent = posts[post.in_reply_to_id]
                assert parent.id < post.id and post.in_reply_to_user_id == parent.user_id
                replies[parent.id] = replies.get(parent.id, 0) + 1
            assert post.visibility in ("public", "unlisted", "followers")
        assert all(post.reply_count == replies.get(post.id, 0) for post in posts.values())
        assert max(replies.values()) >= LONG_THREAD_REPLIES
        assert 0.15 < len(filed) / len(posts) and 0.2 < sum(replies.values()) / len(posts) < 0.5
        for model, column in ((Like, Post.like_count), (Announce, Post.repost_count)):
            rows = dict(db.session.execute(
                sa.select(model.post_id, sa.func.count()).group_by(model.post_id)).tuples().all())
            assert rows, model
            counted = dict(db.session.execute(sa.select(Post.id, column)).tuples().all())
            assert all(counted[post_id] == rows.get(post_id, 0) for post_id in counted), model
        reposted = db.session.scalars(sa.select(Announce.post_id)).all()
        assert all(posts[post_id].visibility != "followers" for post_id in reposted)
        assert count(Bookmark) > 0
        for model in (Like, Announce, Bookmark):
            for created_at, post_id in db.session.execute(sa.select(model.created_at, model.post_id)):
                assert posts[post_id].timestamp <= created_at <= NOW


def test_seed_command_adds_pictures_to_some_new_posts_and_profiles(app, runner):
    from pathlib import Path

    from microblog.models import Media, MediaStatus

    result = invoke_seed(app, runner, "--users", "30", "--posts", "300", "--follows", "4")
    assert "images on" in result.output
    media_dir = Path(app.config["MEDIA_DIR"])
    with app.app_context():
        shown = db.session.scalars(sa.select(Media)).all()
        assert shown and all(item.status == MediaStatus.READY and item.description for item in shown)
        # Every image's files are stored, and each post counts its images, in order.
        keys = [key for item in shown for key in (item.file_key, item.thumbnail_key)]
        assert all((media_dir / key).is_file() for key in keys)
        by_post: dict[int, list[int]] = {}
        for item in shown:
            by_post.setdefault(item.post_id, []).append(item.position)
        with_images = sa.select(Post.id, Post.media_count).where(Post.media_count > 0)
        counts = dict(db.session.execute(with_images).tuples().all())
        assert counts == {post_id: len(positions) for post_id, positions in by_post.items()}
        assert all(sorted(positions) == list(range(len(positions))) for positions in by_post.values())
        avatars = db.session.scalars(sa.select(User.avatar_key).where(User.avatar_key.is_not(None))).all()
        assert avatars and all((media_dir / key).is_file() for key in avatars)
        newest = db.session.scalar(sa.select(Post.id).where(Post.media_count > 0, Post.visibility == "public")
                                   .order_by(Post.timestamp.desc()))
    # The pictures show on the posts' pages, with their alt text.
    page = app.test_client().get(f"/post/{newest}").get_data(as_text=True)
    assert '<img src="/media/m/' in page and 'alt="A ' in page


def test_seed_command_without_images_adds_none(app, runner):
    from microblog.models import Media

    result = invoke_seed(app, runner, "--users", "5", "--posts", "40", "--follows", "2", "--no-images")
    assert "images on" not in result.output
    with app.app_context():
        assert count(Media) == 0
        assert db.session.scalar(sa.select(sa.func.count()).where(User.avatar_key.is_not(None))) == 0
