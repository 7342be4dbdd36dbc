"""Leaving: deactivating an account and signing in again, asking for its deletion and cancelling it by
signing in, the sweep after the grace period, what the deletion job removes (and what it keeps right
for everyone else), the reserved name, the notices by mail, and the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import (
    Announce,
    AuditLogEntry,
    Block,
    Bookmark,
    Like,
    Mention,
    Message,
    Notification,
    Post,
    RecoveryCode,
    Report,
    ReservedUsername,
    Token,
    User,
    followers,
)
from microblog.services import account_deletion, audit, posts, reactions
from microblog.timeutil import utcnow
from tests.factories import (
    DEFAULT_PASSWORD,
    basic,
    find_user,
    make_block,
    make_follow,
    make_message,
    make_post,
    make_posts,
    make_user,
    signed_in_client,
    token_for,
)

GRACE = timedelta(days=30)


def user_row(app, username: str) -> User | None:
    with app.app_context():
        user = find_user(username)
        if user is not None:
            db.session.expunge(user)
        return user


def shift_clock(monkeypatch, by: timedelta) -> None:
    """The deletion service's clock, ``by`` from now (the grace period passing)."""
    later = utcnow() + by
    monkeypatch.setattr(account_deletion, "utcnow", lambda: later)


def signed_in(client) -> bool:
    return client.get("/edit_profile").status_code == 200


def flashes(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(AuditLogEntry.action).where(AuditLogEntry.target_id == user_id,
                                                  AuditLogEntry.target_type == "user")
            .order_by(AuditLogEntry.id)))


@pytest.fixture
def people(app):
    """alice (who leaves) with two posts, followed by bob; bob has a post alice liked and replied to."""
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_posts(alice, 2)
        make_follow(bob, alice)
        make_follow(alice, bob)
        make_post(bob, "bob's own post")
    return app


# -- deactivating ---------------------------------------------------------------------------------
def test_deactivating_hides_the_account_until_its_owner_signs_in_again(people, client):
    app = people
    alice_id = user_row(app, "alice").id
    with app.app_context():
        post_id = db.session.scalar(sa.select(Post.id).where(Post.user_id == alice_id).limit(1))
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    page = client.get("/settings/deactivate")
    assert page.status_code == 200 and "Deactivate my account" in page.get_data(as_text=True)
    response = client.post("/settings/deactivate", data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/index"
    assert not signed_in(client)
    assert user_row(app, "alice").deactivated_at is not None

    bob = signed_in_client(app, "bob")
    visitor = app.test_client()
    for viewer in (bob, visitor):
        assert viewer.get("/user/alice").status_code == 404
        assert viewer.get(f"/post/{post_id}").status_code == 404
        assert "alice says" not in viewer.get("/explore").get_data(as_text=True)
    assert "alice says" not in bob.get("/index").get_data(as_text=True)
    assert "bob&#39;s own post" in bob.get("/index").get_data(as_text=True) or \
        "bob's own post" in bob.get("/index").get_data(as_text=True)
    headers = token_for(bob, "bob")
    assert bob.get(f"/api/users/{alice_id}", headers=headers).status_code == 404

    # Signing in again brings everything back, and says so.
    response = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD},
                           follow_redirects=True)
    assert "Welcome back! Your account is active again." in flashes(response)
    assert user_row(app, "alice").deactivated_at is None
    assert bob.get("/user/alice").status_code == 200
    assert "alice says" in bob.get("/index").get_data(as_text=True)
    assert audit_actions(app, alice_id) == [audit.ACCOUNT_DEACTIVATE, audit.ACCOUNT_REACTIVATE]


@pytest.mark.parametrize("path", ["/settings/deactivate", "/settings/delete"])
def test_a_wrong_password_changes_nothing(people, client, path):
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    response = client.post(path, data={"password": "not-my-password"})
    assert response.status_code == 200
    assert "Your password is not correct." in response.get_data(as_text=True)
    alice = user_row(people, "alice")
    assert alice.deactivated_at is None and alice.deletion_due_at is None
    assert signed_in(client)


