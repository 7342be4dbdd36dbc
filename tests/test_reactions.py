"""Likes, reposts and bookmarks: the service rules, the buttons, /bookmarks, the counts under races and
what deleting a post takes with it (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.exceptions import AccountSuspended, NotFound, PermissionDenied
from microblog.extensions import db
from microblog.models import (
    Announce,
    Block,
    Bookmark,
    Like,
    Mute,
    Notification,
    NotificationKind,
    Post,
    User,
    Visibility,
    followers,
)
from microblog.services import posts, reactions
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_post, make_user
from tests.factories import find_user as user
from tests.factories import signed_in_client as sign_in


@pytest.fixture
def post_id(app) -> int:
    """alice's public post; bob and carol exist."""
    with app.app_context():
        alice = make_user("alice")
        make_user("bob"), make_user("carol")
        return make_post(alice, "hello world").id


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def post_counts(post_id: int) -> tuple[int, int]:
    row = db.session.execute(sa.select(Post.like_count, Post.repost_count).where(Post.id == post_id)).one()
    return row[0], row[1]


# -- the service --------------------------------------------------------------------------------
def test_like_twice_is_one_like_and_notifies_the_author_once(app, post_id):
    with app.app_context():
        bob = user("bob")
        reactions.like(bob, post_id)
        reactions.like(bob, post_id)
        assert count(Like) == 1 and post_counts(post_id) == (1, 0)
        note = db.session.scalar(sa.select(Notification))
        assert (note.kind, note.actor_id, note.post_id, note.user_id) == (
            "like", bob.id, post_id, user("alice").id)
        reactions.unlike(bob, post_id)
        reactions.unlike(bob, post_id)  # harmless
        assert count(Like) == 0 and post_counts(post_id) == (0, 0)
        assert count(Notification) == 0  # the unread notification went with the like


def test_unlike_keeps_a_notification_already_read(app, post_id):
    with app.app_context():
        reactions.like(user("bob"), post_id)
        db.session.execute(sa.update(Notification).values(read_at=utcnow()))
        db.session.commit()
        reactions.unlike(user("bob"), post_id)
        assert count(Notification) == 1


def test_repost_counts_notifies_and_undoes(app, post_id):
    with app.app_context():
        reactions.repost(user("bob"), post_id)
        reactions.repost(user("bob"), post_id)
        reactions.repost(user("carol"), post_id)
        assert count(Announce) == 2 and post_counts(post_id) == (0, 2)
        kinds = db.session.scalars(sa.select(Notification.kind)).all()
        assert kinds == ["repost", "repost"]
        reactions.unrepost(user("bob"), post_id)
        assert post_counts(post_id) == (0, 1) and count(Notification) == 1


def test_reposting_your_own_post_is_allowed_without_notification(app, post_id):
    with app.app_context():
        reactions.repost(user("alice"), post_id)
        reactions.like(user("alice"), post_id)
        assert post_counts(post_id) == (1, 1)
        assert count(Notification) == 0


def test_a_followers_only_post_cannot_be_reposted(app, post_id):
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        db.session.execute(followers.insert().values(follower_id=bob.id, followed_id=alice.id))
        private = make_post(alice, "only for my followers")
        private.visibility = Visibility.FOLLOWERS.value
        db.session.commit()
        with pytest.raises(PermissionDenied, match="followers only"):
            reactions.repost(bob, private.id)
        reactions.like(bob, private.id)  # liking it is fine for a follower
        with pytest.raises(NotFound):  # carol does not follow: for her it does not exist
            reactions.like(user("carol"), private.id)
        assert count(Announce) == 0 and count(Like) == 1


def test_unknown_and_hidden_posts_are_not_found(app, post_id):
    with app.app_context():
        bob = user("bob")
        for bad in (0, -1, 2**63, post_id + 1000):
            for action in (reactions.like, reactions.repost, reactions.bookmark, reactions.unlike):
                with pytest.raises(NotFound):
                    action(bob, bad)
        db.session.execute(sa.update(Post).values(hidden_at=utcnow()))
        db.session.commit()
        with pytest.raises(NotFound):
            reactions.like(bob, post_id)


