"""Replies, threads, edits with their history, content warnings and visibility, through the web pages
and the services."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mention, Mute, Notification, NotificationKind, Post, PostEdit, User
from microblog.services import posts, threads
from tests.factories import make_block, make_follow, make_post, make_user
from tests.test_query_counts import MAX_STATEMENTS, counting


def user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def post_ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


@pytest.fixture
def people(app):
    with app.app_context():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        root = make_post(alice, "Tea or coffee?").id
        return {"alice": alice.id, "bob": bob.id, "carol": carol.id, "root": root}


def login(client, name: str) -> None:
    client.post("/auth/login", data={"username": name, "password": "correct-horse"})


# -- replies --------------------------------------------------------------------------------------
def test_reply_through_the_page_counts_and_notifies(client, app, people):
    login(client, "bob")
    page = client.get(f"/post/{people['root']}").get_data(as_text=True)
    assert f'action="/post/{people["root"]}/reply"' in page
    response = client.post(f"/post/{people['root']}/reply", data={"post": "Tea, always"})
    assert response.status_code == 302
    with app.app_context():
        reply = db.session.scalar(sa.select(Post).where(Post.body == "Tea, always"))
        assert response.headers["Location"] == f"/post/{people['root']}#post-{reply.id}"
        assert (reply.in_reply_to_id, reply.in_reply_to_user_id, reply.is_reply) == (
            people["root"], people["alice"], True)
        assert db.session.get(Post, people["root"]).reply_count == 1
        note = db.session.scalar(sa.select(Notification).where(Notification.user_id == people["alice"]))
        assert (note.kind, note.actor_id, note.post_id) == (NotificationKind.REPLY, people["bob"], reply.id)
    assert "Tea, always" in client.get(f"/post/{people['root']}").get_data(as_text=True)


def test_no_notification_for_yourself_or_from_the_muted_and_blocked(app, people):
    with app.app_context():
        alice, bob, carol = user("alice"), user("bob"), user("carol")
        posts.publish_post(alice, "answering myself", in_reply_to=people["root"])
        db.session.add(Mute(muter_id=alice.id, muted_id=bob.id))
        db.session.commit()
        posts.publish_post(bob, "muted reply", in_reply_to=people["root"])
        make_block(alice, carol)
        with pytest.raises(Exception):  # noqa: B017 - refused one way or the other: 404 or 403
            posts.publish_post(carol, "blocked reply", in_reply_to=people["root"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
        assert db.session.get(Post, people["root"]).reply_count == 2


def test_reply_counts_stay_exact_when_a_reply_is_deleted(app, people):
    with app.app_context():
        bob = user("bob")
        first = posts.publish_post(bob, "one", in_reply_to=people["root"]).id
        posts.publish_post(bob, "two", in_reply_to=people["root"])
        assert db.session.get(Post, people["root"]).reply_count == 2
        posts.delete_post(bob, first)
        posts.delete_post(bob, first)  # twice is harmless
        db.session.expire_all()
        assert db.session.get(Post, people["root"]).reply_count == 1


def test_replying_to_a_post_you_may_not_see_is_a_404(client, app, people):
    with app.app_context():
        secret = posts.publish_post(user("alice"), "for followers", visibility="followers").id
    login(client, "bob")
    assert client.post(f"/post/{secret}/reply", data={"post": "let me in"}).status_code == 404
    assert client.post("/post/999999/reply", data={"post": "nobody"}).status_code == 404
    assert client.post(f"/post/{2**63}/reply", data={"post": "huge"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2


def test_a_bad_reply_shows_the_errors_and_keeps_the_text(client, app, people):
    login(client, "bob")
    response = client.post(f"/post/{people['root']}/reply",
                           data={"post": "kept text", "spoiler": "x" * 600, "visibility": "public"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "kept text" in html and "at most 500 characters" in html
    response = client.post(f"/post/{people['root']}/reply", data={"post": "hi", "visibility": "everyone"})
    assert response.status_code == 400


def test_thread_order_and_ancestors(client, app, people):
    with app.app_context():
        alice, bob, carol = user("alice"), user("bob"), user("carol")
        root = people["root"]
        a = posts.publish_post(bob, "A", in_reply_to=root).id
        b = posts.publish_post(carol, "B", in_reply_to=root).id
        a1 = posts.publish_post(alice, "A1", in_reply_to=a).id
        a1x = posts.publish_post(bob, "A1x", in_reply_to=a1).id
        a2 = posts.publish_post(carol, "A2", in_reply_to=a).id
        ancestors, replies = threads.context(None, db.session.get(Post, root))
        assert ancestors == [] and [p.id for p in replies] == [a, a1, a1x, a2, b]
        ancestors, replies = threads.context(None, db.session.get(Post, a1))
        assert [p.id for p in ancestors] == [root, a] and [p.id for p in replies] == [a1x]
    html = client.get(f"/post/{a1}").get_data(as_text=True)
    assert post_ids_on(html) == [root, a, a1, a1x]


def test_muted_and_blocked_authors_replies_are_left_out(client, app, people):
    with app.app_context():
        bob, carol = user("bob"), user("carol")
        posts.publish_post(bob, "from bob", in_reply_to=people["root"])
        posts.publish_post(carol, "from carol", in_reply_to=people["root"])
        alice = user("alice")
        db.session.add(Mute(muter_id=alice.id, muted_id=bob.id))
        db.session.commit()
        make_block(alice, carol)
    login(client, "alice")
    html = client.get(f"/post/{people['root']}").get_data(as_text=True)
    assert "from bob" not in html and "from carol" not in html


def test_replies_stay_when_their_parent_is_deleted(client, app, people):
    with app.app_context():
        reply = posts.publish_post(user("bob"), "orphan soon", in_reply_to=people["root"]).id
        posts.delete_post(user("alice"), people["root"])
        db.session.expire_all()
        kept = db.session.get(Post, reply)
        assert kept.in_reply_to_id is None and kept.is_reply
    html = client.get(f"/post/{reply}").get_data(as_text=True)
    assert "orphan soon" in html and "In reply to a deleted post." in html


# -- edits ----------------------------------------------------------------------------------------
def test_edit_keeps_the_history(client, app, people):
    login(client, "alice")
    assert 'name="post"' in client.get(f"/post/{people['root']}/edit").get_data(as_text=True)
    response = client.post(f"/post/{people['root']}/edit", data={"post": "Coffee or tea?", "spoiler": ""})
    assert response.status_code == 302
    client.post(f"/post/{people['root']}/edit", data={"post": "Coffee or tea?", "spoiler": ""})  # no change
    client.post(f"/post/{people['root']}/edit", data={"post": "Water?", "spoiler": "drinks"})
    with app.app_context():
        post = db.session.get(Post, people["root"])
        assert (post.body, post.summary) == ("Water?", "drinks") and post.edited_at is not None
        edits = db.session.scalars(sa.select(PostEdit).order_by(PostEdit.id)).all()
        assert [e.body for e in edits] == ["Tea or coffee?", "Coffee or tea?"]
        assert edits[0].written_at == post.timestamp
    html = client.get(f"/post/{people['root']}/history").get_data(as_text=True)
    assert html.index("Water?") < html.index("Coffee or tea?") < html.index("Tea or coffee?")
    assert "<summary>drinks</summary>" in html
    assert "/history" in client.get(f"/post/{people['root']}").get_data(as_text=True)


def test_only_the_author_may_edit(client, app, people):
    login(client, "bob")
    assert client.get(f"/post/{people['root']}/edit").status_code in (403, 404)
    assert client.post(f"/post/{people['root']}/edit", data={"post": "mine now"}).status_code in (403, 404)
    assert client.get("/post/999999/edit").status_code == 404
    assert client.get("/post/999999/history").status_code == 404
    with app.app_context():
        assert db.session.get(Post, people["root"]).body == "Tea or coffee?"
        with pytest.raises(Exception):  # noqa: B017
            posts.edit_post(user("bob"), people["root"], "mine now")


# -- content warnings and visibility --------------------------------------------------------------
def test_content_warning_is_stored_and_shown_in_details(client, app, people):
    login(client, "bob")
    client.post("/", data={"post": "the ending is sad", "spoiler": " film spoilers ", "visibility": "public"})
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.body == "the ending is sad"))
        assert post.summary == "film spoilers"
    html = client.get(f"/post/{post.id}/history").get_data(as_text=True)
    assert re.search(r"<details>\s*<summary>film spoilers</summary>", html)
    home = client.get("/").get_data(as_text=True)
    assert "Content warning" in home and '<select' in home and 'name="visibility"' in home


def test_visibility_defaults_to_the_authors_setting(client, app, people):
    with app.app_context():
        user("bob").default_visibility = "unlisted"
        db.session.commit()
        assert posts.publish_post(user("bob"), "quiet").visibility == "unlisted"
        secret = posts.publish_post(user("alice"), "inner circle", visibility="followers")
        make_follow(user("bob"), user("alice"))
        assert posts.publish_post(user("bob"), "re", in_reply_to=secret.id).visibility == "followers"
    login(client, "bob")
    assert '<option selected value="unlisted">' in client.get("/").get_data(as_text=True)


def test_unlisted_is_on_the_profile_and_permalink_not_explore(client, app, people):
    login(client, "bob")
    client.post("/", data={"post": "quiet words", "visibility": "unlisted"})
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.body == "quiet words"))
        assert post.visibility == "unlisted"
    client.post("/auth/logout")
    assert "quiet words" not in client.get("/explore").get_data(as_text=True)
    assert "quiet words" in client.get("/user/bob").get_data(as_text=True)
    assert client.get(f"/post/{post.id}").status_code == 200


def test_followers_only_reaches_followers_and_the_mentioned(client, app, people):
    with app.app_context():
        secret = posts.publish_post(user("alice"), "for my followers", visibility="followers").id
        dave = make_user("dave")
        make_follow(user("bob"), user("alice"))
        db.session.add(Mention(post_id=secret, user_id=dave.id))
        db.session.commit()
    assert client.get(f"/post/{secret}").status_code == 404
    assert "for my followers" not in client.get("/user/alice").get_data(as_text=True)
    for name, status in (("carol", 404), ("bob", 200), ("dave", 200), ("alice", 200)):
        login(client, name)
        assert client.get(f"/post/{secret}").status_code == status, name
        assert client.get(f"/post/{secret}/history").status_code == status, name
        assert "for my followers" not in client.get("/explore").get_data(as_text=True)
        client.post("/auth/logout")


def test_permalink_of_a_big_thread_uses_few_statements(client, app, people):
    with app.app_context():
        bob, carol = user("bob"), user("carol")
        parents = [people["root"]]
        for n in range(200):
            author = bob if n % 2 else carol
            reply = Post(body=f"reply {n}", author=author, in_reply_to_id=parents[n // 3],
                         in_reply_to_user_id=author.id, is_reply=True)
            db.session.add(reply)
            db.session.flush()
            parents.append(reply.id)
        db.session.commit()
    login(client, "alice")
    path = f"/post/{people['root']}"
    assert client.get(path).status_code == 200
    with counting(app) as statements:
        html = client.get(path).get_data(as_text=True)
    # The first REPLIES_SHOWN replies (the nearest levels), in thread order, and a link to all of them.
    shown = post_ids_on(html)
    assert len(shown) == 1 + threads.REPLIES_SHOWN
    assert "?replies=all#replies" in html
    assert len(statements) <= MAX_STATEMENTS, statements
    with counting(app) as statements:
        html = client.get(path + "?replies=all").get_data(as_text=True)
    assert len(post_ids_on(html)) == 201 and "?replies=all#replies" not in html
    assert post_ids_on(html)[:3] == shown[:3]
    assert len(statements) <= MAX_STATEMENTS, statements
    client.post("/auth/logout")
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    assert len(statements) <= MAX_STATEMENTS, statements
