"""A conversation's page: a refused reply keeps the conversation on screen, and the two sides differ."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Message
from tests.factories import DEFAULT_PASSWORD, find_user, make_block, make_message, make_user


@pytest.fixture
def talk(app):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_message(bob, alice, "Are you coming tonight?")
        make_message(alice, bob, "Yes, at eight.")


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message))


@pytest.mark.parametrize("body", ["", "   ", "x" * 20_000], ids=["empty", "blank", "too-long"])
def test_a_refused_reply_keeps_the_conversation(app, client, auth, talk, body):
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post("/messages/bob", data={"message": body})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Conversation with bob" in html
    assert "Are you coming tonight?" in html and "Yes, at eight." in html  # the history is still there
    assert 'id="message-error" class="invalid-feedback d-block"><span>' in html  # the error by the field
    assert 'aria-invalid="true"' in html
    assert count(app) == 2


def test_the_reply_form_posts_to_the_conversation(app, client, auth, talk):
    auth.login("alice", DEFAULT_PASSWORD)
    html = client.get("/messages/bob").get_data(as_text=True)
    assert 'action="/messages/bob#reply"' in html
    response = client.post("/messages/bob", data={"message": "See you!"})
    assert response.status_code == 302 and response.headers["Location"] == "/messages/bob"
    assert count(app) == 3
    assert "Your message to bob has been sent." in client.get("/messages/bob").get_data(as_text=True)


def test_a_reply_to_someone_who_blocked_you_is_refused_on_the_page(app, client, auth, talk):
    with app.app_context():
        make_block(find_user("bob"), find_user("alice"))
    auth.login("alice", DEFAULT_PASSWORD)
    response = client.post("/messages/bob", data={"message": "hello?"})
    assert response.status_code == 200 and "Are you coming tonight?" in response.get_data(as_text=True)
    assert count(app) == 2


def test_your_messages_and_theirs_are_told_apart_in_words(app, client, auth, talk):
    auth.login("alice", DEFAULT_PASSWORD)
    html = client.get("/messages/bob").get_data(as_text=True)
    mine = re.search(r'<article class="card mb-2 message message-mine".*?</article>', html, re.S).group(0)
    theirs = re.search(r'<article class="card mb-2 message message-theirs".*?</article>', html, re.S).group(0)
    assert ">You</span>" in mine and "Yes, at eight." in mine
    assert ">bob</a>" in theirs and "Are you coming tonight?" in theirs
