"""Mastodon's conversations over our private messages: the Conversation entity and its direct last_status,
paging with Link headers, marking read, removing (refused), and writing a direct status
(mastodon/direct.py; docs: methods/conversations, entities/Conversation)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from microblog.extensions import db
from microblog.mastodon.direct import MESSAGE_ID_OFFSET, create_direct_status
from microblog.mastodon.status_entity import REBLOG_ID_OFFSET, parse_status_id
from microblog.models import ID_MAX, Message, Notification
from microblog.services import messages, notifications
from microblog.timeutil import utcnow
from tests.factories import find_user, make_block, make_user
from tests.mastodon_helpers import bearer, token_of
from tests.statements import counting

URL = "/api/v1/conversations"
STATUS_KEYS = {"id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive",
               "spoiler_text", "media_attachments", "application", "mentions", "tags", "emojis",
               "reblogs_count", "favourites_count", "replies_count", "in_reply_to_id",
               "in_reply_to_account_id", "reblog", "poll", "card", "language", "filtered",
               "favourited", "reblogged", "muted", "bookmarked"}


def token(app, username: str, scope: str = "read write") -> dict[str, str]:
    return token_of(app, username, scope)


@pytest.fixture
def people(app):
    with app.app_context():
        for name in ("alice", "bob", "carol", "dave"):
            make_user(name)
    return token(app, "alice")


def _send(app, sender: str, recipient: str, body: str) -> int:
    with app.app_context():
        return messages.send_message(find_user(sender), find_user(recipient), body).id


def _user_id(app, username: str) -> int:
    with app.app_context():
        return find_user(username).id


def _links(response) -> dict[str, dict[str, list[str]]]:
    return {rel: parse_qs(urlsplit(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def test_one_conversation_per_person_with_its_newest_message(app, client, people):
    _send(app, "bob", "alice", "first from bob")
    _send(app, "alice", "bob", "alice answers <b>bold</b> & more\nhttps://example.com/x")
    carol_said = _send(app, "carol", "alice", "hello from carol")
    _send(app, "bob", "dave", "not alice's business")
    response = client.get(URL, headers=people)
    assert response.status_code == 200
    carol, bob = response.json
    assert carol["id"] == str(_user_id(app, "carol")) and bob["id"] == str(_user_id(app, "bob"))
    assert set(carol) == {"id", "unread", "accounts", "last_status"}
    assert [account["username"] for account in carol["accounts"]] == ["carol"]
    assert carol["unread"] is True and bob["unread"] is True  # bob's first message was never read
    last = carol["last_status"]
    assert set(last) == STATUS_KEYS and last["visibility"] == "direct"
    assert last["id"] == str(MESSAGE_ID_OFFSET + carol_said) and last["account"]["username"] == "carol"
    assert [mention["username"] for mention in last["mentions"]] == ["alice"]
    mine = bob["last_status"]
    assert set(mine) == STATUS_KEYS | {"pinned"} and mine["account"]["username"] == "alice"
    assert mine["content"].startswith("<p>alice answers &lt;b&gt;bold&lt;/b&gt; &amp; more<br />")
    assert "<b>" not in mine["content"] and 'href="https://example.com/x"' in mine["content"]
    assert mine["url"].endswith("/messages/bob") and mine["uri"] != bob["last_status"]["url"]


def test_message_status_ids_collide_with_no_post_or_repost():
    assert MESSAGE_ID_OFFSET > REBLOG_ID_OFFSET + ID_MAX
    assert parse_status_id(str(MESSAGE_ID_OFFSET + 1)) is None  # /api/v1/statuses/:id names no post


def test_paging_down_and_up_with_link_headers(app, client, people):
    with app.app_context():
        for index in range(5):
            make_user(f"pen{index}")
    sent = [_send(app, f"pen{index}", "alice", f"letter {index}") for index in range(5)]
    ids = [str(MESSAGE_ID_OFFSET + value) for value in sent][::-1]  # last_status ids, newest first

    def page(**query):
        response = client.get(URL, query_string={"limit": 2, **query}, headers=people)
        assert response.status_code == 200
        return response, [entity["last_status"]["id"] for entity in response.json]

    first, seen = page()
    assert seen == ids[:2]
    links = _links(first)
    assert links["next"]["max_id"] == [ids[1]] and links["prev"]["min_id"] == [ids[0]]
    second, seen = page(max_id=links["next"]["max_id"][0])
    assert seen == ids[2:4]
    third, seen = page(max_id=_links(second)["next"]["max_id"][0])
    assert seen == ids[4:]
    _, seen = page(min_id=_links(third)["prev"]["min_id"][0])
    assert seen == ids[2:4]
    _, seen = page(since_id=ids[4])
    assert seen == ids[:2]
    empty, seen = page(max_id=ids[-1])
    assert seen == [] and "Link" not in empty.headers


def test_a_deactivated_correspondent_is_left_out(app, client, people):
    _send(app, "bob", "alice", "hi")
    _send(app, "carol", "alice", "hi")
    with app.app_context():
        find_user("carol").deactivated_at = utcnow()
        db.session.commit()
    assert [entity["accounts"][0]["username"] for entity in client.get(URL, headers=people).json] == ["bob"]
    carol_id = _user_id(app, "carol")
    assert client.post(f"{URL}/{carol_id}/read", headers=people).status_code == 404


def test_read_marks_the_messages_and_their_notifications_read(app, client, people):
    _send(app, "bob", "alice", "one")
    _send(app, "bob", "alice", "two")
    _send(app, "carol", "alice", "other")
    bob_id = _user_id(app, "bob")
    response = client.post(f"{URL}/{bob_id}/read", headers=people)
    assert response.status_code == 200
    assert response.json["id"] == str(bob_id) and response.json["unread"] is False
    assert response.json["last_status"]["content"] == "<p>two</p>"
    with app.app_context():
        unread = db.session.scalars(sa.select(Message.body).where(Message.read_at.is_(None)))
        assert list(unread) == ["other"]
        assert notifications.unread_count(find_user("alice").id) == 1
    assert [entity["unread"] for entity in client.get(URL, headers=people).json] == [True, False]


@pytest.mark.parametrize("method", ["post", "delete"])
def test_someone_elses_or_no_conversation_is_404(app, client, people, method):
    _send(app, "bob", "dave", "between them")
    alice_id, dave_id = _user_id(app, "alice"), _user_id(app, "dave")
    for raw in (str(dave_id), str(alice_id), "abc", "99999999", "0", "-1", "9" * 30):
        path = f"{URL}/{raw}/read" if method == "post" else f"{URL}/{raw}"
        response = getattr(client, method)(path, headers=people)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}
    with app.app_context():
        assert db.session.scalar(sa.select(Message.read_at)) is None


def test_removing_a_conversation_is_refused(app, client, people):
    _send(app, "bob", "alice", "kept")
    response = client.delete(f"{URL}/{_user_id(app, 'bob')}", headers=people)
    assert response.status_code == 422 and response.json["error"].startswith("Validation failed: ")
    assert len(client.get(URL, headers=people).json) == 1


@pytest.mark.parametrize(("method", "path"), [("get", URL), ("post", f"{URL}/1/read"),
                                              ("delete", f"{URL}/1")])
def test_no_token_is_401(client, method, path):
    for headers in ({}, bearer("nope")):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 401 and response.json == {"error": "The access token is invalid"}


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("get", URL, "read:notifications"), ("get", URL, "write"),
    ("post", f"{URL}/1/read", "read"), ("delete", f"{URL}/1", "write:statuses"),
])
def test_wrong_scope_is_403(app, client, method, path, scope):
    with app.app_context():
        make_user("alice")
    response = getattr(client, method)(path, headers=token(app, "alice", scope))
    assert response.status_code == 403


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "max_id=abc", "min_id=-5", "since_id=1e99",
                                   "max_id=99999999999999999999999", f"max_id={MESSAGE_ID_OFFSET}",
                                   "min_id=0&max_id=0"])
def test_garbage_parameters_are_never_a_server_error(app, client, people, query):
    _send(app, "bob", "alice", "hi")
    assert client.get(f"{URL}?{query}", headers=people).status_code == 200


@pytest.mark.parametrize("body", [{"json": [1]}, {"data": "x=1"},
                                  {"data": b"\xff", "content_type": "application/json"}])
def test_garbage_bodies_are_never_a_server_error(app, client, people, body):
    bob_id = _user_id(app, "bob")
    _send(app, "bob", "alice", "hi")
    assert client.post(f"{URL}/{bob_id}/read", headers=people, **body).status_code == 200
    assert client.delete(f"{URL}/{bob_id}", headers=people, **body).status_code == 422


def test_statements_per_page_are_constant(app, client, people):
    def statements_for(count: int) -> int:
        with app.app_context():
            for index in range(count):
                name = f"c{count}x{index}"
                make_user(name)
        for index in range(count):
            _send(app, f"c{count}x{index}", "alice", "hello")
            _send(app, "alice", f"c{count}x{index}", "hello back")
        client.get(URL, headers=people)
        with counting(app) as statements:
            response = client.get(URL, query_string={"limit": count}, headers=people)
        assert len(response.json) == count
        return len(statements)

    # The token, its user, the page, the unread messages, the accounts' last-post days.
    assert statements_for(1) == statements_for(6) <= 6


# -- writing: a status with visibility "direct" ----------------------------------------------------
def _direct(app, username: str, values: dict, headers: dict | None = None):
    """create_direct_status as the statuses view will call it; the entity, or the refusal's response."""
    with app.test_request_context("/api/v1/statuses", method="POST", headers=headers or {}):
        try:
            return create_direct_status(find_user(username), values)
        except HTTPException as refusal:
            return refusal.get_response()


