"""Mastodon's statuses API (docs: methods/statuses) through the real stack: posting (form, JSON,
Idempotency-Key), reading, editing, deleting, conversations, favourites, reblogs and bookmarks, and
the errors Mastodon answers (401, 403, 404, 422, never a 500).

A little over 400 lines: it is the one blueprint's tests, sharing one set of accounts and tokens."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.mastodon.status_entity import REBLOG_ID_OFFSET
from microblog.models import Post, PostEdit, StatusIdempotency, User
from microblog.services import idempotency, posts, reactions
from microblog.timeutil import utcnow
from tests.factories import find_user, make_block, make_follow, make_user
from tests.mastodon_helpers import bearer, token_of
from tests.statements import counting

STATUS_KEYS = {"id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive",
               "spoiler_text", "media_attachments", "application", "mentions", "tags", "emojis",
               "reblogs_count", "favourites_count", "replies_count", "in_reply_to_id",
               "in_reply_to_account_id", "reblog", "poll", "card", "language", "filtered",
               "favourited", "reblogged", "muted", "bookmarked"}
BAD_IDS = ("abc", "0", "-1", "99999999999", "1.5", str(2**64))


def token(app, username: str, scope: str = "read write follow push") -> dict[str, str]:
    return token_of(app, username, scope)


@pytest.fixture
def people(app):
    with app.app_context():
        for name in ("alice", "bob", "carol"):
            make_user(name)
    return {name: token(app, name) for name in ("alice", "bob")}


def post_as(app, username: str, body: str = "hello", **options) -> int:
    with app.app_context():
        return posts.publish_post(find_user(username), body, **options).id


def count_posts(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Post))


# -- creating ----------------------------------------------------------------------------------------
def test_create_from_a_form_answers_the_status_entity(app, client, people):
    response = client.post("/api/v1/statuses", headers=people["alice"],
                           data={"status": "Hello @bob #Flask", "spoiler_text": "cw",
                                 "visibility": "unlisted", "language": "en", "sensitive": "true"})
    assert response.status_code == 200, response.json
    entity = response.json
    assert set(entity) == STATUS_KEYS | {"pinned"}
    assert entity["account"]["username"] == "alice" and entity["visibility"] == "unlisted"
    assert entity["spoiler_text"] == "cw" and entity["sensitive"] is True
    assert entity["mentions"][0]["username"] == "bob" and entity["tags"][0]["name"] == "flask"
    assert entity["favourited"] is False and entity["reblog"] is None
    with app.app_context():
        post = db.session.get(Post, int(entity["id"]))
        assert post.body == "Hello @bob #Flask" and post.visibility == "unlisted" and post.summary == "cw"


def test_create_from_json_with_a_reply_and_private_visibility(app, client, people):
    parent = post_as(app, "bob", "a question")
    response = client.post("/api/v1/statuses", headers=people["alice"],
                           json={"status": "an answer", "in_reply_to_id": str(parent),
                                 "visibility": "private"})
    assert response.status_code == 200, response.json
    assert response.json["in_reply_to_id"] == str(parent) and response.json["visibility"] == "private"
    with app.app_context():
        assert response.json["in_reply_to_account_id"] == str(find_user("bob").id)
        assert db.session.get(Post, parent).reply_count == 1
    slash = client.post("/api/v1/statuses/", headers=people["alice"], json={"status": "slash"})
    assert slash.status_code == 200


@pytest.mark.parametrize("data, reason", [
    ({"status": ""}, "Validation failed: "),
    ({"status": "x" * 100_000}, "Validation failed: "),
    ({"status": "hi, nobody mentioned", "visibility": "direct"}, "Validation failed: "),
    ({"status": "@bob hi", "visibility": "direct", "poll[options][]": ["a"]}, "Validation failed: Polls"),
    ({"status": "hi", "visibility": "everyone"}, "Validation failed: Visibility is not included in the list"),
    ({"status": "hi", "scheduled_at": "2030-01-01T00:00:00Z"}, "Validation failed: Scheduled posts"),
    ({"status": "hi", "quoted_status_id": "1"}, "Validation failed: Quote posts"),
    ({"status": "hi", "poll[options][]": ["a", "b"], "poll[expires_in]": "600"}, "Validation failed: Polls"),
    ({"status": "hi", "media_ids[]": ["abc"]}, "Validation failed: media_ids"),
    ({"status": "hi", "media_ids[]": ["99999"]}, "Validation failed: "),
])
def test_create_refusals_are_422_validation_failed(client, people, data, reason):
    response = client.post("/api/v1/statuses", headers=people["alice"], data=data)
    assert response.status_code == 422, response.json
    assert response.json["error"].startswith(reason)


def test_direct_visibility_sends_a_private_message_to_the_people_mentioned(app, client, people):
    response = client.post("/api/v1/statuses", headers=people["alice"],
                           json={"status": "@bob just between us", "visibility": "direct"})
    assert response.status_code == 200, response.json
    assert response.json["visibility"] == "direct" and "just between us" in response.json["content"]
    assert [mention["username"] for mention in response.json["mentions"]] == ["bob"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0  # no post was made
    threads = client.get("/api/v1/conversations", headers=people["bob"]).json
    assert [thread["last_status"]["id"] for thread in threads] == [response.json["id"]]


@pytest.mark.parametrize("body", [
    {"status": "hi", "poll": {"options": ["a", "b"], "expires_in": 600}},
    {"status": 123}, {"status": ["a"]}, {"status": "hi", "spoiler_text": {"x": 1}},
    {"status": "hi", "visibility": ["public"]}, {"status": "hi", "media_ids": "nope"},
    {"status": "hi", "media_ids": [None]}, {"status": "hi", "media_ids": [{"a": 1}]}, [], "status", None,
])
def test_garbage_json_is_a_422_never_a_500(client, people, body):
    response = client.post("/api/v1/statuses", headers=people["alice"], json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"].startswith("Validation failed")


def test_broken_bodies_are_4xx(client, people):
    headers = {**people["alice"], "Content-Type": "application/json"}
    assert client.post("/api/v1/statuses", headers=headers, data=b"{not json").status_code == 422
    assert client.post("/api/v1/statuses", headers=headers, data=b"\xff\xfe").status_code == 422
    form = {**people["alice"], "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/api/v1/statuses", headers=form, data=b"status=%ff%fe&&&=").status_code < 500
    for bad in ("abc", "99999999999", str(2**70)):
        response = client.post("/api/v1/statuses", headers=people["alice"],
                               data={"status": "hi", "in_reply_to_id": bad})
        assert response.status_code == 404, bad


def test_a_reply_to_someone_who_blocked_you_is_422(app, client, people):
    parent = post_as(app, "bob", "not for alice")
    with app.app_context():
        make_block(find_user("bob"), find_user("alice"))
    response = client.post("/api/v1/statuses", headers=people["alice"],
                           data={"status": "hey", "in_reply_to_id": str(parent)})
    assert response.status_code == 422 and response.json["error"].startswith("Validation failed: ")


def test_create_needs_a_token_in_scope_and_an_active_account(app, client, people):
    assert client.post("/api/v1/statuses", data={"status": "hi"}).status_code == 401
    reader = token(app, "alice", scope="read")
    response = client.post("/api/v1/statuses", headers=reader, data={"status": "hi"})
    assert response.status_code == 403
    assert response.json == {"error": "This action is outside the authorized scopes"}
    with app.app_context():
        find_user("alice").suspended_at = utcnow()
        db.session.commit()
    response = client.post("/api/v1/statuses", headers=people["alice"], data={"status": "hi"})
    assert response.status_code == 403 and response.json == {"error": "Your login is currently disabled"}
    assert count_posts(app) == 0


# -- Idempotency-Key ---------------------------------------------------------------------------------
def test_the_same_idempotency_key_posts_once(app, client, people):
    key = {"Idempotency-Key": "a3f9c2"}
    first = client.post("/api/v1/statuses", headers={**people["alice"], **key}, data={"status": "once"})
    again = client.post("/api/v1/statuses", headers={**people["alice"], **key}, json={"status": "once"})
    assert first.status_code == again.status_code == 200
    assert first.json["id"] == again.json["id"] and count_posts(app) == 1
    other = client.post("/api/v1/statuses", headers={**people["bob"], **key}, data={"status": "once"})
    assert other.status_code == 200 and other.json["id"] != first.json["id"] and count_posts(app) == 2
    fresh = client.post("/api/v1/statuses", headers={**people["alice"], "Idempotency-Key": "b"},
                        data={"status": "once"})
    assert fresh.json["id"] != first.json["id"] and count_posts(app) == 3


def test_an_idempotency_key_is_forgotten_after_an_hour(app, client, people):
    key = {**people["alice"], "Idempotency-Key": "k" * 500}
    first = client.post("/api/v1/statuses", headers=key, data={"status": "once"}).json["id"]
    with app.app_context():
        row = db.session.scalar(sa.select(StatusIdempotency))
        assert len(row.digest) == 64 and "k" not in row.digest
        row.created_at = utcnow() - timedelta(hours=1, seconds=1)
        db.session.commit()
    second = client.post("/api/v1/statuses", headers=key, data={"status": "once"}).json["id"]
    assert second != first and count_posts(app) == 2
    with app.app_context():
        db.session.execute(sa.update(StatusIdempotency).values(created_at=utcnow() - timedelta(hours=2)))
        db.session.commit()
        idempotency.forget_old_keys()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusIdempotency)) == 0


def test_a_refused_post_keeps_no_key(app, client, people):
    key = {**people["alice"], "Idempotency-Key": "k1"}
    assert client.post("/api/v1/statuses", headers=key, data={"status": ""}).status_code == 422
    assert client.post("/api/v1/statuses", headers=key, data={"status": "now"}).status_code == 200
    assert count_posts(app) == 1


def test_a_racing_duplicate_rolls_back_and_answers_the_winners_status(app, people, monkeypatch):
    """The loser found no key when it looked (the winner had not committed yet); its commit hits the
    unique key, nothing of it is kept, and it answers the winner's post."""
    with app.app_context():
        alice = find_user("alice")
        winner = idempotency.publish_once(alice, "race", "first")
        winner_id = winner.id
        real = idempotency.remembered_post
        calls = []

        def late(user, key):
            calls.append(key)
            return None if len(calls) == 1 else real(user, key)

        monkeypatch.setattr(idempotency, "remembered_post", late)
        assert idempotency.publish_once(alice, "race", "second").id == winner_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        assert find_user("alice").post_count == 1


