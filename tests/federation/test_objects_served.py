"""Our accounts, posts and collections as ActivityPub objects, at the URLs of their pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from microblog.extensions import db
from microblog.federation import httpsig, keys
from microblog.federation.negotiation import wants_activity_json
from microblog.models import Media, MediaStatus, Mention, Post, User
from microblog.services import posts
from tests.factories import make_follow, make_post, make_posts, make_user

AP = {"Accept": "application/activity+json"}
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SITE = "http://microblog.test"


def make_remote_user(name: str = "carol", domain: str = "remote.example") -> tuple[User, str]:
    """A remote account with a key pair of its own: the row, and the private key it signs with."""
    private_pem, public_pem = keys.generate_key_pair()
    actor = f"https://{domain}/users/{name}"
    user = make_user(f"{name}@{domain}", email=f"{name}.{domain}@remote.invalid", domain=domain,
                     actor_uri=actor, key_id=actor + "#main-key", public_key_pem=public_pem,
                     inbox_url=actor + "/inbox", confirmed_at=datetime.now(UTC))
    return user, private_pem


def signed_get(client, path: str, key_id: str, private_pem: str, **kwargs):
    headers = httpsig.sign_request("GET", SITE + path, key_id=key_id, private_pem=private_pem, **kwargs)
    return client.get(path, base_url=SITE, headers={**AP, **headers})


def ap_json(response) -> dict:
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("application/activity+json")
    assert "Accept" in response.vary
    return response.get_json(force=True)


# -- which representation ---------------------------------------------------------------------
@pytest.mark.parametrize(("accept", "expected"), [
    ("application/activity+json", True),
    ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
    ("application/ld+json", True),
    ("application/activity+json, application/ld+json, text/html;q=0.1", True),
    ("application/activity+json, */*", True),
    ("text/html, application/activity+json", False),
    ("application/activity+json, text/html", True),
    ("text/html;q=0.9, application/activity+json", True),
    ("application/activity+json;q=0.5, text/html", False),
    ('application/ld+json; profile="https://example.com/other"', False),
    ("application/activity+json;q=0", False),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
    ("*/*", False),
    ("application/json", False),
    ("", False),
])
def test_which_clients_get_activity_json(app, accept, expected):
    with app.test_request_context("/", headers={"Accept": accept}):
        assert wants_activity_json() is expected


# -- the actor ---------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", ["application/activity+json",
                                    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'])
def test_a_profile_is_its_actor(app, client, accept):
    with app.app_context():
        make_user("alice", about_me="Hello *there*")
    body = ap_json(client.get("/user/alice", headers={"Accept": accept}))
    actor = f"{SITE}/user/alice"
    assert body["id"] == actor and body["type"] == "Person"
    assert body["preferredUsername"] == "alice"
    assert body["inbox"] == f"{actor}/inbox"
    assert body["outbox"] == f"{actor}/outbox"
    assert body["followers"] == f"{actor}/followers"
    assert body["following"] == f"{actor}/following"
    assert body["endpoints"]["sharedInbox"] == f"{SITE}/inbox"
    assert body["manuallyApprovesFollowers"] is False
    assert body["publicKey"]["id"] == f"{actor}#main-key"
    assert body["publicKey"]["owner"] == actor
    key = serialization.load_pem_public_key(body["publicKey"]["publicKeyPem"].encode())
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    # The key published is the one the account signs with.
    with app.app_context():
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        private = serialization.load_pem_private_key(alice.private_key_pem.encode(), password=None)
        assert private.public_key().public_numbers() == key.public_numbers()


def test_a_locked_account_approves_its_followers(app, client):
    with app.app_context():
        make_user("alice", locked=True)
    assert ap_json(client.get("/user/alice", headers=AP))["manuallyApprovesFollowers"] is True


def test_browsers_still_get_the_pages(app, client):
    with app.app_context():
        alice = make_user("alice")
        post_id = make_post(alice, "hello browsers").id
    for path in ("/user/alice", f"/post/{post_id}", "/user/alice/followers", "/user/alice/following"):
        for accept in ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*", None):
            response = client.get(path, headers={"Accept": accept} if accept else {})
            assert response.status_code == 200
            assert response.mimetype == "text/html", (path, accept)
            assert "Accept" in response.vary


def test_no_actor_for_remote_unknown_or_deactivated_accounts(app, client):
    with app.app_context():
        make_remote_user("carol")
        make_user("gone", deactivated_at=datetime.now(UTC))
    for path in ("/user/nobody", "/user/gone", "/user/carol@remote.example", "/user/gone/followers",
                 "/user/nobody/following", "/user/gone/outbox", "/user/carol@remote.example/outbox"):
        response = client.get(path, headers=AP)
        assert response.status_code == 404, path
        assert response.is_json and response.get_json()["error"]


def test_a_cached_page_is_not_served_as_json_or_back(app, client):
    """The HTTP cache's ETag is the body's: the page's does not make the JSON a 304, nor the reverse."""
    with app.app_context():
        make_user("alice")
    page = client.get("/user/alice")
    actor = client.get("/user/alice", headers=AP)
    assert page.headers["ETag"] and actor.headers["ETag"] and page.headers["ETag"] != actor.headers["ETag"]
    as_json = client.get("/user/alice", headers={**AP, "If-None-Match": page.headers["ETag"]})
    assert as_json.status_code == 200 and ap_json(as_json)["type"] == "Person"
    as_page = client.get("/user/alice", headers={"If-None-Match": actor.headers["ETag"]})
    assert as_page.status_code == 200 and as_page.mimetype == "text/html"
    again = client.get("/user/alice", headers={**AP, "If-None-Match": actor.headers["ETag"]})
    assert again.status_code == 304 and "Accept" in again.vary


