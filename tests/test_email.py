"""Mail through the outbox and a real SMTP server: reset, confirmation, notifications, failures."""

from __future__ import annotations

import logging
import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from microblog import mail, signed_tokens
from microblog.extensions import db
from microblog.models import OutboxMessage, Post, User
from tests.factories import make_user

LINK = re.compile(r"http://microblog\.test(/[^\s\"<]+)")


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


# -- password reset -------------------------------------------------------------------------------
def test_reset_link_arrives_over_smtp_and_works_once(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice", email="alice@example.com")
    response = client.post("/auth/reset_password_request", data={"email": "ALICE@example.com"})
    assert response.status_code == 302
    assert len(smtp_server.inbox) == 1
    message = smtp_server.inbox[0]
    assert message["To"] == "alice@example.com"
    assert message["From"] == "Microblog <noreply@microblog.test>"
    assert message["Subject"] == "Reset your password"
    text, html = parts(message)
    path = LINK.search(text).group(1)
    assert path.startswith("/auth/reset_password/")
    assert f"http://microblog.test{path}" in html
    assert "expires in 60 minutes" in text

    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "a-brand-new-pass", "password2": "a-brand-new-pass"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    with mail_app.app_context():
        assert db.session.scalar(sa.select(User)).check_password("a-brand-new-pass")
    # Single use: the link is bound to the old password.
    again = client.get(path)
    assert again.status_code == 400
    assert "This link no longer works" in again.get_data(as_text=True)
    assert client.post(path, data={"password": "x" * 10, "password2": "x" * 10}).status_code == 400


def test_reset_request_answers_the_same_for_unknown_addresses(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice", email="alice@example.com")
    known = client.post("/auth/reset_password_request", data={"email": "alice@example.com"},
                        follow_redirects=True)
    unknown = client.post("/auth/reset_password_request", data={"email": "nobody@example.com"},
                          follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    flash = "If that address has an account, a reset link is on its way."
    assert flash in known.get_data(as_text=True) and flash in unknown.get_data(as_text=True)
    assert len(smtp_server.inbox) == 1
    assert len(outbox(mail_app)) == 1


def test_reset_link_expires(app, client, monkeypatch):
    with app.app_context():
        user = make_user("alice")
        hour_ago = int(time.time()) - 3601
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: hour_ago)
        token = signed_tokens.reset_token(user)
        monkeypatch.undo()
        assert signed_tokens.user_for_reset_token(token) is None
    response = client.get(f"/auth/reset_password/{token}")
    assert response.status_code == 400


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: "",
    lambda t: "a" * 5000,
    lambda t: t.split(".")[0],
])
def test_tampered_reset_links_are_refused(app, client, mangle):
    with app.app_context():
        token = signed_tokens.reset_token(make_user("alice"))
    bad = mangle(token)
    response = client.get(f"/auth/reset_password/{bad}") if bad else client.get("/auth/reset_password/")
    assert response.status_code in (400, 404)


def test_other_kinds_of_token_do_not_reset_passwords(app, client):
    with app.app_context():
        user = make_user("alice")
        confirm = signed_tokens.confirm_token(user)
        unsubscribe = signed_tokens.unsubscribe_token(user, "new_follower")
    for token in (confirm, unsubscribe):
        assert client.get(f"/auth/reset_password/{token}").status_code == 400


def test_a_token_only_resets_its_own_user(app, client):
    with app.app_context():
        alice_id, bob = make_user("alice").id, make_user("bob")
        bob_id, token = bob.id, signed_tokens.reset_token(bob)
    client.post(f"/auth/reset_password/{token}",
                data={"password": "new-password-1", "password2": "new-password-1"})
    with app.app_context():
        assert db.session.get(User, bob_id).check_password("new-password-1")
        assert not db.session.get(User, alice_id).check_password("new-password-1")


def test_without_a_mail_server_mail_goes_to_the_log(app, client, caplog):
    with app.app_context():
        make_user("alice", email="alice@example.com")
    with caplog.at_level(logging.WARNING, logger="microblog.mail"):
        client.post("/auth/reset_password_request", data={"email": "alice@example.com"})
    assert "http://microblog.test/auth/reset_password/" in caplog.text
    assert [m.status for m in outbox(app)] == ["sent"]