# -- reading -----------------------------------------------------------------------------------------
def test_get_a_status_with_or_without_a_token(app, client, people):
    post_id = post_as(app, "bob", "public words")
    signed_out = client.get(f"/api/v1/statuses/{post_id}")
    assert signed_out.status_code == 200 and "favourited" not in signed_out.json
    mine = client.get(f"/api/v1/statuses/{post_id}", headers=people["alice"])
    assert mine.status_code == 200 and mine.json["favourited"] is False
    assert client.get(f"/api/v1/statuses/{post_id}", headers=bearer("nope")).status_code == 401
    for bad in BAD_IDS:
        assert client.get(f"/api/v1/statuses/{bad}", headers=people["alice"]).status_code == 404, bad
        assert client.get(f"/api/v1/statuses/{bad}").json == {"error": "Record not found"}


def test_followers_only_posts_are_404_to_strangers(app, client, people):
    post_id = post_as(app, "bob", "for my followers", visibility="followers")
    assert client.get(f"/api/v1/statuses/{post_id}", headers=people["alice"]).status_code == 404
    assert client.get(f"/api/v1/statuses/{post_id}").status_code == 404
    for action in ("favourite", "reblog", "bookmark", "context", "history", "favourited_by"):
        method = client.get if action in ("context", "history", "favourited_by") else client.post
        response = method(f"/api/v1/statuses/{post_id}/{action}", headers=people["alice"])
        assert response.status_code == 404, action
    with app.app_context():
        make_follow(find_user("alice"), find_user("bob"))
    shown = client.get(f"/api/v1/statuses/{post_id}", headers=people["alice"])
    assert shown.status_code == 200 and shown.json["visibility"] == "private"
    # A followers-only post is not reblogged: Mastodon's 403.
    assert client.post(f"/api/v1/statuses/{post_id}/reblog", headers=people["alice"]).status_code == 403