# -- notes -------------------------------------------------------------------------------------
def test_a_public_post_is_a_note(app, client):
    with app.app_context():
        alice = make_user("alice")
        make_user("bob")
        post_id = posts.publish_post(alice, "Hello @bob, about #gardens").id
    note = ap_json(client.get(f"/post/{post_id}", headers=AP))
    assert note["id"] == f"{SITE}/post/{post_id}" and note["type"] == "Note"
    assert note["attributedTo"] == f"{SITE}/user/alice"
    assert note["to"] == [AS_PUBLIC]
    assert note["cc"] == [f"{SITE}/user/alice/followers", f"{SITE}/user/bob"]
    assert {"type": "Mention", "href": f"{SITE}/user/bob", "name": "@bob@microblog.test"} in note["tag"]
    assert any(tag["type"] == "Hashtag" and tag["name"] == "#gardens" for tag in note["tag"])
    assert "gardens" in note["content"] and note["inReplyTo"] is None


def test_an_unlisted_post_is_addressed_to_followers(app, client):
    with app.app_context():
        alice = make_user("alice")
        post_id = posts.publish_post(alice, "quietly", visibility="unlisted").id
    note = ap_json(client.get(f"/post/{post_id}", headers=AP))
    assert note["to"] == [f"{SITE}/user/alice/followers"]
    assert note["cc"] == [AS_PUBLIC]


def test_a_reply_names_its_parent_and_a_remote_parent_by_its_id(app, client):
    with app.app_context():
        alice = make_user("alice")
        carol, _key = make_remote_user("carol")
        parent = make_post(alice, "first")
        remote = Post(body="from afar", author=carol, uri="https://remote.example/notes/9")
        db.session.add(remote)
        db.session.commit()
        reply = posts.publish_post(alice, "second", in_reply_to=parent.id)
        answer = Post(body="answering afar", author=alice, in_reply_to_id=remote.id, is_reply=True)
        db.session.add(answer)
        db.session.commit()
        ids = parent.id, reply.id, answer.id, remote.id
    assert ap_json(client.get(f"/post/{ids[1]}", headers=AP))["inReplyTo"] == f"{SITE}/post/{ids[0]}"
    assert ap_json(client.get(f"/post/{ids[2]}", headers=AP))["inReplyTo"] == "https://remote.example/notes/9"
    # A remote post is served by its own server.
    assert client.get(f"/post/{ids[3]}", headers=AP).status_code == 404


def test_an_image_is_an_attachment(app, client):
    with app.app_context():
        alice = make_user("alice")
        post = make_post(alice, "look")
        db.session.add(Media(user_id=alice.id, post_id=post.id, status=MediaStatus.READY, digest="d" * 64,
                             mime="image/jpeg", file_key="m/ab/" + "ab" * 32 + ".jpg", width=640, height=480,
                             description="a cat"))
        post.media_count = 1
        db.session.commit()
        post_id = post.id
    attachment = ap_json(client.get(f"/post/{post_id}", headers=AP))["attachment"]
    assert len(attachment) == 1
    assert attachment[0]["type"] == "Document" and attachment[0]["mediaType"] == "image/jpeg"
    assert attachment[0]["name"] == "a cat" and attachment[0]["width"] == 640
    assert attachment[0]["url"].startswith("http")