def test_an_account_with_two_factor_needs_a_code(people, client, monkeypatch):
    from microblog.services import two_factor

    with people.app_context():
        alice = find_user("alice")
        alice.totp_secret, alice.totp_enabled_at = "JBSWY3DPEHPK3PXP", utcnow()
        db.session.commit()
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    with client.session_transaction() as session:  # past the code step, as test_two_factor does it
        pending = session.get("two_factor_pending")
    assert pending is not None
    monkeypatch.setattr(two_factor, "verify_code", lambda user, code: "totp" if code == "123456" else None)
    assert client.post("/auth/two_factor/verify", data={"code": "123456"}).status_code == 302
    assert "Code from the app" in client.get("/settings/delete").get_data(as_text=True)
    for code in ("", "000000"):
        response = client.post("/settings/delete", data={"password": DEFAULT_PASSWORD, "code": code})
        assert response.status_code == 200 and "That code is not valid." in response.get_data(as_text=True)
    assert user_row(people, "alice").deletion_due_at is None
    response = client.post("/settings/delete", data={"password": DEFAULT_PASSWORD, "code": "123456"})
    assert response.status_code == 302
    assert user_row(people, "alice").deletion_due_at is not None


@pytest.mark.parametrize("path", ["/settings/deactivate", "/settings/delete"])
def test_the_forms_need_a_csrf_token(make_app, path):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert client.post(path, data={"password": DEFAULT_PASSWORD}).status_code == 400
    alice = user_row(app, "alice")
    assert alice.deactivated_at is None and alice.deletion_due_at is None


def test_password_guesses_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        limiter.reset()
        make_user("alice")
    client = signed_in_client(app, "alice")
    statuses = [client.post("/settings/delete", data={"password": f"guess-{n}"}).status_code
                for n in range(4)]
    assert statuses[-1] == 429
    assert user_row(app, "alice").deletion_due_at is None


# -- asking for deletion, and cancelling it -------------------------------------------------------
def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_deletion_is_scheduled_mailed_and_cancelled_by_signing_in(mail_app, smtp_server):
    app = mail_app
    with app.app_context():
        make_user("alice", email="alice@example.com")
    client = signed_in_client(app, "alice")
    other_device = signed_in_client(app, "alice")
    page = client.get("/settings/delete").get_data(as_text=True)
    assert "deleted in 30 days" in page
    response = client.post("/settings/delete", data={"password": DEFAULT_PASSWORD}, follow_redirects=True)
    assert "Your account will be deleted on" in response.get_data(as_text=True)
    assert not signed_in(client) and not signed_in(other_device)  # signed out everywhere
    alice = user_row(app, "alice")
    due = alice.deletion_due_at
    assert due is not None and alice.deactivated_at is not None
    assert timedelta(days=29, hours=23) < due - utcnow() <= GRACE
    assert app.test_client().get("/user/alice").status_code == 404

    # The second device's sign-in was from a new browser: that notice came first.
    NEW_SIGN_IN = "New sign-in to your account"
    assert [m["Subject"] for m in smtp_server.inbox] == [NEW_SIGN_IN, "Your account will be deleted"]
    message = smtp_server.inbox[-1]
    assert message["To"] == "alice@example.com"
    text, html = parts(message)
    assert "Your Microblog account will be deleted on" in text and str(due.year) in text
    assert "Sign in before then to cancel the deletion" in text
    assert "http://microblog.test/auth/login" in text and "http://microblog.test/auth/login" in html

    response = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD},
                           follow_redirects=True)
    assert "Your account will not be deleted" in response.get_data(as_text=True)
    alice = user_row(app, "alice")
    assert alice.deletion_due_at is None and alice.deactivated_at is None
    assert app.test_client().get("/user/alice").status_code == 200
    assert [m["Subject"] for m in smtp_server.inbox] == [NEW_SIGN_IN, "Your account will be deleted",
                                                          "Your account will not be deleted"]
    assert audit_actions(app, alice.id) == [audit.NEW_DEVICE_SIGN_IN, audit.ACCOUNT_DELETE_SCHEDULED,
                                            audit.ACCOUNT_DELETE_CANCELLED]


def test_the_sweep_waits_for_the_grace_period(people, monkeypatch):
    app = people
    with app.app_context():
        account_deletion.schedule_deletion(find_user("alice"), DEFAULT_PASSWORD)
        shift_clock(monkeypatch, GRACE - timedelta(hours=1))
        assert account_deletion.sweep_due_deletions() == 0
        assert find_user("alice") is not None
        shift_clock(monkeypatch, GRACE + timedelta(minutes=1))
        assert account_deletion.sweep_due_deletions() == 1
    assert user_row(app, "alice") is None