def test_get_several_statuses_skips_unknown_ones(app, client, people):
    first, second = post_as(app, "bob", "one"), post_as(app, "bob", "two")
    hidden = post_as(app, "carol", "secret", visibility="followers")
    response = client.get(f"/api/v1/statuses?id[]={second}&id[]=999999&id[]=abc&id[]={hidden}&id[]={first}"
                          f"&id[]={second}", headers=people["alice"])
    assert response.status_code == 200
    assert [entity["id"] for entity in response.json] == [str(second), str(first)]
    too_many = "&".join(f"id[]={n}" for n in range(1, 30))
    assert client.get(f"/api/v1/statuses?{too_many}").status_code == 422
    assert client.get("/api/v1/statuses").json == []


def test_a_status_answer_runs_a_fixed_number_of_statements(app, client, people):
    def statements_for(mentions: int) -> int:
        with app.app_context():
            names = [make_user().username for _ in range(mentions)]
        post_id = post_as(app, "bob", " ".join(f"@{name} #t{name}" for name in names) + " hi")
        with app.app_context():
            for name in names:
                reactions.like(find_user(name), post_id)
        client.get(f"/api/v1/statuses/{post_id}", headers=people["alice"])  # the token's first use is noted
        with counting(app) as statements:
            response = client.get(f"/api/v1/statuses/{post_id}", headers=people["alice"])
        assert response.status_code == 200 and len(response.json["mentions"]) == mentions
        return len(statements)

    assert statements_for(1) == statements_for(6)


