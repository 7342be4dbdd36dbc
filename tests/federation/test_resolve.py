"""Search resolves ``@user@host`` and URLs (federation/resolve.py): a real server on loopback answers
WebFinger and serves its actors and notes; the search page sends the person to what was found."""

from __future__ import annotations

import importlib.util
import json
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.federation import keys, resolve
from microblog.models import Instance, Post, User
from microblog.timeutil import utcnow
from tests.factories import make_post, make_user
from tests.federation.peer import Peer, json_answer, person, serve_person


@pytest.fixture(scope="module")
def key_pair():
    return keys.generate_key_pair()


@pytest.fixture
def peer(key_pair):
    with Peer() as server:
        serve_person(server, person(server, "bob", key_pair[1]))
        yield server


@pytest.fixture
def alice(app):
    with app.app_context():
        search.reindex()  # an index, so that what is not resolved is searched as usual
        return make_user("alice").id


def remote(app, actor_uri: str) -> User | None:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.actor_uri == actor_uri))


def test_search_for_a_handle_finds_and_stores_the_account(app, client, auth, alice, peer):
    auth.login("alice")
    response = client.get("/search", query_string={"q": f"@bob@{peer.host}"})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == f"/user/bob@{peer.host}"
    bob = remote(app, peer.url("/users/bob"))
    assert bob is not None and bob.username == f"bob@{peer.host}"
    # The fetch of the actor was signed as the person searching.
    actor_fetch = next(seen for seen in peer.seen if seen.path == "/users/bob")
    assert 'keyId="http://microblog.test/user/alice#main-key"' in actor_fetch.headers["signature"]
    # Stored, and indexed: people search finds the account by its name.
    response = client.get("/search", query_string={"q": "bob", "type": "people"})
    assert f"bob@{peer.host}" in response.get_data(as_text=True)
    # Without the leading @ too.
    response = client.get("/search", query_string={"q": f"bob@{peer.host}"})
    assert unquote(response.headers["Location"]) == f"/user/bob@{peer.host}"


def test_search_for_an_actor_url(app, client, auth, alice, peer):
    auth.login("alice")
    response = client.get("/search", query_string={"q": peer.url("/users/bob")})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == f"/user/bob@{peer.host}"
    fetches = len(peer.seen)
    # Known now: its id and its profile page's URL find it without asking its server again.
    for url in (peer.url("/users/bob"), peer.url("/@bob")):
        response = client.get("/search", query_string={"q": url})
        assert unquote(response.headers["Location"]) == f"/user/bob@{peer.host}"
    assert len(peer.seen) == fetches


def test_unknown_names_fall_back_to_search(app, client, auth, alice, peer):
    auth.login("alice")
    response = client.get("/search", query_string={"q": f"@nobody@{peer.host}"})
    assert response.status_code == 200
    response = client.get("/search", query_string={"q": peer.url("/nothing-here")})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.domain.is_not(None))) is None


def test_guests_do_not_make_the_site_fetch(client, peer):
    response = client.get("/search", query_string={"q": f"@bob@{peer.host}"})
    assert response.status_code == 200
    assert peer.seen == []


def test_blocked_domains_are_not_asked(app, client, auth, alice, peer):
    with app.app_context():
        db.session.add(Instance(domain=peer.host, blocked_at=utcnow()))
        db.session.commit()
    auth.login("alice")
    assert client.get("/search", query_string={"q": f"@bob@{peer.host}"}).status_code == 200
    assert client.get("/search", query_string={"q": peer.url("/users/bob")}).status_code == 200
    assert peer.seen == []


