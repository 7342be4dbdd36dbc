"""Mentions: @name links only accounts that exist, notifies them (not the author, not those who
blocked or muted the author), and an edit notifies only the newly mentioned; linkify stays safe."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Mention, Mute, Notification, NotificationKind, User
from microblog.services import posts
from microblog.templating import highlight, linkify
from tests.factories import make_block, make_user


def mentions_of(post_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Mention.user_id).where(Mention.post_id == post_id)))


def notified(kind: str = NotificationKind.MENTION) -> list[tuple[int, int | None, int | None]]:
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.actor_id, Notification.post_id)
        .where(Notification.kind == kind).order_by(Notification.id)
    )
    return [tuple(row) for row in rows]


@pytest.fixture
def people(app):
    with app.app_context():
        return {name: make_user(name).id for name in ("alice", "bob", "carol", "dave", "erin")}


def test_mentions_notify_existing_people_once_and_never_the_author(app, people):
    with app.app_context():
        alice = db.session.get(User, people["alice"])
        post = posts.publish_post(alice, "hi @Bob and @bob, @CAROL, @nobody_here and me @alice")
        assert mentions_of(post.id) == {people["bob"], people["carol"]}
        expected = [(people["bob"], people["alice"], post.id), (people["carol"], people["alice"], post.id)]
        assert sorted(notified()) == sorted(expected)


def test_no_notification_for_people_who_blocked_or_muted_the_author(app, people):
    with app.app_context():
        alice = db.session.get(User, people["alice"])
        make_block(db.session.get(User, people["bob"]), alice)
        db.session.add(Mute(muter_id=people["carol"], muted_id=people["alice"]))
        db.session.commit()
        post = posts.publish_post(alice, "@bob @carol @dave look")
        assert [row[0] for row in notified()] == [people["dave"]]
        # The mention itself is kept (a followers-only post still reaches them if they look).
        assert mentions_of(post.id) == {people["bob"], people["carol"], people["dave"]}


def test_an_edit_notifies_only_the_newly_mentioned(app, people):
    with app.app_context():
        alice = db.session.get(User, people["alice"])
        post = posts.publish_post(alice, "hello @bob")
        posts.edit_post(alice, post.id, "hello @bob and @dave")
        posts.edit_post(alice, post.id, "hello @dave and @erin")
        assert sorted(row[0] for row in notified()) == sorted([people["bob"], people["dave"], people["erin"]])
        assert mentions_of(post.id) == {people["dave"], people["erin"]}


def test_linkify_links_known_mentions_and_every_tag():
    html = str(linkify("hey @Bob, @ghost and #Tea! mail me@example.com", {"bob"}))
    assert '<a href="/user/Bob" class="mention">@Bob</a>' in html
    assert "@ghost" in html and "/user/ghost" not in html
    assert '<a href="/tags/tea" class="hashtag" rel="tag">#Tea</a>' in html
    assert "me@example.com" in html and "/user/example" not in html
    assert "/user/" not in str(linkify("@bob", None))


def test_linkify_tags_in_other_scripts_are_percent_encoded():
    html = str(linkify("今日は#お茶"))
    assert 'href="/tags/%E3%81%8A%E8%8C%B6"' in html and ">#お茶</a>" in html


@pytest.mark.parametrize("hostile", [
    '<script>alert(1)</script> #tag @bob',
    '#tag"><img src=x onerror=alert(1)>',
    '@bob"onmouseover="alert(1)',
    "https://example.com/\"><script>x</script> #a'b",
    "#<b>bold</b> @<i>bob</i>",
    "&lt;#x&gt; &#35;y @bob&amp;",
])
def test_linkify_escapes_hostile_text(hostile):
    html = str(linkify(hostile, {"bob"}))
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert '"on' not in html
    # Only our own anchors: every tag in the output is <a ...> or </a>.
    for tag in re.findall(r"<[^>]*>", html):
        assert tag == "</a>" or tag.startswith(('<a href="/user/', '<a href="/tags/', '<a href="https://'))
    assert str(highlight(hostile, lambda word: True, {"bob"})).count("<script") == 0


def test_mentions_link_on_the_permalink_only_through_the_lead_cards(app, client, people):
    """The card renders linkify's output: at least the tag links appear on a post's page."""
    with app.app_context():
        post = posts.publish_post(db.session.get(User, people["alice"]), "about #Tea")
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert 'href="/tags/tea"' in html
