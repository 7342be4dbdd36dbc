"""Mastodon's notifications API: the Notification entity and our kinds as Mastodon's types, filters, paging
with Link headers, one notification, dismissing and clearing, the unread count (docs:
methods/notifications, entities/Notification)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Notification, NotificationKind, Post, User
from microblog.services import blocks, follows, messages, notifications, posts, reactions
from microblog.timeutil import utcnow
from tests.factories import find_user, make_post, make_user
from tests.mastodon_helpers import bearer, token_of
from tests.statements import counting

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
URL = "/api/v1/notifications"


def token(app, username: str, scope: str = "read write") -> dict[str, str]:
    return token_of(app, username, scope)


@pytest.fixture
def people(app):
    with app.app_context():
        for name in ("alice", "bob", "carol"):
            make_user(name)
    return token(app, "alice")


def _ids(response) -> list[str]:
    return [entity["id"] for entity in response.json]


def _links(response) -> dict[str, dict[str, list[str]]]:
    """rel -> the query of its URL."""
    return {rel: parse_qs(urlsplit(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def _everything(app) -> dict[str, int]:
    """Bob follows alice, likes her post, mentions her and writes to her; carol reposts and answers her
    post; a report of alice's is closed. The ids of the posts involved."""
    with app.app_context():
        alice, bob, carol = find_user("alice"), find_user("bob"), find_user("carol")
        post = make_post(alice, "alice's words")
        follows.follow(bob, alice)
        reactions.like(bob, post.id)
        reactions.repost(carol, post.id)
        mention = posts.publish_post(bob, "hello @alice")
        reply = posts.publish_post(carol, "an answer", in_reply_to=post.id)
        messages.send_message(bob, alice, "a private word")
        notifications.add_notification(alice.id, NotificationKind.REPORT_OUTCOME,
                                       payload={"report_id": 1, "status": "resolved", "target": "x"})
        db.session.commit()
        return {"post": post.id, "mention": mention.id, "reply": reply.id}


def test_our_kinds_as_mastodons_types(app, client, people):
    ids = _everything(app)
    response = client.get(URL, headers=people)
    assert response.status_code == 200
    found = [(entity["type"], entity["account"]["username"], (entity.get("status") or {}).get("id"))
             for entity in response.json]
    # Newest first; the message (a conversation) and the report's outcome (no such type) are left out.
    assert found == [("mention", "carol", str(ids["reply"])), ("mention", "bob", str(ids["mention"])),
                     ("reblog", "carol", str(ids["post"])), ("favourite", "bob", str(ids["post"])),
                     ("follow", "bob", None)]
    for entity in response.json:
        assert isinstance(entity["id"], str) and ISO_MS.match(entity["created_at"])
        assert entity["group_key"] == f"ungrouped-{entity['id']}"
        keys = {"id", "type", "created_at", "account", "group_key"}
        assert set(entity) == (keys | {"status"} if entity["type"] != "follow" else keys)
    favourite = response.json[3]
    assert favourite["status"]["account"]["username"] == "alice" and favourite["status"]["content"]
    assert favourite["status"]["favourited"] is False and favourite["status"]["favourites_count"] == 1
    reply = response.json[0]["status"]
    assert reply["in_reply_to_id"] == str(ids["post"]) and reply["account"]["username"] == "carol"


def test_a_reply_that_mentions_you_is_one_mention(app, client, people):
    """Mastodon gives one notification per status: our reply and mention notifications of one post
    are one "mention"."""
    with app.app_context():
        alice, carol = find_user("alice"), find_user("carol")
        post = make_post(alice, "alice's words")
        reply = posts.publish_post(carol, "@alice I agree", in_reply_to=post.id)
        db.session.commit()
        reply_id = reply.id
    found = [(entity["type"], entity["status"]["id"]) for entity in client.get(URL, headers=people).json]
    assert found == [("mention", str(reply_id))]
    count = client.get(f"{URL}/unread_count", headers=people).json
    assert count == {"count": 1}


def test_reading_through_the_api_marks_nothing_read(app, client, people):
    _everything(app)
    with app.app_context():
        before = notifications.unread_count(find_user("alice").id)
    assert client.get(URL, headers=people).status_code == 200
    with app.app_context():
        assert notifications.unread_count(find_user("alice").id) == before == 7


@pytest.mark.parametrize(("query", "expected"), [
    ("types[]=favourite", ["favourite"]),
    ("types[]=mention&types[]=follow", ["mention", "mention", "follow"]),
    ("types=reblog", ["reblog"]),
    ("exclude_types[]=mention&exclude_types[]=reblog", ["favourite", "follow"]),
    ("types[]=mention&exclude_types[]=mention", []),
    ("types[]=poll&types[]=nonsense", []),
    ("types[]=poll&types[]=follow", ["follow"]),
    ("exclude_types[]=nonsense", ["mention", "mention", "reblog", "favourite", "follow"]),
])
def test_types_and_exclude_types(app, client, people, query, expected):
    _everything(app)
    response = client.get(f"{URL}?{query}", headers=people)
    assert response.status_code == 200
    assert [entity["type"] for entity in response.json] == expected