def test_a_suspended_account_cannot_like_or_repost(app, post_id):
    with app.app_context():
        bob = user("bob")
        bob.suspended_at = utcnow()
        db.session.commit()
        with pytest.raises(AccountSuspended):
            reactions.like(bob, post_id)
        with pytest.raises(AccountSuspended):
            reactions.repost(bob, post_id)
        assert post_counts(post_id) == (0, 0)


@pytest.mark.parametrize("silencer", [Block, Mute])
def test_no_notification_when_the_author_blocked_or_muted_the_actor(app, post_id, silencer):
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        if silencer is Block:
            db.session.add(Block(blocker_id=alice.id, blocked_id=bob.id))
        else:
            db.session.add(Mute(muter_id=alice.id, muted_id=bob.id))
        db.session.commit()
        reactions.like(bob, post_id)
        reactions.repost(bob, post_id)
        assert count(Notification) == 0
        assert post_counts(post_id) == (1, 1)


def test_viewer_state_is_one_statement(app, post_id):
    with app.app_context():
        bob = user("bob")
        other = make_post(user("carol"), "another").id
        reactions.like(bob, post_id)
        reactions.bookmark(bob, post_id)
        reactions.repost(bob, other)
        bob_id = bob.id
        db.session.expire_all()
        bob = db.session.get(User, bob_id)
        statements: list[str] = []

        def record(conn, cursor, statement, *_args) -> None:
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            state = reactions.viewer_state(bob, [post_id, other, 999])
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        assert len(statements) == 1
        assert state == {post_id: {"like", "bookmark"}, other: {"repost"}}
        assert reactions.viewer_state(None, [post_id]) == {}
        assert reactions.viewer_state(bob, []) == {}


def test_deleting_a_post_deletes_its_reactions_and_notifications(app, post_id):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # the cascades below are the database's, not the ORM's
            assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        kept = make_post(user("alice"), "kept").id
        for name in ("bob", "carol"):
            reactions.like(user(name), post_id)
            reactions.repost(user(name), post_id)
            reactions.bookmark(user(name), post_id)
        reactions.like(user("bob"), kept)
        reactions.repost(user("bob"), kept)
        reactions.bookmark(user("bob"), kept)
        posts.delete_post(user("alice"), post_id)
        db.session.expire_all()
        assert count(Like) == 1 and count(Announce) == 1 and count(Bookmark) == 1
        assert db.session.scalars(sa.select(Notification.post_id)).all() == [kept, kept]
        assert post_counts(kept) == (1, 1)
        assert user("bob").post_count == 0 and user("alice").post_count == 1
        # Undoing what the deleted post had is harmless: there is no such post any more.
        with pytest.raises(NotFound):
            reactions.unlike(user("bob"), post_id)


# -- races ---------------------------------------------------------------------------------------
def _all_at_once(app, jobs) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job) -> None:
        with app.app_context():
            barrier.wait()
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_eight_likes_at_once_by_one_person_give_one_row(app, post_id):
    with app.app_context():
        bob_id = user("bob").id

    def like() -> None:
        reactions.like(db.session.get(User, bob_id), post_id)

    assert _all_at_once(app, [like] * 8) == []
    with app.app_context():
        assert count(Like) == 1 and post_counts(post_id) == (1, 0)
        assert count(Notification) == 1


def test_eight_people_liking_and_reposting_at_once_are_all_counted(app, post_id):
    with app.app_context():
        ids = [make_user(f"fan{i}").id for i in range(8)]

    def both(user_id: int):
        def run() -> None:
            fan = db.session.get(User, user_id)
            reactions.like(fan, post_id)
            reactions.repost(fan, post_id)
        return run

    assert _all_at_once(app, [both(i) for i in ids]) == []
    with app.app_context():
        assert post_counts(post_id) == (8, 8)
        assert count(Like) == 8 and count(Announce) == 8


