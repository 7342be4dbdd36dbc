"""Sign-up, sign-in, sign-out, and the rules on usernames, emails and passwords."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import User
from tests.factories import DEFAULT_PASSWORD, make_user


def register(client, username="alice", email="alice@example.com", password="correct-horse", password2=None):
    return client.post(
        "/auth/register",
        data={"username": username, "email": email, "password": password,
              "password2": password if password2 is None else password2},
    )


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_register_creates_account_with_hashed_password(client, app):
    response = register(client, username="Alice", email="Alice@Example.COM")
    assert response.status_code == 302
    assert response.headers["Location"] == "/index"
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.username == "Alice"
        assert user.email == "alice@example.com"
        assert user.password_hash != "correct-horse"
        assert user.password_hash.startswith("$argon2id$")
        assert user.check_password("correct-horse")
        assert user.role == "user"


def test_register_signs_the_new_user_in(client, app, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="microblog.security")
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/index"
    home = client.get("/").get_data(as_text=True)
    assert "Welcome! Your account is ready." in home
    assert "Hi, alice!" in home and 'aria-label="Timeline"' in home  # the timeline, not the welcome page
    assert "Please confirm your email address" not in home
    assert "Welcome to Microblog" not in home
    # A real session: a form posted with it works.
    assert client.post("/", data={"post": "my first post"}).status_code == 302
    assert "my first post" in client.get("/").get_data(as_text=True)
    with app.app_context():
        alice_id = db.session.scalar(sa.select(User.id))
    signed_in = [r for r in caplog.records if '"login.success"' in r.getMessage()]
    assert len(signed_in) == 1 and f'"user_id": {alice_id}' in signed_in[0].getMessage()
    assert '"via": "signup"' in signed_in[0].getMessage()


def test_register_with_email_confirmation_says_to_confirm_then_sign_in(make_app):
    app = make_app(EMAIL_CONFIRMATION=True)
    client = app.test_client()
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Welcome! We sent you a link to confirm your email address. Please sign in." in page
    assert "Hi, alice!" not in client.get("/").get_data(as_text=True)  # not signed in
    with app.app_context():
        assert db.session.scalar(sa.select(User.confirmed_at)) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": ""}, "This field is required."),
        ({"username": "ab"}, "between 3 and 32"),
        ({"username": "a" * 33}, "between 3 and 32"),
        ({"username": "bad name"}, "letters, digits and underscores"),
        ({"username": "<script>x</script>"}, "letters, digits and underscores"),
        ({"username": "nul\x00byte"}, "letters, digits and underscores"),
        ({"username": "ünïcödé"}, "letters, digits and underscores"),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"email": "a@" + "b" * 300 + ".com"}, "254"),
        ({"password": "short", "password2": "short"}, "Passwords are 8 to 128 characters long."),
        ({"password": "x" * 129, "password2": "x" * 129}, "Passwords are 8 to 128 characters long."),
        ({"password2": "something-else"}, "The passwords do not match."),
    ],
)
def test_register_rejects_bad_input(client, app, fields, message):
    data = {"username": "alice", "email": "alice@example.com", "password": "correct-horse"}
    data.update(fields)
    data.setdefault("password2", data["password"])
    response = client.post("/auth/register", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_register_refuses_a_taken_username_without_regard_to_case(client, app):
    assert register(client).status_code == 302
    other = app.test_client()
    response = register(other, username="ALICE", email="other@example.com")
    assert response.status_code == 200
    assert "That username is taken." in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_register_with_a_taken_address_mails_its_owner_and_signs_nobody_in(client, app):
    from microblog.models import OutboxMessage

    assert register(client).status_code == 302
    stranger = app.test_client()
    response = register(stranger, username="bob", email="ALICE@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/index"
    page = stranger.get("/").get_data(as_text=True)
    assert "Please check your email: we sent a message to that address." in page
    assert "Welcome to Microblog" in page and "Hi, " not in page
    assert user_count(app) == 1
    with app.app_context():
        notice = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert notice.recipient == "alice@example.com"
        assert notice.subject == "Someone tried to sign up with your address"
        assert "/auth/reset_password_request" in notice.text_body and "bob" not in notice.text_body


def test_login_and_logout(client, app, auth):
    with app.app_context():
        make_user("alice")
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/index" or response.headers["Location"] == "/"
    home = client.get("/")
    assert "Hi, alice!" in home.get_data(as_text=True)
    response = auth.logout()
    assert response.status_code == 302
    assert "Hi, alice!" not in client.get("/").get_data(as_text=True)


def test_login_is_case_blind_for_usernames(client, app, auth):
    with app.app_context():
        make_user("Alice")
    assert auth.login("aLiCe").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", DEFAULT_PASSWORD), ("", ""), ("alice", "")],
)
def test_login_failures_say_the_same_thing(client, app, auth, username, password):
    with app.app_context():
        make_user("alice")
    response = auth.login(username, password)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Invalid username or password." in text or "This field is required." in text
    assert "Hi, alice!" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/user/alice", "/user/alice"),
        ("/explore?page=2", "/explore?page=2"),
        ("https://evil.example/", "/index"),
        ("//evil.example/", "/index"),
        ("/\\evil.example", "/index"),
        ("javascript:alert(1)", "/index"),
        ("", "/index"),
    ],
)
def test_login_follows_next_only_to_local_paths(client, app, next_url, expected):
    with app.app_context():
        make_user("alice")
    response = client.post(
        "/auth/login", query_string={"next": next_url},
        data={"username": "alice", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_remember_me_sets_a_lasting_cookie(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login(remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.http_only


def test_logout_needs_post(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    assert client.get("/auth/logout").status_code == 405
    assert "Hi, alice!" in client.get("/").get_data(as_text=True)


def test_signed_in_users_are_sent_home_from_auth_pages(client, app, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    assert client.get("/auth/login").status_code == 302
    assert client.get("/auth/register").status_code == 302


def test_last_seen_is_recorded(client, app, auth):
    from datetime import timedelta

    from microblog.timeutil import utcnow

    with app.app_context():
        old = utcnow() - timedelta(days=3)
        make_user("alice", last_seen=old)
    auth.login()
    client.get("/")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        assert utcnow() - user.last_seen < timedelta(minutes=1)


def test_login_attempts_are_rate_limited(make_app):
    from microblog.extensions import limiter

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        limiter.reset()
        make_user("alice")
    client = app.test_client()
    wrong = {"username": "alice", "password": "wrong-password"}
    statuses = [client.post("/auth/login", data=wrong).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    page = client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD})
    assert page.status_code == 429
    assert "Too many requests" in page.get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # reading the form is not limited


def test_passwords_are_hashed_with_argon2id(app, production_password_hashing):
    with app.app_context():
        user = User(username="zed", email="zed@example.com")
        user.set_password("a-long-password")
        assert user.password_hash.startswith("$argon2id$")
        assert "m=19456,t=2,p=1" in user.password_hash
        assert user.check_password("a-long-password") and not user.check_password("a-long-passworD")


def test_older_hashes_are_upgraded_at_login(client, app, auth):
    from werkzeug.security import generate_password_hash

    with app.app_context():
        make_user("alice")
        db.session.execute(sa.update(User).values(password_hash=generate_password_hash("correct-horse")))
        db.session.commit()
    assert auth.login().status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.password_hash)).startswith("$argon2id$")
    auth.logout()
    assert auth.login().status_code == 302  # and the new hash works


@pytest.mark.parametrize("password", ["password", "Password1", "qwertyuiop", "iloveyou", "11111111"])
def test_common_passwords_are_refused(client, app, password):
    response = register(client, username="bob", email="bob@example.com", password=password)
    assert response.status_code == 200
    assert "one of the most common" in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_the_common_password_list_is_large():
    from microblog.passwords import _common

    assert len(_common()) >= 3000
