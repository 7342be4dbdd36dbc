"""Notifications of the new kinds: the page (grouped likes and reposts, each linking to the post, a
constant number of statements), and emails about mentions and replies to someone away."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Block, Mute, Notification, NotificationKind, OutboxMessage
from microblog.services import accounts, notifications, reactions
from microblog.timeutil import utcnow
from tests.factories import find_user as user
from tests.factories import make_post, make_user
from tests.factories import signed_in_client as sign_in


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def site(app):
    with app.app_context():
        alice = make_user("alice")
        for name in ("bob", "carol", "dave", "erin"):
            make_user(name)
        first, second = make_post(alice, "first post").id, make_post(alice, "second post").id
    return first, second


def test_likes_and_reposts_are_grouped_per_post_and_link_to_it(app, site):
    first, second = site
    with app.app_context():
        for name in ("bob", "carol", "dave", "erin"):
            reactions.like(user(name), first)
        reactions.like(user("bob"), second)
        reactions.repost(user("carol"), first)
        reactions.repost(user("dave"), first)
    html = sign_in(app, "alice").get("/notifications").get_data(as_text=True)
    assert "erin and 3 others liked your post." in html
    assert "bob liked your post." in html
    assert "dave and 1 other reposted your post." in html
    assert html.count(f'href="/post/{first}"') == 2 and html.count(f'href="/post/{second}"') == 1
    assert "carol liked your post" not in html  # inside erin's line


def test_grouping_is_pure_python_over_the_page(app, site):
    first, _second = site
    with app.app_context():
        reactions.like(user("bob"), first)
        reactions.like(user("carol"), first)
        notes = list(db.session.scalars(user("alice").notifications_select()))
        lines = notifications.group_page(notes)
        assert len(lines) == 1 and lines[0].others == 1 and lines[0].unread
        assert lines[0].note.actor.username == "carol"


def test_reply_and_mention_notifications_link_to_the_post(app, site):
    first, _second = site
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        notifications.add_notification(alice.id, NotificationKind.REPLY, actor_id=bob.id, post_id=first)
        notifications.add_notification(alice.id, NotificationKind.MENTION, actor_id=bob.id, post_id=first)
        db.session.commit()
    html = sign_in(app, "alice").get("/notifications").get_data(as_text=True)
    assert "bob replied to your post." in html and "bob mentioned you." in html
    assert html.count(f'href="/post/{first}"') == 2


def test_no_notification_for_yourself_or_from_the_silenced(app, site):
    first, _second = site
    with app.app_context():
        alice, bob, carol = user("alice"), user("bob"), user("carol")
        db.session.add_all([Block(blocker_id=alice.id, blocked_id=bob.id),
                            Mute(muter_id=alice.id, muted_id=carol.id)])
        db.session.commit()
        for actor in (alice, bob, carol):
            for kind in (NotificationKind.REPLY, NotificationKind.MENTION):
                added = notifications.add_notification(alice.id, kind, actor_id=actor.id, post_id=first)
                assert added is None
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_the_notifications_page_keeps_its_statement_count(make_app):
    from tests.test_query_counts import MAX_STATEMENTS, counting

    app = make_app(NOTIFICATIONS_PER_PAGE=25)
    with app.app_context():
        alice = make_user("alice")
        posts = [make_post(alice, f"post {i}").id for i in range(5)]
        fans = [make_user(f"fan{i}") for i in range(6)]
        for post_id in posts:
            for fan in fans:
                reactions.like(fan, post_id)
                reactions.repost(fan, post_id)
    client = sign_in(app, "alice")
    with counting(app) as statements:
        html = client.get("/notifications").get_data(as_text=True)
    assert "and 5 others liked your post" in html
    assert len(statements) <= MAX_STATEMENTS, statements


# -- emails about mentions and replies -----------------------------------------------------------
def _away(username: str, hours: int = 5) -> None:
    user(username).last_seen = utcnow() - timedelta(hours=hours)
    db.session.commit()


@pytest.mark.parametrize("kind", [NotificationKind.MENTION, NotificationKind.REPLY])
def test_mentions_and_replies_are_emailed_once_per_absence(mail_app, smtp_server, kind):
    with mail_app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        post_id = make_post(bob, "hey @alice, look at this").id
        _away("alice")
        notifications.add_notification(alice.id, kind, actor_id=bob.id, post_id=post_id)
        db.session.commit()
        notifications.add_notification(alice.id, kind, actor_id=bob.id, post_id=post_id)
        db.session.commit()
    assert len(smtp_server.inbox) == 1
    sent = smtp_server.inbox[0]
    text = str(sent)
    assert "look at this" in text and f"/post/{post_id}" in text
    with mail_app.app_context():
        mail = outbox()[0]
        expected = "bob mentioned you" if kind == NotificationKind.MENTION else "bob replied to your post"
        assert mail.subject == expected and "List-Unsubscribe" in mail.headers
        assert mail.recipient == "alice@example.com"


def test_no_email_while_present_or_when_turned_off(app, site):
    first, _second = site
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        alice.last_seen = utcnow()
        db.session.commit()
        notifications.add_notification(alice.id, NotificationKind.MENTION, actor_id=bob.id, post_id=first)
        db.session.commit()
        assert outbox() == []
        _away("alice")
        accounts.update_profile(alice, "alice", None, notify_mention=False, notify_reply=False)
        for kind in (NotificationKind.MENTION, NotificationKind.REPLY):
            notifications.add_notification(alice.id, kind, actor_id=bob.id, post_id=first)
        db.session.commit()
        assert outbox() == []
        # Likes and reposts are never emailed.
        alice.notify_mention = alice.notify_reply = True
        db.session.commit()
        reactions.like(bob, first)
        assert outbox() == []


def test_a_rolled_back_notification_sends_nothing(app, site):
    first, _second = site
    with app.app_context():
        _away("alice")
        notifications.add_notification(user("alice").id, NotificationKind.REPLY, actor_id=user("bob").id,
                                       post_id=first)
        db.session.rollback()
        db.session.commit()
        assert outbox() == []


def test_email_settings_on_edit_profile(app, site):
    client = sign_in(app, "alice")
    html = client.get("/edit_profile").get_data(as_text=True)
    for name in ("notify_mention", "notify_reply", "default_visibility"):
        assert f'name="{name}"' in html
    assert 'value="followers"' in html
    client.post("/edit_profile", data={"username": "alice", "about_me": "", "notify_reply": "y",
                                       "default_visibility": "followers"})
    with app.app_context():
        alice = user("alice")
        assert (alice.notify_mention, alice.notify_reply) == (False, True)
        assert alice.default_visibility == "followers"
    response = client.post("/edit_profile", data={"username": "alice", "default_visibility": "everyone"})
    assert response.status_code == 200 and "listed visibilities" in response.get_data(as_text=True)
    client.post("/edit_profile", data={"username": "alice", "about_me": ""})  # left out: unchanged
    with app.app_context():
        assert user("alice").default_visibility == "followers"


@pytest.mark.parametrize("kind", ["mention", "reply"])
def test_one_click_unsubscribe_from_mentions_and_replies(app, site, kind):
    with app.app_context():
        accounts.unsubscribe(user("alice"), kind)
        assert getattr(user("alice"), f"notify_{kind}") is False