# -- the buttons ---------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["like", "repost", "bookmark"])
def test_buttons_go_back_to_next_or_the_permalink(app, post_id, action):
    client = sign_in(app, "bob")
    response = client.post(f"/post/{post_id}/{action}", data={"next": "/explore?page=1"})
    assert response.status_code == 302 and response.location.endswith("/explore?page=1")
    response = client.post(f"/post/{post_id}/un{action}", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.location.endswith(f"/post/{post_id}")
    response = client.post(f"/post/{post_id}/{action}", data={"next": "//evil.example/"})
    assert response.location.endswith(f"/post/{post_id}")
    with app.app_context():
        model = {"like": Like, "repost": Announce, "bookmark": Bookmark}[action]
        assert count(model) == 1


@pytest.mark.parametrize("path", ["/post/0/like", f"/post/{2**63}/like", "/post/999/repost",
                                  "/post/999/bookmark", "/post/999/unlike", f"/post/{2**64}/unrepost",
                                  "/post/abc/like"])
def test_bad_ids_are_404(app, post_id, path):
    assert sign_in(app, "bob").post(path).status_code == 404


def test_signed_out_buttons_ask_to_sign_in(client, post_id):
    response = client.post(f"/post/{post_id}/like")
    assert response.status_code == 302 and "/auth/login" in response.location
    assert client.get("/bookmarks").status_code == 302


def test_a_refused_repost_says_why(app, post_id):
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        db.session.execute(followers.insert().values(follower_id=bob.id, followed_id=alice.id))
        private = make_post(alice, "followers only")
        private.visibility = Visibility.FOLLOWERS.value
        db.session.commit()
        private_id = private.id
    client = sign_in(app, "bob")
    response = client.post(f"/post/{private_id}/repost", follow_redirects=True)
    assert "cannot be reposted" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Announce) == 0


@pytest.mark.parametrize("action", ["like", "unlike", "repost", "unrepost", "bookmark", "unbookmark"])
def test_buttons_need_a_csrf_token(make_app, action):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice = make_user("alice")
        make_user("bob")
        post_id = make_post(alice, "hi").id
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "bob", "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert client.post(f"/post/{post_id}/{action}").status_code == 400
    assert client.get(f"/post/{post_id}/{action}").status_code == 405
    with app.app_context():
        assert count(Like) == count(Announce) == count(Bookmark) == 0


# -- /bookmarks ----------------------------------------------------------------------------------
def test_bookmarks_page_lists_yours_newest_first_with_pages(make_app):
    app = make_app(POSTS_PER_PAGE=2)
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        ids = [make_post(alice, f"post number {i}").id for i in range(5)]
        for i, post_id in enumerate(ids):
            db.session.add(Bookmark(user_id=bob.id, post_id=post_id,
                                    created_at=utcnow() - timedelta(minutes=10 - i)))
        db.session.add(Bookmark(user_id=alice.id, post_id=ids[0]))
        db.session.commit()
    client = sign_in(app, "bob")
    html = client.get("/bookmarks").get_data(as_text=True)
    assert "post number 4" in html and "post number 3" in html and "post number 2" not in html
    older = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    html = client.get(older).get_data(as_text=True)
    assert "post number 2" in html and "post number 1" in html and "post number 4" not in html
    assert 'rel="prev"' in html
    assert client.get("/bookmarks?before=garbage").status_code == 404
    assert client.get("/bookmarks?page=99").status_code == 404
    empty = sign_in(app, "alice").get("/bookmarks").get_data(as_text=True)
    assert "post number 0" in empty and "post number 1" not in empty


def test_bookmarks_page_empty_state_and_hidden_posts(app, post_id):
    client = sign_in(app, "bob")
    assert "You have no bookmarks yet" in client.get("/bookmarks").get_data(as_text=True)
    client.post(f"/post/{post_id}/bookmark")
    assert "hello world" in client.get("/bookmarks").get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.update(Post).values(hidden_at=utcnow()))
        db.session.commit()
    assert "hello world" not in client.get("/bookmarks").get_data(as_text=True)


def test_notification_kinds_enum_has_the_new_kinds():
    assert {NotificationKind.LIKE, NotificationKind.REPOST} <= set(NotificationKind)
