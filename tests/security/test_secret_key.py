"""The secret key: production refuses weak or published keys, a cookie forged with a published key never
signs anyone in, and a rotated key (SECRET_KEY_FALLBACKS) keeps existing cookies and links working."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from flask_login.utils import encode_cookie

from config import ProdConfig
from microblog import create_app
from microblog.extensions import db
from microblog.models import User
from microblog.secret_keys import PUBLIC_DEFAULT_KEYS
from microblog.signed_tokens import reset_token
from tests.factories import DEFAULT_PASSWORD, make_user

# What tutorials and templates print, as they print it, and padded to pass a length check.
TUTORIAL_KEYS = ["dev", "secret", "changeme", "you-will-never-guess", "super-secret-key", "your-secret-key",
                 "change-me", "secret-key", "development", "hard to guess string"]
PADDED_KEYS = [key * (32 // len(key) + 1) for key in TUTORIAL_KEYS] + [
    "you-will-never-guess-you-will-never-guess", "super-secret-key-1234567890123456", "changeme" + "!" * 30,
    "x" * 64, "0123456789" * 4, "abababababababababababababababababab",
]


@pytest.mark.parametrize("key", sorted(PUBLIC_DEFAULT_KEYS) + PADDED_KEYS + [None, "", "short"])
def test_production_refuses_a_weak_or_published_key(tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not usable in production"):
        create_app(ProdConfig, {"SECRET_KEY": key, "INSTANCE_DIR": str(tmp_path)})


def test_production_refuses_a_weak_fallback_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY_FALLBACKS entry 2"):
        create_app(ProdConfig, {"SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(tmp_path),
                                "SECRET_KEY_FALLBACKS": [secrets.token_hex(32), "changeme"]})


def test_production_starts_with_a_random_key(tmp_path):
    for key in (secrets.token_hex(32), secrets.token_urlsafe(32)):
        app = create_app(ProdConfig, {"SECRET_KEY": key, "INSTANCE_DIR": str(tmp_path), "LOG_TO_STDOUT": True,
                                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
        assert app.secret_key == key


def forged_session(key: str, user_id: str) -> str:
    """A session cookie saying ``user_id`` is signed in, signed the way Flask signs sessions, with ``key``."""
    forger = Flask("forger")
    forger.secret_key = key
    serializer = forger.session_interface.get_signing_serializer(forger)
    return serializer.dumps({"_user_id": user_id, "_fresh": True})


def forged_remember(key: str, user_id: str) -> str:
    return encode_cookie(user_id, key=key)


def signed_in(client) -> bool:
    return client.get("/edit_profile").status_code == 200


def test_cookies_forged_with_published_keys_never_sign_in(make_app):
    key = secrets.token_hex(32)
    app = make_app(SECRET_KEY=key)
    with app.app_context():
        user_id = make_user("alice").id
    ids = [f"{user_id}:0", str(user_id)]
    # The check can fail: the same forgery with the site's real key does sign in.
    assert signed_in(cookie_client(app, "session", forged_session(key, ids[0])))
    assert signed_in(cookie_client(app, "remember_token", forged_remember(key, ids[0])))
    published = sorted(PUBLIC_DEFAULT_KEYS | set(TUTORIAL_KEYS) | set(PADDED_KEYS))
    accepted = []
    for public_key in published:
        for ident in ids:
            if signed_in(cookie_client(app, "session", forged_session(public_key, ident))):
                accepted.append(("session", public_key, ident))
            if signed_in(cookie_client(app, "remember_token", forged_remember(public_key, ident))):
                accepted.append(("remember_token", public_key, ident))
    assert accepted == []
    assert len(published) >= 60


def cookie_client(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def sign_in(app, remember: bool = False):
    client = app.test_client()
    data = {"username": "alice", "password": DEFAULT_PASSWORD}
    if remember:
        data["remember_me"] = "y"
    assert client.post("/auth/login", data=data).status_code == 302
    return client


def test_rotation_keeps_sessions_remember_cookies_and_links(make_app):
    old_key, new_key = secrets.token_hex(32), secrets.token_hex(32)
    before = make_app(SECRET_KEY=old_key)
    with before.app_context():
        make_user("alice")
    browser = sign_in(before, remember=True)
    session_cookie = browser.get_cookie("session").value
    remember_cookie = browser.get_cookie("remember_token").value
    with before.app_context():
        link = "/auth/reset_password/" + reset_token(db.session.scalar(db.select(User)))

    rotated = make_app(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key])
    forgotten = make_app(SECRET_KEY=new_key)
    assert signed_in(cookie_client(rotated, "session", session_cookie))
    assert not signed_in(cookie_client(forgotten, "session", session_cookie))
    assert rotated.test_client().get(link).status_code == 200
    assert forgotten.test_client().get(link).status_code == 400

    # A remember-me cookie signed with the old key signs in, and comes back signed with the new key.
    returning = cookie_client(rotated, "remember_token", remember_cookie)
    assert signed_in(returning)
    renewed = returning.get_cookie("remember_token").value
    assert renewed != remember_cookie
    assert signed_in(cookie_client(forgotten, "remember_token", renewed))
    assert not signed_in(cookie_client(forgotten, "remember_token", remember_cookie))