# -- the deletion ---------------------------------------------------------------------------------
def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_the_deletion_removes_everything_of_the_account_and_keeps_other_counts_right(app, monkeypatch):
    app.config["ACCOUNT_DELETION_BATCH_SIZE"] = 2  # several committed batches of each kind
    with app.app_context():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        alice_posts = make_posts(alice, 5)
        bob_post = make_post(bob, "hello @alice")
        make_follow(alice, bob)
        make_follow(bob, alice)
        make_follow(carol, alice)
        make_follow(carol, bob)
        make_message(alice, bob)
        make_message(bob, alice)
        make_block(alice, carol)
        posts.publish_post(alice, "a reply", in_reply_to=bob_post.id)
        reactions.like(alice, bob_post.id)
        reactions.repost(alice, bob_post.id)
        reactions.bookmark(alice, bob_post.id)
        reactions.like(bob, alice_posts[0].id)
        db.session.add(Mention(post_id=bob_post.id, user_id=alice.id))
        db.session.add(Notification(user_id=alice.id, kind="new_follower", actor_id=bob.id))
        db.session.add(Notification(user_id=bob.id, kind="new_follower", actor_id=alice.id))
        db.session.add(RecoveryCode(user_id=alice.id, code_hash="x" * 64))
        db.session.add(Report(reporter_id=alice.id, user_id=bob.id, kind="user", target_label="bob",
                              reason="spam"))
        db.session.commit()
        alice_id, bob_id, carol_id, bob_post_id = alice.id, bob.id, carol.id, bob_post.id
    client = app.test_client()
    token_for(client, "alice")
    with app.app_context():
        account_deletion.schedule_deletion(db.session.get(User, alice_id), DEFAULT_PASSWORD)
        shift_clock(monkeypatch, GRACE + timedelta(minutes=1))
        assert account_deletion.sweep_due_deletions() == 1

    with app.app_context():
        assert db.session.get(User, alice_id) is None
        assert count(Post, Post.user_id == alice_id) == 0
        assert count(Message, sa.or_(Message.sender_id == alice_id, Message.recipient_id == alice_id)) == 0
        assert count(followers, sa.or_(followers.c.follower_id == alice_id,
                                       followers.c.followed_id == alice_id)) == 0
        for model in (Like, Announce, Bookmark, Token, RecoveryCode):
            assert count(model, model.user_id == alice_id) == 0, model
        assert count(Mention, Mention.user_id == alice_id) == 0
        assert count(Notification, sa.or_(Notification.user_id == alice_id,
                                          Notification.actor_id == alice_id)) == 0
        assert count(Block, sa.or_(Block.blocker_id == alice_id, Block.blocked_id == alice_id)) == 0
        # Everyone else's counts are what their rows say.
        bob, carol = db.session.get(User, bob_id), db.session.get(User, carol_id)
        assert (bob.follower_count, bob.following_count, bob.post_count) == (1, 0, 1)
        assert (carol.follower_count, carol.following_count) == (0, 1)
        bob_post = db.session.get(Post, bob_post_id)
        assert (bob_post.like_count, bob_post.repost_count) == (0, 0)
        assert bob_post.reply_count == 0
        # The report stays for the moderators, without its reporter.
        report = db.session.scalar(sa.select(Report))
        assert report is not None and report.reporter_id is None
        # The name is reserved; the log keeps a record that names nobody.
        assert db.session.get(ReservedUsername, "alice").reason == "deleted"
        deleted = AuditLogEntry.action == audit.ACCOUNT_DELETED
        entry = db.session.scalar(sa.select(AuditLogEntry).where(deleted))
        assert entry.target_id == alice_id and entry.actor_id is None
        assert "alice" not in f"{entry.target_label} {entry.details} {entry.actor_name}"


def test_a_deletion_interrupted_half_way_is_finished_by_the_next_sweep(app, monkeypatch):
    app.config["ACCOUNT_DELETION_BATCH_SIZE"] = 2
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_posts(alice, 9)
        make_follow(bob, alice)
        alice_id, bob_id = alice.id, bob.id
        account_deletion.schedule_deletion(alice, DEFAULT_PASSWORD)
    calls = {"n": 0}
    real = account_deletion.media_files.discard_post_media

    def crash_on_the_third_batch(ids):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the worker died")
        real(ids)

    monkeypatch.setattr(account_deletion.media_files, "discard_post_media", crash_on_the_third_batch)
    with app.app_context():
        shift_clock(monkeypatch, GRACE + timedelta(minutes=1))
        assert account_deletion.sweep_due_deletions() == 1  # the job ran, and failed
        alice = db.session.get(User, alice_id)
        assert alice is not None and alice.deletion_started_at is not None
        assert count(Post, Post.user_id == alice_id) == 5  # two batches committed
        assert alice.post_count == 5
        # Held by the dead worker until its lease runs out; then the sweep hands it on.
        assert account_deletion.sweep_due_deletions() == 0
        shift_clock(monkeypatch, GRACE + timedelta(hours=1))
        assert account_deletion.sweep_due_deletions() == 1
        assert db.session.get(User, alice_id) is None
        assert db.session.get(User, bob_id).following_count == 0
    # Signing in is refused while a deletion is under way (and after it, the account is gone).
    assert app.test_client().post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD}
                                  ).status_code == 200