# -- editing and deleting ----------------------------------------------------------------------------
def test_edit_history_and_source(app, client, people):
    post_id = post_as(app, "alice", "first words", summary="cw")
    response = client.put(f"/api/v1/statuses/{post_id}", headers=people["alice"],
                          json={"status": "second words"})
    assert response.status_code == 200, response.json
    assert "second words" in response.json["content"] and response.json["edited_at"] is not None
    assert response.json["spoiler_text"] == "cw"  # left out: kept
    response = client.put(f"/api/v1/statuses/{post_id}", headers=people["alice"],
                          data={"status": "third words", "spoiler_text": ""})
    assert response.status_code == 200 and response.json["spoiler_text"] == ""
    history = client.get(f"/api/v1/statuses/{post_id}/history").json
    assert [("first" in h["content"], h["spoiler_text"]) for h in history] == [(True, "cw"), (False, "cw"),
                                                                                (False, "")]
    assert "third words" in history[-1]["content"]
    assert set(history[0]) == {"content", "spoiler_text", "sensitive", "created_at", "account", "poll",
                               "media_attachments", "emojis"}
    assert history[0]["sensitive"] is True and history[0]["account"]["username"] == "alice"
    source = client.get(f"/api/v1/statuses/{post_id}/source", headers=people["alice"])
    assert source.json == {"id": str(post_id), "text": "third words", "spoiler_text": ""}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostEdit)) == 2


def test_a_new_status_has_a_history_of_one(app, client, people):
    post_id = post_as(app, "bob")
    history = client.get(f"/api/v1/statuses/{post_id}/history", headers=people["alice"])
    assert history.status_code == 200 and len(history.json) == 1


def test_edit_refusals(app, client, people):
    post_id = post_as(app, "alice", "mine")
    bobs = post_as(app, "bob", "his")
    alice = people["alice"]
    assert client.put(f"/api/v1/statuses/{bobs}", headers=alice, json={"status": "x"}).status_code == 404
    assert client.get(f"/api/v1/statuses/{bobs}/source", headers=people["alice"]).status_code == 404
    assert client.get(f"/api/v1/statuses/{post_id}/source").status_code == 401
    for body in ({"status": ""}, {"status": 5}, {"spoiler_text": ["x"]}, {"status": "x", "media_ids": ["7"]},
                 {"status": "x", "poll": {"options": ["a", "b"], "expires_in": 60}}):
        response = client.put(f"/api/v1/statuses/{post_id}", headers=people["alice"], json=body)
        assert response.status_code == 422 and response.json["error"].startswith("Validation failed"), body
    assert client.put(f"/api/v1/statuses/{post_id}", headers=people["alice"],
                      json={"status": "same images", "media_ids": []}).status_code == 200
    for bad in BAD_IDS:
        assert client.put(f"/api/v1/statuses/{bad}", headers=alice, json={"status": "x"}).status_code == 404
    reader = token(app, "alice", scope="read")
    assert client.put(f"/api/v1/statuses/{post_id}", headers=reader, json={"status": "x"}).status_code == 403