def test_links_use_the_configured_site_not_the_request_host(mail_app, smtp_server):
    with mail_app.app_context():
        make_user("alice", email="alice@example.com")
    mail_app.test_client().post(
        "/auth/reset_password_request", data={"email": "alice@example.com"},
        headers={"Host": "evil.example"},
    )
    text, html = parts(smtp_server.inbox[0])
    assert "evil.example" not in text and "evil.example" not in html
    assert "http://microblog.test/auth/reset_password/" in text


# -- delivery failures ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("site_url", "run_args", "env", "link"),
    [
        (None, ["--port", "8080"], {}, "http://127.0.0.1:8080/auth/reset_password/"),  # make run PORT=8080
        (None, [], {"FLASK_RUN_PORT": "8081"}, "http://127.0.0.1:8081/auth/reset_password/"),
        (None, ["--host", "0.0.0.0", "--port", "8082"], {}, "http://127.0.0.1:8082/auth/reset_password/"),
        (None, ["--host", "localhost"], {}, "http://localhost:5000/auth/reset_password/"),
        ("https://microblog.example", ["--port", "8080"], {}, "https://microblog.example/auth/reset_password/"),
    ],
)
def test_without_site_url_links_point_at_the_port_flask_run_serves(
    make_app, monkeypatch, caplog, site_url, run_args, env, link
):
    from click.testing import CliRunner
    from flask import cli as flask_cli

    served = {}
    monkeypatch.setattr(flask_cli, "run_simple", lambda host, port, app, **options: served.update(app=app))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    group = flask_cli.FlaskGroup(create_app=lambda: make_app(SITE_URL=site_url), load_dotenv=False)
    result = CliRunner().invoke(group, ["run", *run_args])
    assert result.exit_code == 0, result.output
    app = served["app"]
    with app.app_context():
        make_user("alice", email="alice@example.com")
    with caplog.at_level(logging.WARNING, logger="microblog.mail"):  # no MAIL_SERVER: the terminal
        app.test_client().post("/auth/reset_password_request", data={"email": "alice@example.com"})
    assert link in caplog.text


def test_outside_flask_run_links_default_to_the_development_servers_address(make_app):
    assert make_app(SITE_URL=None).config["SITE_URL"] == "http://127.0.0.1:5000"


def test_smtp_down_loses_nothing_and_a_retry_delivers_exactly_once(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice")
        make_user("bob")
    smtp_server.stop()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    response = client.post("/follow/bob")
    assert response.status_code == 302  # the follow itself succeeded
    [message] = outbox(mail_app)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "Connection refused" in message.last_error or "Errno" in message.last_error
    assert "bob" in client.get("/user/alice/following").get_data(as_text=True)

    smtp_server.start()
    with mail_app.app_context():
        assert mail.deliver_due() == 0  # not due yet: backoff
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=OutboxMessage.created_at))
        db.session.commit()
        assert mail.deliver_due() == 1
        assert mail.deliver_due() == 0
    assert len(smtp_server.inbox) == 1
    assert smtp_server.inbox[0]["Subject"] == "alice is now following you"
    assert [(m.status, m.attempts) for m in outbox(mail_app)] == [("sent", 2)]


def test_after_the_last_attempt_a_message_is_failed_and_the_cli_retries_it(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        make_user("alice", email="alice@example.com")
    smtp_server.stop()
    app.test_client().post("/auth/reset_password_request", data={"email": "alice@example.com"})
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=OutboxMessage.created_at))
        db.session.commit()
        mail.deliver_due()
    [message] = outbox(app)
    assert (message.status, message.attempts) == ("failed", 2)

    runner = app.test_cli_runner()
    status = runner.invoke(args=["mail", "status"])
    assert "failed   1" in status.output and "alice@example.com" in status.output
    smtp_server.start()
    retry = runner.invoke(args=["mail", "retry"])
    assert retry.exit_code == 0, retry.output
    assert "1 sent" in retry.output
    assert len(smtp_server.inbox) == 1


def test_a_message_is_claimed_by_one_sender_only(mail_app, smtp_server):
    with mail_app.app_context():
        make_user("alice", email="alice@example.com")
        mail.queue_email("alice@example.com", "Hi", "confirm_email",
                           user=db.session.scalar(sa.select(User)), url="http://microblog.test/x")
        db.session.commit()
        message_id = db.session.scalar(sa.select(OutboxMessage.id))
        assert mail.deliver_message(message_id) == "sent"
        assert mail.deliver_message(message_id) == "skipped"
    assert len(smtp_server.inbox) == 1