def test_a_started_deletion_cannot_be_cancelled_by_signing_in(people, monkeypatch):
    app = people
    with app.app_context():
        alice = find_user("alice")
        account_deletion.schedule_deletion(alice, DEFAULT_PASSWORD)
        alice.deletion_started_at = utcnow()
        db.session.commit()
    response = app.test_client().post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200 and "Invalid username or password." in response.get_data(as_text=True)
    assert user_row(app, "alice").deletion_due_at is not None


# -- the reserved name ----------------------------------------------------------------------------
def test_a_deleted_accounts_name_cannot_be_taken_again(app, client, monkeypatch):
    with app.app_context():
        make_user("Alice")
        make_user("bob")
        account_deletion.schedule_deletion(find_user("Alice"), DEFAULT_PASSWORD)
        shift_clock(monkeypatch, GRACE + timedelta(minutes=1))
        account_deletion.sweep_due_deletions()
        assert find_user("Alice") is None
    taken = "That username is taken. Please choose another."
    response = client.post("/auth/register", data={
        "username": "ALICE", "email": "new@example.com", "password": "a-long-password",
        "password2": "a-long-password"})
    assert response.status_code == 200 and taken in response.get_data(as_text=True)
    response = client.post("/api/users", json={"username": "alice", "email": "new@example.com",
                                               "password": "a-long-password"})
    assert response.status_code == 409
    bob = signed_in_client(app, "bob")
    response = bob.post("/edit_profile", data={"username": "alice"})
    assert response.status_code == 200 and taken in response.get_data(as_text=True)
    headers = token_for(bob, "bob")
    bob_id = user_row(app, "bob").id
    assert bob.put(f"/api/users/{bob_id}", json={"username": "aLiCe"}, headers=headers).status_code == 409
    assert user_row(app, "bob").username == "bob"


# -- the API --------------------------------------------------------------------------------------
def test_api_delete_shows_the_date_and_a_new_token_cancels_it(people, client):
    headers = token_for(client, "alice")
    account = client.get("/api/account", headers=headers)
    assert account.status_code == 200 and account.json["deletion_due_at"] is None
    assert account.json["username"] == "alice"
    wrong = client.post("/api/account/delete", json={"password": "nope-nope"}, headers=headers)
    assert wrong.status_code == 422 and "password" in wrong.json["errors"]["json"]
    assert client.post("/api/account/delete", json={"password": DEFAULT_PASSWORD, "extra": 1},
                       headers=headers).status_code == 422
    response = client.post("/api/account/delete", json={"password": DEFAULT_PASSWORD}, headers=headers)
    assert response.status_code == 202
    assert response.json["deletion_due_at"] and "Sign in before then to cancel" in response.json["message"]
    assert client.get("/api/account", headers=headers).status_code == 401  # every token revoked
    assert client.get(f"/api/users/{user_row(people, 'alice').id}",
                      headers=token_for(client, "bob")).status_code == 404
    # Signing in (a new token) cancels it.
    headers = token_for(client, "alice")
    assert client.get("/api/account", headers=headers).json["deletion_due_at"] is None
    assert user_row(people, "alice").deactivated_at is None


def test_api_deactivate(people, client):
    headers = token_for(client, "alice")
    assert client.post("/api/account/deactivate", json={"password": "wrong-one"},
                       headers=headers).status_code == 422
    assert client.post("/api/account/deactivate", json={"password": DEFAULT_PASSWORD},
                       headers=headers).status_code == 204
    assert user_row(people, "alice").deactivated_at is not None
    assert client.get("/api/account", headers=headers).status_code == 401
    assert client.post("/api/tokens", headers=basic("alice")).status_code == 201
    assert user_row(people, "alice").deactivated_at is None


def test_the_settings_page_links_to_the_danger_zone(people, client):
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    page = client.get("/edit_profile").get_data(as_text=True)
    assert "Danger zone" in page
    assert 'href="/settings/deactivate#deactivate"' in page and 'href="/settings/delete#delete"' in page