def test_delete_answers_the_status_with_its_text(app, client, people):
    post_id = post_as(app, "alice", "to redraft", summary="cw")
    assert client.delete(f"/api/v1/statuses/{post_id}", headers=people["bob"]).status_code == 404
    assert client.delete(f"/api/v1/statuses/{post_id}").status_code == 401
    response = client.delete(f"/api/v1/statuses/{post_id}", headers=people["alice"])
    assert response.status_code == 200
    assert response.json["text"] == "to redraft" and response.json["spoiler_text"] == "cw"
    assert response.json["id"] == str(post_id)
    assert count_posts(app) == 0
    assert client.delete(f"/api/v1/statuses/{post_id}", headers=people["alice"]).status_code == 404
    for bad in BAD_IDS:
        assert client.delete(f"/api/v1/statuses/{bad}", headers=people["alice"]).status_code == 404


# -- conversations -----------------------------------------------------------------------------------
def test_context_shows_what_the_viewer_may_see(app, client, people):
    root = post_as(app, "bob", "root")
    reply = post_as(app, "alice", "reply", in_reply_to=root)
    nested = post_as(app, "bob", "nested", in_reply_to=reply)
    post_as(app, "carol", "followers only", in_reply_to=reply, visibility="followers")
    response = client.get(f"/api/v1/statuses/{reply}/context", headers=people["alice"])
    assert response.status_code == 200
    assert [s["id"] for s in response.json["ancestors"]] == [str(root)]
    assert [s["id"] for s in response.json["descendants"]] == [str(nested)]
    assert client.get(f"/api/v1/statuses/{root}/context").json["ancestors"] == []
    assert client.get("/api/v1/statuses/abc/context").status_code == 404


# -- favourites, reblogs, bookmarks ------------------------------------------------------------------
def test_favourite_and_unfavourite(app, client, people):
    post_id = post_as(app, "bob")
    response = client.post(f"/api/v1/statuses/{post_id}/favourite", headers=people["alice"])
    assert response.status_code == 200 and response.json["favourited"] is True
    assert response.json["favourites_count"] == 1
    again = client.post(f"/api/v1/statuses/{post_id}/favourite", headers=people["alice"])
    assert again.json["favourites_count"] == 1
    response = client.post(f"/api/v1/statuses/{post_id}/unfavourite", headers=people["alice"])
    assert response.json["favourited"] is False and response.json["favourites_count"] == 0


def test_reblog_answers_the_wrapper_and_unreblog_the_original(app, client, people):
    post_id = post_as(app, "bob", "worth sharing")
    response = client.post(f"/api/v1/statuses/{post_id}/reblog", headers=people["alice"])
    assert response.status_code == 200, response.json
    wrapper = response.json
    assert int(wrapper["id"]) > REBLOG_ID_OFFSET and wrapper["account"]["username"] == "alice"
    assert wrapper["reblog"]["id"] == str(post_id) and wrapper["reblog"]["reblogged"] is True
    assert wrapper["reblog"]["reblogs_count"] == 1
    shown = client.get(f"/api/v1/statuses/{wrapper['id']}", headers=people["bob"])
    assert shown.status_code == 200 and shown.json["reblog"]["id"] == str(post_id)
    by = client.get(f"/api/v1/statuses/{post_id}/reblogged_by")
    assert [a["username"] for a in by.json] == ["alice"]
    # Acting on the wrapper acts on the original, as Mastodon does.
    favourited = client.post(f"/api/v1/statuses/{wrapper['id']}/favourite", headers=people["bob"])
    assert favourited.json["id"] == str(post_id) and favourited.json["favourited"] is True
    response = client.post(f"/api/v1/statuses/{post_id}/unreblog", headers=people["alice"])
    assert response.status_code == 200 and response.json["id"] == str(post_id)
    assert response.json["reblogged"] is False and response.json["reblogs_count"] == 0
    assert client.get(f"/api/v1/statuses/{wrapper['id']}").status_code == 404
    # Deleting one's own reblog undoes it; someone else's is not theirs to delete.
    wrapper_id = client.post(f"/api/v1/statuses/{post_id}/reblog", headers=people["alice"]).json["id"]
    assert client.delete(f"/api/v1/statuses/{wrapper_id}", headers=people["bob"]).status_code == 404
    deleted = client.delete(f"/api/v1/statuses/{wrapper_id}", headers=people["alice"])
    assert deleted.status_code == 200 and deleted.json["id"] == wrapper_id
    assert client.get(f"/api/v1/statuses/{post_id}").json["reblogs_count"] == 0


