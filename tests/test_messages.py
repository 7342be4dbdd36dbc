"""Private messages, blocking and notifications through the web pages and the services."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import Block, Message, Notification, OutboxMessage, User, followers
from microblog.services import blocks, follows, messages, notifications
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_block, make_follow, make_message, make_post, make_user
from tests.statements import counting


@pytest.fixture
def people(app) -> None:
    with app.app_context():
        for name in ("alice", "bob", "carol"):
            make_user(name)


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def sign_in(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def send(app, sender: str, recipient: str, body: str) -> Message:
    """Send through the service, as the web form and the API do."""
    with app.app_context():
        message = messages.send_message(user(sender), user(recipient), body)
        db.session.refresh(message)
        db.session.expunge(message)
        return message


def count(app, client=None) -> dict:
    response = (client or app.test_client()).get("/notifications/count.json")
    assert response.status_code == 200
    return response.json


def unread_of(app, username: str) -> int:
    with app.app_context():
        return notifications.unread_count(user(username).id)


def set_last_seen(app, username: str, ago: timedelta) -> None:
    with app.app_context():
        user(username).last_seen = utcnow() - ago
        db.session.commit()


# -- messaging between two users -------------------------------------------------------------------
def test_send_a_message_from_the_form_and_read_the_thread(app, people):
    alice = sign_in(app, "alice")
    page = alice.get("/send_message/bob")
    assert page.status_code == 200 and 'name="message"' in page.get_data(as_text=True)
    text = "  Hi Bob, see https://example.com/x?a=1&b=2  "
    response = alice.post("/send_message/bob", data={"message": text})
    assert response.status_code == 302
    assert response.headers["Location"] == "/messages/bob"
    assert "Your message to bob has been sent." in alice.get("/messages/bob").get_data(as_text=True)
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert (message.sender.username, message.recipient.username) == ("alice", "bob")
        assert message.body == "Hi Bob, see https://example.com/x?a=1&b=2"
        assert message.read_at is None

    bob = sign_in(app, "bob")
    thread = bob.get("/messages/alice").get_data(as_text=True)
    assert 'href="https://example.com/x?a=1&amp;b=2" rel="nofollow noopener noreferrer"' in thread
    assert ">New</span>" in thread
    assert bob.post("/send_message/alice", data={"message": "Hello Alice"}).status_code == 302
    thread = alice.get("/messages/bob").get_data(as_text=True)
    assert thread.index("Hi Bob") < thread.index("Hello Alice")  # oldest at the top


def test_messages_are_plain_text(app, people):
    send(app, "alice", "bob", '<script>alert(1)</script> <a href="javascript:x">click</a> **bold**')
    html = sign_in(app, "bob").get("/messages/alice").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:x"' not in html
    assert "**bold**" in html


def test_conversations_are_grouped_by_person_newest_first(app, people):
    send(app, "bob", "alice", "first from bob")
    send(app, "alice", "carol", "to carol")
    send(app, "bob", "alice", "second from bob")
    send(app, "alice", "bob", "my answer to bob")
    html = sign_in(app, "alice").get("/messages").get_data(as_text=True)
    rows = re.findall(r'href="/messages/(\w+)"', html)
    assert rows == ["bob", "carol"]
    assert "You: my answer to bob" in html and "first from bob" not in html
    assert "to carol" in html


def test_unread_counts_per_conversation(app, people):
    send(app, "bob", "alice", "one")
    send(app, "bob", "alice", "two")
    send(app, "alice", "carol", "hi")
    html = sign_in(app, "alice").get("/messages").get_data(as_text=True)
    assert html.count("conversation-unread") == 1
    assert re.search(r'bg-primary align-self-center">2<span class="visually-hidden"> unread', html)


@pytest.mark.slow
def test_conversations_and_threads_are_paginated(make_app):
    app = make_app(MESSAGES_PER_PAGE=2)
    with app.app_context():
        alice = make_user("alice")
        others = [make_user(f"friend{i}") for i in range(3)]
        for other in others:
            make_message(other, alice, f"hello from {other.username}")
        for i in range(3):
            make_message(alice, others[0], f"note {i}")
    client = sign_in(app, "alice")
    first = client.get("/messages").get_data(as_text=True)
    assert re.findall(r'href="/messages/(\w+)"', first) == ["friend0", "friend2"]
    assert 'rel="next" href="/messages?page=2"' in first
    second = client.get("/messages?page=2").get_data(as_text=True)
    assert re.findall(r'href="/messages/(\w+)"', second) == ["friend1"]
    assert client.get("/messages?page=3").status_code == 404

    thread = client.get("/messages/friend0").get_data(as_text=True)
    assert "note 1" in thread and "note 2" in thread and "note 0" not in thread
    assert 'rel="next" href="/messages/friend0?page=2"' in thread
    older = client.get("/messages/friend0?page=2").get_data(as_text=True)
    assert older.index("hello from friend0") < older.index("note 0")


@pytest.mark.parametrize(("body", "error"), [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("x" * 1001, "A message is at most 1000 characters (this one has 1001)."),
    ("bad \u202e text", "A message cannot contain control characters."),
])
def test_bad_messages_are_refused_with_a_clear_error(app, people, body, error):
    client = sign_in(app, "alice")
    response = client.post("/send_message/bob", data={"message": body})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error in html
    assert 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_message_length_limit_comes_from_config(make_app):
    app = make_app(MESSAGE_MAX_LENGTH=10)
    with app.app_context():
        make_user("alice"), make_user("bob")
    client = sign_in(app, "alice")
    assert "at most 10 characters" in client.post("/send_message/bob", data={"message": "x" * 11}).get_data(
        as_text=True)
    assert client.post("/send_message/bob", data={"message": "x" * 10}).status_code == 302


def test_database_refuses_an_overlong_or_self_message(app, people):
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        for sender, recipient, body in ((alice, bob, "x" * 2001), (alice, bob, ""), (alice, alice, "me")):
            db.session.add(Message(sender_id=sender.id, recipient_id=recipient.id, body=body))
            # SQLite trips the CHECK constraint; PostgreSQL the VARCHAR length first.
            with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)):
                db.session.commit()
            db.session.rollback()


def test_you_cannot_message_yourself_or_nobody(app, people):
    client = sign_in(app, "alice")
    response = client.post("/send_message/alice", data={"message": "hi me"})
    assert "You cannot send a message to yourself." in response.get_data(as_text=True)
    assert client.get("/send_message/nobody").status_code == 404
    assert client.get("/messages/nobody").status_code == 404
    assert client.get("/messages/alice").headers["Location"] == "/messages"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_message_pages_need_sign_in(client):
    for path in ("/messages", "/messages/bob", "/send_message/bob", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_unconfirmed_accounts_cannot_message_when_the_site_asks(make_app):
    app = make_app(EMAIL_CONFIRMATION=True)
    with app.app_context():
        make_user("alice"), make_user("bob")  # confirmed_at stays None
    client = sign_in(app, "alice")
    html = client.get("/send_message/bob").get_data(as_text=True)
    assert "Please confirm your email address before sending messages." in html
    assert 'name="message"' not in html
    client.post("/send_message/bob", data={"message": "hi"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


# -- blocking ---------------------------------------------------------------------------------------
def test_blocking_from_the_profile_ends_follows_both_ways(app, people):
    with app.app_context():
        make_follow(user("alice"), user("bob"))
        make_follow(user("bob"), user("alice"))
        make_follow(user("carol"), user("alice"))
    client = sign_in(app, "alice")
    profile = client.get("/user/bob").get_data(as_text=True)
    assert 'action="/block/bob"' in profile and "Send a message" in profile
    response = client.post("/block/bob")
    assert response.headers["Location"] == "/user/bob"
    profile = client.get("/user/bob").get_data(as_text=True)
    assert "You have blocked bob." in profile
    assert 'action="/unblock/bob"' in profile
    assert 'action="/follow/bob"' not in profile and "Send a message" not in profile
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 1
        pairs = set(db.session.execute(sa.select(followers.c.follower_id, followers.c.followed_id)).all())
        assert pairs == {(user("carol").id, user("alice").id)}  # other follows stay


def test_blocked_users_cannot_message_or_follow_the_blocker(app, people):
    with app.app_context():
        make_block(user("alice"), user("bob"))
    bob = sign_in(app, "bob")
    profile = bob.get("/user/alice").get_data(as_text=True)
    assert "You cannot follow or message alice." in profile
    assert 'action="/follow/alice"' not in profile
    assert "You cannot send messages to alice." in bob.get("/send_message/alice").get_data(as_text=True)
    bob.post("/send_message/alice", data={"message": "let me in"})
    bob.post("/follow/alice")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 0
        with pytest.raises(PermissionDenied, match="You cannot follow alice."):
            follows.follow(user("bob"), user("alice"))
        with pytest.raises(PermissionDenied, match="You cannot send messages to alice."):
            messages.send_message(user("bob"), user("alice"), "hi")
        # Nor can the blocker, until they unblock.
        with pytest.raises(PermissionDenied, match="Unblock them to send them a message"):
            messages.send_message(user("alice"), user("bob"), "hi")
        with pytest.raises(PermissionDenied, match="Unblock them to follow them"):
            follows.follow(user("alice"), user("bob"))


def test_unblocking_allows_messages_again(app, people):
    client = sign_in(app, "alice")
    client.post("/block/bob")
    assert client.post("/unblock/bob").headers["Location"] == "/user/bob"
    assert "You have unblocked bob." in client.get("/user/bob").get_data(as_text=True)
    send(app, "bob", "alice", "friends again")
    with app.app_context():
        assert blocks.block_state(user("alice"), user("bob")) == (False, False)
        assert blocks.unblock_user(user("alice"), user("bob")) is False


def test_blocking_twice_is_harmless_and_yourself_is_refused(app, people):
    with app.app_context():
        assert blocks.block_user(user("alice"), user("bob")) is True
        assert blocks.block_user(user("alice"), user("bob")) is False
        with pytest.raises(ValidationError):
            blocks.block_user(user("alice"), user("alice"))
    client = sign_in(app, "alice")
    client.post("/block/alice")
    assert "You cannot block yourself." in client.get("/user/alice").get_data(as_text=True)


@pytest.mark.slow
def test_blocked_posts_disappear_from_the_blockers_timelines(app, people):
    with app.app_context():
        alice, bob, carol = user("alice"), user("bob"), user("carol")
        make_follow(alice, bob)
        make_follow(alice, carol)
        make_post(bob, "post by bob")
        make_post(carol, "post by carol")
    client = sign_in(app, "alice")
    assert "post by bob" in client.get("/").get_data(as_text=True)
    client.post("/block/bob")
    for page in ("/", "/explore"):
        html = client.get(page).get_data(as_text=True)
        assert "post by bob" not in html, page
        assert "post by carol" in html, page
    # Only for the blocker: everyone else still sees bob's posts, and his profile still shows them.
    assert "post by bob" in sign_in(app, "carol").get("/explore").get_data(as_text=True)
    assert "post by bob" in client.get("/user/bob").get_data(as_text=True)


def test_the_timeline_leaves_out_blocked_authors_even_if_a_follow_remains(app, people):
    with app.app_context():
        alice, bob = user("alice"), user("bob")
        make_post(bob, "post by bob")
        make_follow(alice, bob)
        db.session.add(Block(blocker_id=alice.id, blocked_id=bob.id))  # as if a follow raced the block
        db.session.commit()
        assert db.session.scalars(alice.timeline_select()).all() == []


def test_blocking_removes_their_notifications(app, people):
    send(app, "bob", "alice", "hello")
    send(app, "carol", "alice", "hi")
    with app.app_context():
        blocks.block_user(user("alice"), user("bob"))
        actors = db.session.scalars(sa.select(Notification.actor_id)).all()
        assert actors == [user("carol").id]


# -- notifications ----------------------------------------------------------------------------------
def test_new_followers_and_messages_raise_the_unread_count(app, people):
    bob = sign_in(app, "bob")
    assert count(app, bob) == {"unread": 0, "more": False}
    sign_in(app, "alice").post("/follow/bob")
    send(app, "carol", "bob", "hey")
    assert count(app, bob) == {"unread": 2, "more": False}
    html = bob.get("/notifications").get_data(as_text=True)
    assert "alice is now following you." in html and 'href="/user/alice"' in html
    assert "carol sent you a message." in html and 'href="/messages/carol"' in html
    assert html.count(">New</span>") == 2
    assert re.search(r"data-notification-count>2<", html)  # the navbar badge, drawn with the page


def test_follow_again_does_not_pile_up_notifications(app, people):
    alice = sign_in(app, "alice")
    for _ in range(3):
        alice.post("/follow/bob")
        alice.post("/unfollow/bob")
    assert unread_of(app, "bob") == 1


def test_the_badge_stops_counting_at_99(app, people):
    with app.app_context():
        bob = user("bob")
        for _ in range(notifications.UNREAD_CAP + 5):
            notifications.add_notification(bob.id, "mention", user("alice").id, {"post_id": 1})
        db.session.commit()
    bob_client = sign_in(app, "bob")
    assert count(app, bob_client) == {"unread": 99, "more": True}
    assert re.search(r"data-notification-count>99\+<", bob_client.get("/").get_data(as_text=True))


def test_opening_pages_marks_nothing_read_by_itself(app, people):
    send(app, "alice", "bob", "hello")
    bob = sign_in(app, "bob")
    bob.get("/notifications")
    bob.get("/messages/alice")
    bob.get("/messages")
    assert count(app, bob)["unread"] == 1  # the page's script posts its mark-read form


def test_marking_notifications_read_up_to_what_the_page_showed(app, people):
    send(app, "alice", "bob", "first")
    bob = sign_in(app, "bob")
    html = bob.get("/notifications").get_data(as_text=True)
    up_to = re.search(r'name="up_to" type="hidden" value="(\d+)"', html).group(1)
    assert "data-mark-read" in html
    send(app, "carol", "bob", "arrived while the page was open")
    response = bob.post("/notifications/read", data={"up_to": up_to}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {"unread": 1, "more": False}
    assert "no-store" in response.headers["Cache-Control"]
    # Without JavaScript: the button posts the same form and comes back to the page.
    response = bob.post("/notifications/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert count(app, bob)["unread"] == 0
    assert "data-mark-read" not in bob.get("/notifications").get_data(as_text=True)


@pytest.mark.parametrize("up_to", ["0", "-1", "abc", "99999999999999999999"])
def test_bad_mark_read_input_is_refused(app, people, up_to):
    send(app, "alice", "bob", "hello")
    bob = sign_in(app, "bob")
    assert bob.post("/notifications/read", data={"up_to": up_to}).status_code == 400
    assert bob.post("/messages/alice/read", data={"up_to": up_to}).status_code == 400
    assert count(app, bob)["unread"] == 1


def test_reading_a_thread_marks_its_messages_and_their_notifications_read(app, people):
    first = send(app, "alice", "bob", "one")
    send(app, "carol", "bob", "from carol")
    sign_in(app, "alice").post("/follow/bob")
    bob = sign_in(app, "bob")
    html = bob.get("/messages/alice").get_data(as_text=True)
    assert re.search(rf'name="up_to" type="hidden" value="{first.id}"', html)
    later = send(app, "alice", "bob", "two, after the page was drawn")
    response = bob.post("/messages/alice/read", data={"up_to": first.id},
                        headers={"Accept": "application/json"})
    assert response.json["unread"] == 3  # carol's message, alice's follow, alice's later message
    with app.app_context():
        assert db.session.get(Message, first.id).read_at is not None
        assert db.session.get(Message, later.id).read_at is None
    assert bob.post("/messages/alice/read").headers["Location"] == "/messages/alice"
    assert count(app, bob)["unread"] == 2
    with app.app_context():
        kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.read_at.is_(None))).all()
        assert sorted(kinds) == ["message", "new_follower"]


def test_notifications_are_paginated(make_app):
    app = make_app(NOTIFICATIONS_PER_PAGE=2)
    with app.app_context():
        bob = make_user("bob")
        for i in range(3):
            follows.follow(make_user(f"fan{i}"), bob)
    client = sign_in(app, "bob")
    first = client.get("/notifications").get_data(as_text=True)
    assert "fan2 is now" in first and "fan1 is now" in first and "fan0" not in first
    assert 'rel="next" href="/notifications?page=2"' in first
    assert "fan0 is now" in client.get("/notifications?page=2").get_data(as_text=True)


def test_the_count_endpoint_is_one_indexed_query_and_writes_nothing(app, people):
    send(app, "alice", "bob", "hello")
    set_last_seen(app, "bob", timedelta(hours=2))
    bob = sign_in(app, "bob")  # signing in does not touch last_seen; the first page would
    set_last_seen(app, "bob", timedelta(hours=2))
    with counting(app) as statements:
        response = bob.get("/notifications/count.json")
    assert response.status_code == 200 and response.json == {"unread": 1, "more": False}
    assert "no-store" in response.headers["Cache-Control"]
    assert len(statements) == 1, statements
    assert "FROM notification" in statements[0] and statements[0].lstrip().upper().startswith("SELECT")
    with app.app_context():
        assert utcnow() - user("bob").last_seen > timedelta(hours=1)  # polling is not activity


def test_the_count_query_uses_the_user_read_at_index(app, people):
    with app.app_context():
        query = notifications.unread_count_select(user("bob").id)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            prefix = "EXPLAIN QUERY PLAN "
        else:  # an empty table is cheapest to scan; ask whether the index can serve the query at all
            prefix = "EXPLAIN "
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(row) for row in db.session.execute(sa.text(prefix + str(compiled))))
        db.session.rollback()
    assert "ix_notification_user_id_read_at" in plan, plan


def test_the_count_endpoint_answers_401_json_when_signed_out(client):
    response = client.get("/notifications/count.json", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"] == "Unauthorized"


def test_visitors_see_no_bell(client):
    html = client.get("/").get_data(as_text=True)
    assert "notification-bell" not in html and "notifications.js" not in html


# -- email ------------------------------------------------------------------------------------------
def test_new_message_email_when_away_with_one_click_unsubscribe(mail_app, smtp_server):
    with mail_app.app_context():
        make_user("alice"), make_user("bob", email="bob@example.com")
    set_last_seen(mail_app, "bob", timedelta(hours=2))
    alice = sign_in(mail_app, "alice")
    alice.post("/send_message/bob", data={"message": "Are you there?\nSecond line <b>"})
    [message] = smtp_server.inbox
    assert message["To"] == "bob@example.com"
    assert message["Subject"] == "alice sent you a message"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Are you there?\r\nSecond line <b>" in text
    assert "Second line &lt;b&gt;" in html
    assert "http://microblog.test/messages/alice" in text
    assert 'href="http://microblog.test/messages/alice"' in html
    header = message["List-Unsubscribe"]
    unsubscribe = re.search(r"<http://microblog\.test(/auth/unsubscribe/[^>]+)>", header).group(1)
    assert unsubscribe in text

    # More messages during the same absence: no more email about this sender.
    alice.post("/send_message/bob", data={"message": "Hello?"})
    assert len(smtp_server.inbox) == 1
    with mail_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2

    other = mail_app.test_client()
    page = other.get(unsubscribe).get_data(as_text=True)
    assert "no longer get an email about new messages" in page
    assert other.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with mail_app.app_context():
        bob = user("bob")
        assert bob.notify_new_message is False and bob.notify_new_follower is True


def test_no_message_email_while_the_recipient_is_active(mail_app, smtp_server):
    with mail_app.app_context():
        make_user("alice"), make_user("bob")
    sign_in(mail_app, "bob").get("/")  # bob is on the site now
    sign_in(mail_app, "alice").post("/send_message/bob", data={"message": "quick question"})
    assert smtp_server.inbox == []


def test_a_new_absence_brings_a_new_email(mail_app, smtp_server):
    with mail_app.app_context():
        make_user("alice"), make_user("bob")
    set_last_seen(mail_app, "bob", timedelta(hours=5))
    send(mail_app, "alice", "bob", "one")
    with mail_app.app_context():  # bob came back an hour ago, then left again
        db.session.execute(sa.update(Notification).values(emailed_at=utcnow() - timedelta(hours=4)))
        db.session.commit()
    set_last_seen(mail_app, "bob", timedelta(hours=1))
    send(mail_app, "alice", "bob", "two")
    send(mail_app, "alice", "bob", "three")
    assert len(smtp_server.inbox) == 2


def test_the_away_threshold_comes_from_config(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), MESSAGE_EMAIL_AFTER_MINUTES=5)
    with app.app_context():
        make_user("alice"), make_user("bob")
    set_last_seen(app, "bob", timedelta(minutes=4))
    send(app, "alice", "bob", "not yet")
    assert smtp_server.inbox == []
    set_last_seen(app, "bob", timedelta(minutes=6))
    send(app, "alice", "bob", "now")
    assert len(smtp_server.inbox) == 1


def test_message_email_setting_on_edit_profile(app, people):
    client = sign_in(app, "bob")
    html = client.get("/edit_profile").get_data(as_text=True)
    assert 'name="notify_new_message"' in html and re.search(r'checked[^>]*name="notify_new_message"|'
                                                              r'name="notify_new_message"[^>]*checked', html)
    client.post("/edit_profile", data={"username": "bob", "about_me": "", "notify_new_follower": "y"})
    with app.app_context():
        assert user("bob").notify_new_message is False
        assert user("bob").notify_new_follower is True
    set_last_seen(app, "bob", timedelta(days=1))
    send(app, "alice", "bob", "you will not hear about this by email")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_message_email_goes_through_the_outbox_with_the_message(app, people):
    set_last_seen(app, "bob", timedelta(days=1))
    send(app, "alice", "bob", "hallo")
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage))
        assert mail.recipient == "bob@example.com"
        assert mail.subject == "alice sent you a message"
        assert "hallo" in mail.text_body
        assert "List-Unsubscribe" in mail.headers
        note = db.session.scalar(sa.select(Notification))
        assert note.emailed_at is not None


# -- CSRF on the new forms --------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/send_message/bob", "/block/bob", "/unblock/bob", "/notifications/read",
                                  "/messages/bob/read"])
def test_state_changes_need_a_csrf_token(make_app, path):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice"), make_user("bob")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token})
    response = client.post(path, data={"message": "hi"})
    assert response.status_code == 400
    assert client.get(path).status_code in (200, 405)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0


def test_blocking_keeps_the_follow_counts_exact(app, people):
    with app.app_context():
        alice, bob, carol = user("alice"), user("bob"), user("carol")
        follows.follow(alice, bob)
        follows.follow(bob, alice)
        follows.follow(carol, bob)
        blocks.block_user(alice, bob)
        db.session.expire_all()
        assert (alice.follower_count, alice.following_count) == (0, 0)
        assert (bob.follower_count, bob.following_count) == (1, 0)
        assert (carol.follower_count, carol.following_count) == (0, 1)
