"""The home timeline with reposts, and the post card's conversation parts (content warning, reply
label, reaction controls with the viewer's state)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from microblog.extensions import db
from microblog.models import Announce, Bookmark, Like, Mute, Post, User
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_post, make_user


def repost(user, post, minutes_ago: float = 0) -> Announce:
    row = Announce(user_id=user.id, post_id=post.id, created_at=utcnow() - timedelta(minutes=minutes_ago))
    db.session.add(row)
    db.session.execute(db.update(Post).where(Post.id == post.id).values(repost_count=Post.repost_count + 1))
    db.session.commit()
    return row


def card_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="card mb-2 post" id="post-(\d+)"', html)]


@pytest.fixture
def people(app):
    with app.app_context():
        alice, bob, carol, dave = (make_user(name) for name in ("alice", "bob", "carol", "dave"))
        make_follow(alice, bob)
        make_follow(alice, carol)
        return alice.id, bob.id, carol.id, dave.id


def test_a_repost_shows_once_labelled_with_the_reposter(app, client, auth, people):
    alice_id, bob_id, carol_id, dave_id = people
    with app.app_context():
        bob, carol, dave = (db.session.get(User, i) for i in (bob_id, carol_id, dave_id))
        stranger = make_post(dave, "a post by someone alice does not follow", utcnow() - timedelta(hours=3))
        repost(bob, stranger, minutes_ago=30)
        repost(carol, stranger, minutes_ago=10)  # reposted twice: shown once, newest repost
        own = make_post(bob, "bob's own words", utcnow() - timedelta(hours=1))
        repost(carol, own, minutes_ago=5)  # written by one followed person, reposted by another
        stranger_id, own_id = stranger.id, own.id
    auth.login("alice")
    html = client.get("/").get_data(as_text=True)
    assert card_ids(html).count(stranger_id) == 1 and card_ids(html).count(own_id) == 1
    assert card_ids(html) == [own_id, stranger_id]  # by the time of the newest entry
    labels = re.findall(r'class="post-repost-label[^"]*">.*?<a href="/user/(\w+)">', html)
    assert labels == ["carol", "carol"]
    assert "a post by someone alice does not follow" in html


def test_muting_hides_reposts_by_and_of_the_muted(app, client, auth, people):
    alice_id, bob_id, carol_id, dave_id = people
    with app.app_context():
        bob, carol, dave = (db.session.get(User, i) for i in (bob_id, carol_id, dave_id))
        by_dave = make_post(dave, "dave writes", utcnow() - timedelta(hours=2))
        repost(bob, by_dave, minutes_ago=3)
        by_carol = make_post(carol, "carol writes", utcnow() - timedelta(hours=2))
        repost(bob, by_carol, minutes_ago=2)
        db.session.add(Mute(muter_id=alice_id, muted_id=dave_id))
        db.session.commit()
    auth.login("alice")
    html = client.get("/").get_data(as_text=True)
    assert "dave writes" not in html and "carol writes" in html
    with app.app_context():
        db.session.add(Mute(muter_id=alice_id, muted_id=bob_id))
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    # bob's repost is gone, carol's post stays
    assert "carol writes" in html and "post-repost-label" not in html


def test_older_pages_walk_posts_and_reposts_without_gaps(app, client, auth, people):
    alice_id, bob_id, carol_id, dave_id = people
    app.config["POSTS_PER_PAGE"] = 4
    with app.app_context():
        bob, carol, dave = (db.session.get(User, i) for i in (bob_id, carol_id, dave_id))
        expected = []
        for i in range(10):
            post = make_post(bob, f"bob {i}", utcnow() - timedelta(hours=10 - i))
            expected.append(post.id)
            other = make_post(dave, f"dave {i}", utcnow() - timedelta(days=3, minutes=i))
            repost(carol, other, minutes_ago=(10 - i) * 60 - 30)
            expected.append(other.id)
        expected.reverse()
    auth.login("alice")
    seen, url = [], "/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += card_ids(html)
        match = re.search(r'<a[^>]+href="([^"]+)"[^>]*rel="next"|<a[^>]+rel="next"[^>]+href="([^"]+)"', html)
        url = (match.group(1) or match.group(2)).replace("&amp;", "&") if match else None
    assert seen == expected
    newer = client.get("/?page=2").get_data(as_text=True)
    assert card_ids(newer) == expected[4:8]
    assert client.get("/?page=99").status_code == 404


def test_cards_show_the_viewers_reactions_and_conversation_parts(app, client, auth, people):
    alice_id, bob_id, carol_id, dave_id = people
    with app.app_context():
        bob = db.session.get(User, bob_id)
        parent = make_post(bob, "the question", utcnow() - timedelta(minutes=9))
        reply = Post(body="the answer", author=bob, in_reply_to_id=parent.id, in_reply_to_user_id=bob.id,
                     is_reply=True, summary="spoilers ahead", timestamp=utcnow() - timedelta(minutes=8))
        orphan = Post(body="an orphan", author=bob, is_reply=True, timestamp=utcnow() - timedelta(minutes=7))
        db.session.add_all([reply, orphan])
        db.session.commit()
        db.session.add_all([Like(user_id=alice_id, post_id=parent.id),
                            Bookmark(user_id=alice_id, post_id=reply.id)])
        db.session.execute(db.update(Post).where(Post.id == parent.id).values(like_count=1))
        db.session.commit()
        parent_id, reply_id = parent.id, reply.id
    auth.login("alice")
    html = client.get("/").get_data(as_text=True)
    cards = dict(zip(card_ids(html), html.split('<article class="card mb-2 post"')[1:], strict=True))
    assert f'action="/post/{parent_id}/unlike"' in cards[parent_id]
    assert 'aria-pressed="true"' in cards[parent_id]
    assert f'formaction="/post/{reply_id}/unbookmark"' in cards[reply_id]
    assert f'formaction="/post/{reply_id}/like"' in cards[reply_id]
    assert "<details" in cards[reply_id] and "spoilers ahead" in cards[reply_id]
    assert f'href="/post/{parent_id}">@bob</a>' in cards[reply_id]
    assert "In reply to a deleted post" in html
    # Another viewer sees the same cards without alice's state (the cache keys on it).
    client.post("/auth/logout")
    auth.login("carol")
    html = client.get("/user/bob").get_data(as_text=True)
    assert f'action="/post/{parent_id}/like"' in html and 'aria-pressed="true"' not in html
    client.post("/auth/logout")
    visitor = client.get("/user/bob").get_data(as_text=True)
    assert "post-actions" not in visitor and "post-counts" in visitor