def test_bookmark_and_unbookmark(app, client, people):
    post_id = post_as(app, "bob")
    response = client.post(f"/api/v1/statuses/{post_id}/bookmark", headers=people["alice"])
    assert response.status_code == 200 and response.json["bookmarked"] is True
    response = client.post(f"/api/v1/statuses/{post_id}/unbookmark", headers=people["alice"])
    assert response.status_code == 200 and response.json["bookmarked"] is False


@pytest.mark.parametrize("action", ["favourite", "unfavourite", "reblog", "unreblog", "bookmark",
                                    "unbookmark", "pin", "unpin", "mute", "unmute"])
def test_actions_need_a_token_in_scope_and_a_known_status(app, client, people, action):
    post_id = post_as(app, "bob")
    assert client.post(f"/api/v1/statuses/{post_id}/{action}").status_code == 401
    reader = token(app, "alice", scope="read")
    assert client.post(f"/api/v1/statuses/{post_id}/{action}", headers=reader).status_code == 403
    for bad in BAD_IDS:
        assert client.post(f"/api/v1/statuses/{bad}/{action}", headers=people["alice"]).status_code == 404
    assert client.get(f"/api/v1/statuses/{post_id}/{action}", headers=people["alice"]).status_code == 405
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "alice").values(suspended_at=utcnow()))
        db.session.commit()
    assert client.post(f"/api/v1/statuses/{post_id}/{action}", headers=people["alice"]).status_code == 403


@pytest.mark.parametrize("action", ["pin", "mute"])
def test_pins_and_conversation_mutes_are_not_available(app, client, people, action):
    post_id = post_as(app, "alice")
    response = client.post(f"/api/v1/statuses/{post_id}/{action}", headers=people["alice"])
    assert response.status_code == 422 and response.json == {"error": "This action is not available"}


def test_favourited_by_pages_with_link_headers(app, client, people):
    post_id = post_as(app, "alice")
    with app.app_context():
        names = [make_user(f"fan{n}").username for n in range(3)]
        for name in names:
            reactions.like(find_user(name), post_id)
    first = client.get(f"/api/v1/statuses/{post_id}/favourited_by?limit=2", headers=people["bob"])
    assert first.status_code == 200
    assert [a["username"] for a in first.json] == ["fan2", "fan1"]
    assert set(first.json[0]) >= {"id", "username", "acct", "avatar", "followers_count"}
    link = first.headers["Link"]
    assert 'rel="next"' in link and 'rel="prev"' in link and "limit=2" in link
    next_url = link.split(";")[0].strip("<>")
    rest = client.get(next_url[next_url.index("/api/"):])
    assert [a["username"] for a in rest.json] == ["fan0"]
    prev_url = rest.headers["Link"].split(", ")[1].split(";")[0].strip("<>")
    back = client.get(prev_url[prev_url.index("/api/"):])
    assert [a["username"] for a in back.json] == ["fan2", "fan1"]
    empty = client.get(f"/api/v1/statuses/{post_id}/reblogged_by")
    assert empty.json == [] and "Link" not in empty.headers
    assert client.get("/api/v1/statuses/99999999999/favourited_by").status_code == 404


def test_requests_racing_with_one_key_make_one_post(app):
    """Eight requests at once with one key, each in its own connection: one post, every answer it."""
    with app.app_context():
        make_user("alice")
    barrier = threading.Barrier(8)
    answers: list[int] = []
    failures: list[BaseException] = []

    def send() -> None:
        with app.app_context():
            try:
                barrier.wait()
                answers.append(idempotency.publish_once(find_user("alice"), "same", "only once").id)
            except BaseException as exc:  # reported below: a thread's exception would be lost
                failures.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and len(answers) == 8 and len(set(answers)) == 1
    assert count_posts(app) == 1