def test_hidden_deleted_and_deactivated_authors_posts_are_not_served(app, client):
    with app.app_context():
        alice, gone = make_user("alice"), make_user("gone")
        hidden = make_post(alice, "hidden")
        hidden.hidden_at = datetime.now(UTC)
        deleted = make_post(alice, "deleted")
        by_gone = make_post(gone, "bye")
        gone.deactivated_at = datetime.now(UTC)
        ids = hidden.id, deleted.id, by_gone.id
        db.session.delete(deleted)
        db.session.commit()
    for post_id in (*ids, 999999, 2**31 - 1):
        response = client.get(f"/post/{post_id}", headers=AP)
        assert response.status_code == 404, post_id
        assert response.is_json
    assert client.get(f"/activities/create/{ids[0]}").status_code == 404


def followers_only_post(app):
    """alice's followers-only post, carol (remote) following her, dave (remote) not: ids and keys."""
    with app.app_context():
        alice = make_user("alice")
        carol, carol_key = make_remote_user("carol")
        dave, dave_key = make_remote_user("dave", "elsewhere.example")
        make_follow(carol, alice)
        post_id = posts.publish_post(alice, "for my followers", visibility="followers").id
        return post_id, (carol.key_id, carol_key), (dave.key_id, dave_key)


def test_a_followers_only_post_needs_a_signature(app, client):
    post_id, _carol, _dave = followers_only_post(app)
    response = client.get(f"/post/{post_id}", headers=AP)
    assert response.status_code == 404
    assert client.get(f"/activities/create/{post_id}").status_code == 404


def test_a_follower_signing_the_fetch_gets_a_followers_only_post(app, client):
    post_id, (key_id, private_pem), _dave = followers_only_post(app)
    response = signed_get(client, f"/post/{post_id}", key_id, private_pem)
    note = ap_json(response)
    assert note["to"] == [f"{SITE}/user/alice/followers"] and note["cc"] == []
    assert "no-store" in response.headers["Cache-Control"]


def test_others_signatures_do_not_open_a_followers_only_post(app, client):
    post_id, (carol_key_id, carol_pem), (dave_key_id, dave_pem) = followers_only_post(app)
    path = f"/post/{post_id}"
    # Someone who does not follow alice.
    assert signed_get(client, path, dave_key_id, dave_pem).status_code == 404
    # carol's key id, signed with another key.
    assert signed_get(client, path, carol_key_id, dave_pem).status_code == 404
    # A signature for another path, or too old.
    headers = httpsig.sign_request("GET", SITE + "/post/1234", key_id=carol_key_id, private_pem=carol_pem)
    assert client.get(path, base_url=SITE, headers={**AP, **headers}).status_code == 404
    stale = datetime.now(UTC) - timedelta(hours=13)
    assert signed_get(client, path, carol_key_id, carol_pem, now=stale).status_code == 404
    # A key nobody here knows.
    assert signed_get(client, path, "https://nowhere.example/k#main-key", carol_pem).status_code == 404


def test_a_mentioned_remote_account_may_fetch_a_followers_only_post(app, client):
    with app.app_context():
        alice = make_user("alice")
        dave, dave_pem = make_remote_user("dave", "elsewhere.example")
        post = make_post(alice, "psst @dave@elsewhere.example")
        post.visibility = "followers"
        db.session.add(Mention(post_id=post.id, user_id=dave.id))
        db.session.commit()
        post_id, dave_key_id = post.id, dave.key_id
    note = ap_json(signed_get(client, f"/post/{post_id}", dave_key_id, dave_pem))
    assert note["to"] == [f"{SITE}/user/alice/followers", "https://elsewhere.example/users/dave"]
    assert note["tag"][0]["name"] == "@dave@elsewhere.example"
    assert client.get(f"/post/{post_id}", headers=AP).status_code == 404