def test_a_direct_status_is_a_message_to_each_mentioned_account(app, client, people):
    entity = _direct(app, "alice", {"status": "Hi @bob and @CAROL, and @nobody & <i>you</i>",
                                    "visibility": "direct"})
    assert entity["visibility"] == "direct" and entity["account"]["username"] == "alice"
    # Each recipient has a message of their own: the answer is the first one's status.
    assert [mention["username"] for mention in entity["mentions"]] == ["bob"]
    assert "&lt;i&gt;you&lt;/i&gt;" in entity["content"] and 'class="mention">@bob' in entity["content"]
    with app.app_context():
        sent = db.session.execute(sa.select(Message.recipient_id, Message.body).order_by(Message.id)).all()
        assert [recipient for recipient, _ in sent] == [find_user("bob").id, find_user("carol").id]
        assert {body for _, body in sent} == {"Hi @bob and @CAROL, and @nobody & <i>you</i>"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    # The conversations of each side show it; bob's last_status is the status answered.
    bobs = client.get(URL, headers=token(app, "bob")).json
    seen_by_bob = bobs[0]["last_status"]
    assert bobs[0]["unread"] is True and seen_by_bob["id"] == entity["id"]
    assert (seen_by_bob["content"], seen_by_bob["mentions"]) == (entity["content"], entity["mentions"])
    alices = client.get(URL, headers=people).json
    assert [conversation["accounts"][0]["username"] for conversation in alices] == ["carol", "bob"]
    assert alices[1]["last_status"] == entity


@pytest.mark.parametrize(("values", "reason"), [
    ({"status": "nobody mentioned"}, "Mention at least one account"),
    ({"status": "@alice only myself"}, "Mention at least one account"),
    ({"status": "@nobody_here hi"}, "Mention at least one account"),
    ({"status": None}, "Mention at least one account"),
    ({"status": ["@bob"]}, "Mention at least one account"),
    ({"status": "@bob " + "x" * 5000}, "A message is at most"),
    ({"status": "@bob look", "media_ids": ["1"]}, "A direct message is text only"),
    ({"status": "@bob vote", "poll": {"options": ["a", "b"]}}, "A direct message is text only"),
])
def test_a_refused_direct_status_is_422_and_sends_nothing(app, people, values, reason):
    response = _direct(app, "alice", values, headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    assert response.json["error"].startswith(f"Validation failed: {reason}")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_a_block_refuses_every_recipient(app, people):
    with app.app_context():
        make_block(find_user("carol"), find_user("alice"))
    response = _direct(app, "alice", {"status": "@bob @carol hello"})
    assert response.status_code == 422
    assert response.json == {"error": "Validation failed: You cannot send messages to carol"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