# -- confirmation ---------------------------------------------------------------------------------
def test_confirmation_gates_posting_until_the_link_is_opened(make_app, smtp_server):
    app = make_app(**smtp_server.settings(), EMAIL_CONFIRMATION=True)
    client = app.test_client()
    client.post("/auth/register", data={"username": "carol", "email": "carol@example.com",
                                        "password": "correct-horse", "password2": "correct-horse"})
    assert len(smtp_server.inbox) == 1
    text, _html = parts(smtp_server.inbox[0])
    path = LINK.search(text).group(1)

    client.post("/auth/login", data={"username": "carol", "password": "correct-horse"})
    home = client.get("/").get_data(as_text=True)
    assert "Please confirm your email address to start posting" in home
    refused = client.post("/", data={"post": "hello"})
    assert "Please confirm your email address before posting." in refused.get_data(as_text=True)

    client.post("/auth/resend_confirmation")
    assert len(smtp_server.inbox) == 2

    assert client.get(path).status_code == 200  # a page with a button: no GET changes anything
    with app.app_context():
        assert db.session.scalar(sa.select(User.confirmed_at).where(User.username == "carol")) is None
    assert client.post(path).status_code == 302
    assert client.post(path).status_code == 302  # twice is harmless
    assert client.post("/", data={"post": "hello"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
    assert client.get("/auth/confirm/not-a-token").status_code == 400


def test_without_confirmation_new_accounts_can_post_at_once(client, app):
    client.post("/auth/register", data={"username": "dan", "email": "dan@example.com",
                                        "password": "correct-horse", "password2": "correct-horse"})
    assert client.post("/", data={"post": "hi"}).status_code == 302
    assert outbox(app) == []


# -- notifications --------------------------------------------------------------------------------
def test_new_follower_email_has_a_working_one_click_unsubscribe(mail_app, smtp_server):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_user("alice")
        make_user("bob", email="bob@example.com")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    client.post("/follow/bob")
    [message] = smtp_server.inbox
    assert message["To"] == "bob@example.com"
    text, html = parts(message)
    assert "alice is now following you." in text
    assert "http://microblog.test/user/alice" in text and 'href="http://microblog.test/user/alice"' in html
    header = message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"<http://microblog\.test(/auth/unsubscribe/[^>]+)>", header).group(1)
    assert unsubscribe in text

    other = mail_app.test_client()  # a mail client: no session, no CSRF token
    page = other.get(unsubscribe)
    assert page.status_code == 200 and "Stop these emails?" in page.get_data(as_text=True)
    assert other.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with mail_app.app_context():
        assert db.session.scalar(sa.select(User.notify_new_follower).where(User.username == "bob")) is False

    client.post("/unfollow/bob")
    client.post("/follow/bob")
    assert len(smtp_server.inbox) == 1
    assert other.get("/auth/unsubscribe/forged").status_code == 404


def test_notification_setting_on_edit_profile(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    assert 'name="notify_new_follower"' in client.get("/edit_profile").get_data(as_text=True)
    client.post("/edit_profile", data={"username": "alice", "about_me": ""})  # unchecked box
    with app.app_context():
        assert db.session.scalar(sa.select(User.notify_new_follower)) is False


# -- errors mailed to admins ------------------------------------------------------------------------
def test_errors_are_mailed_to_admins_without_a_flood(make_app, smtp_server):
    from microblog.logs import error_mail_handler

    app = make_app(**smtp_server.settings(), ADMINS=["ops@example.com"])
    handler = error_mail_handler(app)
    logger = logging.getLogger("test.admin-mail")
    logger.addHandler(handler)
    try:
        for _ in range(3):
            logger.error("database on fire")  # same place in the code: one mail
        logger.error("another fault")
        logger.warning("not an error")
    finally:
        logger.removeHandler(handler)
    assert [m["To"] for m in smtp_server.inbox] == ["ops@example.com", "ops@example.com"]
    assert "database on fire" in smtp_server.inbox[0].get_content()
    assert "another fault" in smtp_server.inbox[1].get_content()