# -- collections -------------------------------------------------------------------------------
def test_followers_collection_pages(app, client):
    with app.app_context():
        alice = make_user("alice")
        people = [make_user(f"fan{n:02d}") for n in range(25)]
        for person in people:
            make_follow(person, alice)
        carol, _key = make_remote_user("carol")
        make_follow(carol, alice)
    collection = ap_json(client.get("/user/alice/followers", headers=AP))
    assert collection["type"] == "OrderedCollection"
    assert collection["id"] == f"{SITE}/user/alice/followers"
    assert collection["totalItems"] == 26
    first = ap_json(client.get(collection["first"].removeprefix(SITE), headers=AP))
    assert first["type"] == "OrderedCollectionPage" and first["partOf"] == collection["id"]
    assert len(first["orderedItems"]) == 20
    # The newest follow first: carol, the remote one, by her own id.
    assert first["orderedItems"][0] == "https://remote.example/users/carol"
    second = ap_json(client.get(first["next"].removeprefix(SITE), headers=AP))
    assert len(second["orderedItems"]) == 6 and "next" not in second
    everyone = first["orderedItems"] + second["orderedItems"]
    assert len(set(everyone)) == 26
    assert f"{SITE}/user/fan00" in everyone
    assert client.get("/user/alice/followers?page=3", headers=AP).status_code == 404
    for bad in ("0", "-1", "x", "1e9"):
        assert client.get(f"/user/alice/followers?page={bad}", headers=AP).status_code in (400, 404)


def test_following_collection(app, client):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob)
    collection = ap_json(client.get("/user/alice/following", headers=AP))
    assert collection["totalItems"] == 1
    page = ap_json(client.get("/user/alice/following?page=1", headers=AP))
    assert page["orderedItems"] == [f"{SITE}/user/bob"]
    empty = ap_json(client.get("/user/bob/following?page=1", headers=AP))
    assert empty["orderedItems"] == [] and empty["totalItems"] == 0


def test_outbox_pages_through_public_posts(app, client):
    with app.app_context():
        alice = make_user("alice")
        public = make_posts(alice, 23)
        quiet = make_post(alice, "unlisted")
        quiet.visibility = "unlisted"
        db.session.commit()
        public_ids = [post.id for post in public]
    outbox = client.get("/user/alice/outbox")
    assert outbox.status_code == 200
    assert outbox.headers["Content-Type"].startswith("application/activity+json")
    collection = outbox.get_json(force=True)
    assert collection["id"] == f"{SITE}/user/alice/outbox" and collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 23
    first = client.get(collection["first"].removeprefix(SITE)).get_json(force=True)
    assert first["type"] == "OrderedCollectionPage" and first["partOf"] == collection["id"]
    items = first["orderedItems"]
    assert len(items) == 20
    newest = public_ids[-1]
    assert items[0]["type"] == "Create" and items[0]["id"] == f"{SITE}/activities/create/{newest}"
    assert items[0]["actor"] == f"{SITE}/user/alice" and items[0]["object"]["id"] == f"{SITE}/post/{newest}"
    assert items[0]["to"] == [AS_PUBLIC]
    second = client.get(first["next"].removeprefix(SITE)).get_json(force=True)
    seen = [item["object"]["id"] for item in items + second["orderedItems"]]
    assert seen == [f"{SITE}/post/{post_id}" for post_id in reversed(public_ids)]
    assert "next" not in second
    assert client.get("/user/alice/outbox?page=true&max_id=abc").status_code == 400
    assert client.get("/user/alice/outbox?page=true&max_id=99999999999").status_code == 400
    assert client.get("/user/alice/outbox?page=true&max_id=999999").status_code == 404


def test_our_activity_ids_dereference(app, client):
    with app.app_context():
        alice = make_user("alice")
        post_id = make_post(alice, "hello").id
    create = client.get(f"/activities/create/{post_id}")
    body = create.get_json(force=True)
    assert create.status_code == 200 and body["type"] == "Create"
    assert body["id"] == f"{SITE}/activities/create/{post_id}"
    assert body["object"]["id"] == f"{SITE}/post/{post_id}"
    for path in ("/activities/follow/1/2", "/activities/like/5", "/activities/create/x",
                 "/activities/create/0"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path


def test_no_objects_without_federation(make_app):
    app = make_app(FEDERATION_ENABLED=False)
    with app.app_context():
        alice = make_user("alice")
        post_id = make_post(alice).id
    client = app.test_client()
    assert client.get("/user/alice/outbox").status_code == 404
    assert client.get(f"/activities/create/{post_id}").status_code == 404
    assert client.get(f"/post/{post_id}", headers=AP).mimetype == "text/html"