def test_local_handles_and_urls(app, client, auth, alice):
    with app.app_context():
        post_id = make_post(db.session.get(User, alice), "hello").id
    auth.login("alice")
    for query in ("@alice@microblog.test", "http://microblog.test/user/alice"):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 302 and response.headers["Location"] == "/user/alice"
    response = client.get("/search", query_string={"q": f"http://microblog.test/post/{post_id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/post/{post_id}"
    response = client.get("/search", query_string={"q": "http://microblog.test/explore"})
    assert response.status_code == 200


def test_resolve_refuses_what_is_not_a_handle_or_url(app, alice):
    with app.app_context():
        viewer = db.session.get(User, alice)
        for query in ("hello world", "alice", "@alice", "ftp://example.com/x", "javascript:alert(1)"):
            assert not resolve.looks_resolvable(query)
            assert resolve.resolve(query, viewer) is None


def test_private_addresses_refused_without_error(make_app, key_pair):
    """With the default setting a handle on loopback is not fetched; search answers as usual."""
    app = make_app(FEDERATION_ALLOW_PRIVATE_ADDRESSES=False)
    with Peer() as peer, app.app_context():
        serve_person(peer, person(peer, "bob", key_pair[1]))
        viewer = make_user("alice")
        assert resolve.resolve(f"@bob@{peer.host}", viewer) is None
        assert resolve.resolve(peer.url("/users/bob"), viewer) is None
        assert peer.seen == []


@pytest.mark.skipif(importlib.util.find_spec("microblog.federation.remote_posts") is None,
                    reason="microblog.federation.remote_posts (the CONTENT part) is not in this tree yet")
def test_search_for_a_remote_post_url(app, client, auth, alice, peer):
    note_id = peer.url("/users/bob/statuses/1")
    note = {"@context": "https://www.w3.org/ns/activitystreams", "id": note_id, "type": "Note",
            "attributedTo": peer.url("/users/bob"), "content": "<p>Hello from bob</p>",
            "published": "2026-12-01T10:00:00Z", "url": peer.url("/@bob/1"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [peer.url("/users/bob/followers")]}
    peer.routes["/users/bob/statuses/1"] = json_answer(note)
    auth.login("alice")
    response = client.get("/search", query_string={"q": note_id})
    assert response.status_code == 302
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.uri == note_id))
        assert post is not None and post.author.actor_uri == peer.url("/users/bob")
        assert response.headers["Location"] == f"/post/{post.id}"


def test_a_note_of_another_host_is_refused(app, alice, key_pair):
    """A server cannot hand out another server's notes (its author or id elsewhere)."""
    with Peer() as one, Peer() as two, app.app_context():
        serve_person(two, person(two, "bob", key_pair[1]))
        forged = {"id": one.url("/notes/1"), "type": "Note", "attributedTo": two.url("/users/bob"),
                  "content": "I never said this", "to": ["https://www.w3.org/ns/activitystreams#Public"]}
        one.routes["/notes/1"] = json_answer(forged)
        assert resolve.resolve(one.url("/notes/1"), db.session.get(User, alice)) is None
        assert db.session.scalar(sa.select(Post).where(Post.uri == forged["id"])) is None
        assert two.seen == []


def test_mastodon_search_with_resolve_fetches_the_account(app, client, alice, peer):
    """Mastodon apps find a remote account by its handle with ``resolve=true`` (GET /api/v2/search)."""
    from tests.mastodon_helpers import token_of

    headers = token_of(app, "alice")
    handle = f"bob@{peer.host}"
    plain = client.get("/api/v2/search", query_string={"q": handle}, headers=headers)
    assert plain.status_code == 200 and plain.get_json()["accounts"] == []  # not known, not asked to look
    found = client.get("/api/v2/search", query_string={"q": "@" + handle, "resolve": "true"}, headers=headers)
    assert found.status_code == 200
    [account] = found.get_json()["accounts"]
    assert account["acct"] == handle and account["username"] == "bob"
    assert remote(app, peer.url("/users/bob")) is not None
    unknown = {"q": "@nobody@nowhere.invalid", "resolve": "true"}
    nowhere = client.get("/api/v2/search", query_string=unknown, headers=headers)
    assert nowhere.status_code == 200
    assert nowhere.get_json() == {"accounts": [], "statuses": [], "hashtags": []}


def test_an_import_follows_accounts_of_other_servers(app, alice, peer):
    """A following list exported from Mastodon names accounts elsewhere: each is looked up on its server
    (WebFinger, signed fetch) and asked to be followed; one its server does not know is skipped."""
    from microblog.models import FollowRequest, ImportRow
    from microblog.services import imports

    rows = (f"Account address,Show boosts,Notify on new posts,Languages\nbob@{peer.host},true,false,\n"
            f"nobody@{peer.host},true,false,\n")
    with app.app_context():
        me = db.session.get(User, alice)
        imports.start_import(me, "following", "merge", rows.encode(), "following_accounts.csv")
        bob = db.session.scalar(sa.select(User).where(User.actor_uri == peer.url("/users/bob")))
        assert bob is not None
        asked = db.session.scalars(sa.select(FollowRequest).where(FollowRequest.follower_id == alice)).all()
        assert [request.followed_id for request in asked] == [bob.id]  # waiting for bob's server to accept
        outcomes = sorted((row.value, row.state, row.reason)
                          for row in db.session.scalars(sa.select(ImportRow)))
        assert outcomes == [(f"bob@{peer.host}", "done", None), (f"nobody@{peer.host}", "skipped", "remote")]
    follow = next(seen for seen in peer.seen if seen.method == "POST")
    assert json.loads(follow.body)["type"] == "Follow"