def test_account_id_keeps_one_actor(app, client, people):
    _everything(app)
    with app.app_context():
        bob_id = find_user("bob").id
    response = client.get(URL, query_string={"account_id": bob_id}, headers=people)
    assert [entity["type"] for entity in response.json] == ["mention", "favourite", "follow"]
    assert {entity["account"]["id"] for entity in response.json} == {str(bob_id)}
    for nobody in ("abc", "99999999", "-1"):
        response = client.get(URL, query_string={"account_id": nobody}, headers=people)
        assert response.status_code == 200 and response.json == []


def _likes(app, count: int) -> list[int]:
    """``count`` like notifications of alice's, oldest first (the ids)."""
    with app.app_context():
        alice, bob = find_user("alice"), find_user("bob")
        for index in range(count):
            reactions.like(bob, make_post(alice, f"post {index}").id)
        return list(db.session.scalars(sa.select(Notification.id).order_by(Notification.id)))


def test_paging_down_and_up_with_link_headers(app, client, people):
    ids = [str(value) for value in _likes(app, 5)][::-1]  # newest first
    first = client.get(URL, query_string={"limit": 2}, headers=people)
    assert _ids(first) == ids[:2]
    links = _links(first)
    assert links["next"]["max_id"] == [ids[1]] and links["prev"]["min_id"] == [ids[0]]
    assert links["next"]["limit"] == ["2"]
    second = client.get(URL, query_string={"limit": 2, "max_id": ids[1]}, headers=people)
    assert _ids(second) == ids[2:4]
    third = client.get(URL, query_string={"limit": 2, "max_id": _links(second)["next"]["max_id"][0]},
                       headers=people)
    assert _ids(third) == ids[4:]
    # Up again from the third page: the entries just above it, without a gap.
    back = client.get(URL, query_string={"limit": 2, "min_id": _links(third)["prev"]["min_id"][0]},
                      headers=people)
    assert _ids(back) == ids[2:4]
    # since_id: the newest ones above it (a gap may be left).
    assert _ids(client.get(URL, query_string={"limit": 2, "since_id": ids[4]}, headers=people)) == ids[:2]
    past = client.get(URL, query_string={"max_id": ids[-1]}, headers=people)
    assert past.json == [] and "Link" not in past.headers


def test_default_and_largest_page(app, client, people):
    _likes(app, 3)
    assert len(client.get(URL, query_string={"limit": 1000}, headers=people).json) == 3
    assert len(client.get(URL, query_string={"limit": 1}, headers=people).json) == 1


def test_left_out_the_gone_the_blocked_and_the_hidden(app, client, people):
    ids = _everything(app)
    with app.app_context():
        alice, carol = find_user("alice"), find_user("carol")
        blocks.block_user(alice, carol)  # carol's repost and reply notifications go (or stay hidden)
        db.session.get(Post, ids["mention"]).hidden_at = utcnow()  # a moderator hid bob's mention
        db.session.commit()
    assert [entity["type"] for entity in client.get(URL, headers=people).json] == ["favourite", "follow"]
    with app.app_context():
        find_user("bob").deactivated_at = utcnow()
        db.session.commit()
    assert client.get(URL, headers=people).json == []


def test_one_notification(app, client, people):
    _everything(app)
    listed = client.get(URL, headers=people).json
    for entity in listed:
        one = client.get(f"{URL}/{entity['id']}", headers=people)
        assert one.status_code == 200 and one.json == entity
    with app.app_context():
        message_note = db.session.scalar(sa.select(Notification.id).where(Notification.kind == "message"))
    assert client.get(f"{URL}/{message_note}", headers=people).status_code == 404  # not shown here
    for bad in ("abc", "99999999", "0", "-3", "1.5", "9" * 30):
        response = client.get(f"{URL}/{bad}", headers=people)
        assert response.status_code == 404 and response.json == {"error": "Record not found"}


def test_another_users_notification_is_404(app, client, people):
    with app.app_context():
        follows.follow(find_user("alice"), find_user("bob"))
        theirs = db.session.scalar(sa.select(Notification.id))
    assert client.get(f"{URL}/{theirs}", headers=people).status_code == 404
    assert client.post(f"{URL}/{theirs}/dismiss", headers=people).status_code == 404
    with app.app_context():
        assert db.session.get(Notification, theirs) is not None


def test_dismiss_one(app, client, people):
    _everything(app)
    listed = _ids(client.get(URL, headers=people))
    response = client.post(f"{URL}/{listed[1]}/dismiss", headers=people)
    assert response.status_code == 200 and response.json == {}
    assert _ids(client.get(URL, headers=people)) == [listed[0], *listed[2:]]
    assert client.post(f"{URL}/{listed[1]}/dismiss", headers=people).status_code == 404
    for bad in ("abc", "99999999", "0"):
        assert client.post(f"{URL}/{bad}/dismiss", headers=people).status_code == 404


def test_clear_deletes_all_of_yours_only(app, client, people):
    _everything(app)
    with app.app_context():
        follows.follow(find_user("alice"), find_user("bob"))  # bob's notification stays
    response = client.post(f"{URL}/clear", headers=people)
    assert response.status_code == 200 and response.json == {}
    assert client.get(URL, headers=people).json == []
    with app.app_context():
        left = sa.select(User.username).join(Notification, Notification.user_id == User.id)
        assert list(db.session.scalars(left)) == ["bob"]


def test_unread_count(app, client, people):
    _everything(app)
    count = client.get(f"{URL}/unread_count", headers=people)
    assert count.status_code == 200 and count.json == {"count": 5}  # the five the list shows
    assert client.get(f"{URL}/unread_count?types[]=mention", headers=people).json == {"count": 2}
    assert client.get(f"{URL}/unread_count?exclude_types[]=mention", headers=people).json == {"count": 3}
    assert client.get(f"{URL}/unread_count?limit=2", headers=people).json == {"count": 2}
    assert client.get(f"{URL}/unread_count?account_id=abc", headers=people).json == {"count": 0}
    with app.app_context():
        notifications.mark_all_read(find_user("alice"))  # read on the web
    assert client.get(f"{URL}/unread_count", headers=people).json == {"count": 0}


@pytest.mark.parametrize(("method", "path"), [
    ("get", URL), ("get", f"{URL}/1"), ("get", f"{URL}/unread_count"),
    ("post", f"{URL}/clear"), ("post", f"{URL}/1/dismiss"),
])
def test_no_token_is_401(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401 and response.json == {"error": "The access token is invalid"}
    bad = getattr(client, method)(path, headers=bearer("not-a-token"))
    assert bad.status_code == 401


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("get", URL, "write"), ("get", f"{URL}/1", "write:notifications"),
    ("get", f"{URL}/unread_count", "read:statuses"),
    ("post", f"{URL}/clear", "read"), ("post", f"{URL}/1/dismiss", "read:notifications"),
])
def test_wrong_scope_is_403(app, client, method, path, scope):
    with app.app_context():
        make_user("alice")
    response = getattr(client, method)(path, headers=token(app, "alice", scope))
    assert response.status_code == 403
    assert response.json == {"error": "This action is outside the authorized scopes"}


@pytest.mark.parametrize("scope", ["read:notifications", "read"])
def test_the_granular_scope_reads(app, client, scope):
    with app.app_context():
        make_user("alice")
    assert client.get(URL, headers=token(app, "alice", scope)).status_code == 200


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=-5", "limit=99999999999999999999", "max_id=abc", "since_id=-1", "min_id=1e9",
    "max_id=99999999999999999999999", "types[]=", "types=%00", "exclude_types=&types[]=follow",
    "account_id=", "account_id=%FF", "min_id=0&max_id=0",
])
def test_garbage_parameters_are_never_a_server_error(app, client, people, query):
    _everything(app)
    for path in (URL, f"{URL}/unread_count"):
        assert client.get(f"{path}?{query}", headers=people).status_code == 200


@pytest.mark.parametrize("body", [{"json": [1, 2]}, {"json": "x"}, {"data": "types[]=a&x=1"},
                                  {"data": b"\xff\xfe", "content_type": "application/json"}])
def test_garbage_bodies_are_never_a_server_error(app, client, people, body):
    for path in (f"{URL}/clear", f"{URL}/1/dismiss"):
        assert client.post(path, headers=people, **body).status_code < 500


def test_statements_per_page_are_constant(app, client, people):
    def statements_for(count: int) -> int:
        with app.app_context():
            db.session.execute(sa.delete(Notification))
            db.session.commit()
            alice, bob, carol = find_user("alice"), find_user("bob"), find_user("carol")
            for index in range(count):
                post = make_post(alice, f"post {index} #tag @carol")
                reactions.like(bob, post.id)
                reactions.repost(carol, post.id)
                posts.publish_post(bob, f"@alice number {index}", in_reply_to=post.id)
            follows.unfollow(bob, alice)
            follows.follow(bob, alice)
        client.get(URL, headers=people)  # the token's last use is written at most every few minutes
        with counting(app) as statements:
            response = client.get(URL, query_string={"limit": 80}, headers=people)
        assert response.status_code == 200 and len(response.json) > 3 * count
        return len(statements)

    # The token, its user, the page, its posts, their mentions, tags and the viewer's reactions, the
    # authors' and the actors' last-post days: 9 whatever the page's length.
    assert statements_for(1) == statements_for(6) <= 10
