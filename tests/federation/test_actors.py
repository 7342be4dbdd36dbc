"""Remote actors fetched from a real server on loopback and stored as ``user`` rows (actors.py): what
is checked (ids on the host they came from, keys owned by their actor), key rotation, blocked domains."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import actors, httpsig, keys
from microblog.models import Instance, User
from microblog.timeutil import utcnow
from tests.factories import make_user
from tests.federation.peer import Answer, Peer, json_answer, person, serve_person


@pytest.fixture(scope="module")
def key_pairs():
    return [keys.generate_key_pair() for _ in range(2)]


@pytest.fixture
def peer():
    with Peer() as server:
        yield server


def test_fetch_actor_stores_the_row(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1], alsoKnownAs=[peer.url("/users/old-bob")])
    serve_person(peer, doc)
    with app.app_context():
        bob = actors.fetch_actor(doc["id"])
        assert bob is not None
        assert bob.username == f"bob@{peer.host}" and bob.domain == peer.host and bob.is_remote
        assert bob.actor_uri == doc["id"] and bob.inbox_url == doc["inbox"]
        assert bob.shared_inbox_url == peer.url("/inbox") and bob.followers_url == doc["followers"]
        assert bob.profile_url == peer.url("/@bob") and bob.avatar_url == peer.url("/avatars/bob.png")
        assert bob.display_name == "Bob" and bob.about_me == "I am bob.\n\nHello & welcome"
        assert bob.key_id == doc["id"] + "#main-key" and bob.public_key_pem == key_pairs[0][1]
        assert json.loads(bob.also_known_as) == [peer.url("/users/old-bob")]
        assert bob.email.endswith("@remote.invalid") and bob.password_hash == "!"
        assert not bob.check_password("!") and not bob.notify_mention and bob.confirmed_at is not None
        assert bob.fetched_at is not None and not bob.locked
        # Fetched again: the same row, updated.
        doc["name"] = "Robert"
        doc["manuallyApprovesFollowers"] = True
        serve_person(peer, doc)
        again = actors.fetch_actor(doc["id"])
        assert again is not None and again.id == bob.id and again.display_name == "Robert" and again.locked
        count = sa.select(sa.func.count()).select_from(User).where(User.domain == peer.host)
        assert db.session.scalar(count) == 1


def test_signed_fetch(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    with app.app_context():
        alice = make_user("alice")
        assert actors.fetch_actor(doc["id"], signer=alice) is not None
        assert "keyId=\"http://microblog.test/user/alice#main-key\"" in peer.seen[-1].headers["signature"]


ELSEWHERE = "https://elsewhere.example/users/bob"


@pytest.mark.parametrize("change", [
    {"id": ELSEWHERE},
    {"publicKey": {"id": ELSEWHERE + "#main-key", "owner": "SELF", "publicKeyPem": "P"}},
    {"publicKey": {"id": "SELF#main-key", "owner": ELSEWHERE, "publicKeyPem": "P"}},
    {"id": ELSEWHERE, "publicKey": {"id": "SELF#main-key", "owner": ELSEWHERE, "publicKeyPem": "P"}},
    {"publicKey": None}, {"type": "Note"}, {"inbox": None}, {"inbox": "javascript:alert(1)"},
    {"preferredUsername": None}, {"preferredUsername": "bob@evil"}, {"preferredUsername": "a b"},
    {"preferredUsername": "../bob"}, {"preferredUsername": "x" * 101},
])
def test_invalid_or_forged_actors_refused(app, peer, key_pairs, change):
    doc = person(peer, "bob", key_pairs[0][1])
    served_at = doc["id"]
    for name, value in change.items():
        if isinstance(value, dict):
            value = {k: (v.replace("SELF", served_at) if isinstance(v, str) else v) for k, v in value.items()}
        doc[name] = value
    peer.routes["/users/bob"] = json_answer(doc)
    with app.app_context():
        assert actors.fetch_actor(peer.url("/users/bob")) is None
        assert db.session.scalar(sa.select(User).where(User.domain.is_not(None))) is None


def test_id_must_be_on_the_host_after_redirects(app, key_pairs):
    """A server cannot answer for another: the id's host is the host the document came from."""
    with Peer() as one, Peer() as two:
        doc = person(two, "bob", key_pairs[0][1])
        serve_person(two, doc)
        one.routes["/users/bob"] = json_answer(doc)  # one serves a copy of two's actor
        one.routes["/moved"] = Answer(301, b"", {"Location": doc["id"]})  # one redirects to two
        with app.app_context():
            assert actors.fetch_actor(one.url("/users/bob")) is None
            bob = actors.fetch_actor(one.url("/moved"))
            assert bob is not None and bob.domain == two.host


def test_name_taken_by_another_actor(app, peer, key_pairs):
    first = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, first)
    with app.app_context():
        assert actors.fetch_actor(first["id"]) is not None
        impostor = person(peer, "bob", key_pairs[1][1], id=peer.url("/people/bob"))
        impostor["publicKey"] = {"id": impostor["id"] + "#key", "owner": impostor["id"],
                                 "publicKeyPem": key_pairs[1][1]}
        peer.routes["/people/bob"] = json_answer(impostor)
        assert actors.fetch_actor(impostor["id"]) is None
        stored = db.session.scalars(sa.select(User).where(User.domain == peer.host)).all()
        assert [user.actor_uri for user in stored] == [first["id"]]


def test_blocked_domain(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    with app.app_context():
        db.session.add(Instance(domain=peer.host, blocked_at=utcnow()))
        db.session.commit()
        assert actors.fetch_actor(doc["id"]) is None
        assert actors.actor_for_key(doc["publicKey"]["id"]) is None
        assert actors.resolve_handle(f"bob@{peer.host}") is None
    assert peer.seen == []


def test_actor_for_key_fetches_the_owner(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    with app.app_context():
        bob = actors.actor_for_key(doc["publicKey"]["id"])
        assert bob is not None and bob.actor_uri == doc["id"]
        fetches = len(peer.seen)
        assert actors.actor_for_key(doc["publicKey"]["id"]) == bob  # stored: not fetched again
        assert len(peer.seen) == fetches
        assert actors.actor_for_key(doc["id"] + "#other-key") is None  # not a key of bob's


def test_actor_for_key_with_a_key_document(app, peer, key_pairs):
    """Some servers (GoToSocial, Misskey) give the key its own URL: its owner is fetched."""
    doc = person(peer, "carol", key_pairs[0][1])
    key_url = peer.url("/users/carol/main-key")
    doc["publicKey"] = {"id": key_url, "owner": doc["id"], "publicKeyPem": key_pairs[0][1]}
    serve_person(peer, doc)
    peer.routes["/users/carol/main-key"] = json_answer(doc["publicKey"])
    with app.app_context():
        carol = actors.actor_for_key(key_url)
        assert carol is not None and carol.key_id == key_url
    assert [seen.path for seen in peer.seen] == ["/users/carol/main-key", "/users/carol"]


def test_key_rotation(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    key_id = doc["publicKey"]["id"]
    with app.app_context():
        bob = actors.actor_for_key(key_id)
        assert bob is not None and bob.public_key_pem == key_pairs[0][1]
        doc["publicKey"]["publicKeyPem"] = key_pairs[1][1]
        serve_person(peer, doc)
        # Just fetched: a refresh within the minute is not made (no refetch loops).
        assert actors.actor_for_key(key_id, refresh=True).public_key_pem == key_pairs[0][1]
        bob.fetched_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
        assert actors.actor_for_key(key_id, refresh=True).public_key_pem == key_pairs[1][1]
        # A new key id: found by fetching its owner again, the same row.
        bob.fetched_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
        doc["publicKey"]["id"] = doc["id"] + "#key-2"
        serve_person(peer, doc)
        rotated = actors.actor_for_key(doc["id"] + "#key-2")
        assert rotated is not None and rotated.id == bob.id and rotated.key_id == doc["id"] + "#key-2"


def test_unreachable_owner(app, key_pairs):
    with Peer() as gone:
        key_id = gone.url("/users/bob#main-key")
    with app.app_context():
        assert actors.actor_for_key(key_id) is None


def test_moved_to_only_when_known(app, peer, key_pairs):
    new = person(peer, "newbob", key_pairs[1][1])
    old = person(peer, "bob", key_pairs[0][1], movedTo=new["id"])
    serve_person(peer, old)
    with app.app_context():
        bob = actors.fetch_actor(old["id"])
        assert bob is not None and bob.moved_to_id is None  # not fetched: no recursion
        serve_person(peer, new)
        newbob = actors.fetch_actor(new["id"])
        serve_person(peer, old)
        bob = actors.fetch_actor(old["id"])
        assert bob.moved_to_id == newbob.id


def test_resolve_handle_by_webfinger(app, peer, key_pairs):
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    with app.app_context():
        alice = make_user("alice")
        for handle in (f"@bob@{peer.host}", f"bob@{peer.host}", f"acct:bob@{peer.host}"):
            bob = actors.resolve_handle(handle, signer=alice)
            assert bob is not None and bob.actor_uri == doc["id"]
        assert actors.resolve_handle(f"nobody@{peer.host}") is None
        assert actors.resolve_handle("alice@microblog.test") == alice
        assert actors.resolve_handle("@ALICE@microblog.test") == alice
        assert actors.resolve_handle("not a handle") is None
    webfinger = [seen for seen in peer.seen if seen.path.startswith("/.well-known/webfinger")]
    assert webfinger and "resource=acct:bob@" in webfinger[0].path.replace("%40", "@").replace("%3A", ":")


def _signed_post(client, private_pem: str, key_id: str, activity: dict):
    body = json.dumps(activity).encode()
    headers = httpsig.sign_request("POST", "http://microblog.test/inbox", key_id=key_id,
                                   private_pem=private_pem, body=body)
    return client.post("/inbox", data=body, headers=headers, base_url="http://microblog.test")


def test_inbox_fetches_an_unknown_signer_and_refetches_a_rotated_key(app, client, peer, key_pairs):
    """The inbox's path through actor_for_key: the first activity of an unknown actor makes us fetch
    it; after its key changed, a failed verification fetches it again (at most once a minute)."""
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    key_id = doc["publicKey"]["id"]
    activity = {"id": doc["id"] + "#follows/1", "type": "Follow", "actor": doc["id"],
                "object": "http://microblog.test/user/alice"}
    assert _signed_post(client, key_pairs[0][0], key_id, activity).status_code == 202
    with app.app_context():
        bob = actors.actor_by_uri(doc["id"])
        assert bob is not None and bob.public_key_pem == key_pairs[0][1]
    # Bob's server rotates his key and signs with the new one.
    doc["publicKey"]["publicKeyPem"] = key_pairs[1][1]
    serve_person(peer, doc)
    activity["id"] = doc["id"] + "#follows/2"
    assert _signed_post(client, key_pairs[1][0], key_id, activity).status_code == 401  # fetched just now
    with app.app_context():
        bob = actors.actor_by_uri(doc["id"])
        bob.fetched_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    assert _signed_post(client, key_pairs[1][0], key_id, activity).status_code == 202
    with app.app_context():
        assert actors.actor_by_uri(doc["id"]).public_key_pem == key_pairs[1][1]
    # A forged signature (someone else's key) is still refused, and does not make us fetch in a loop.
    fetches = len(peer.seen)
    activity["id"] = doc["id"] + "#follows/3"
    assert _signed_post(client, key_pairs[0][0], key_id, activity).status_code == 401
    assert len(peer.seen) == fetches


def test_keys_are_fetched_signed_by_the_sites_own_actor(app, client, peer, key_pairs):
    """Servers with authorized fetch answer only signed GETs: the site signs key fetches with its
    instance actor's key, which anyone can read (unsigned) at /actor."""
    doc = person(peer, "bob", key_pairs[0][1])
    serve_person(peer, doc)
    served = client.get("/actor", base_url="http://microblog.test")
    assert served.status_code == 200 and served.mimetype == "application/activity+json"
    site = served.get_json()
    assert site["type"] == "Application" and site["id"] == "http://microblog.test/actor"
    assert site["inbox"] == "http://microblog.test/inbox"
    assert site["publicKey"]["owner"] == site["id"]
    with app.app_context():
        assert actors.actor_for_key(doc["publicKey"]["id"]) is not None
    [fetch] = [seen for seen in peer.seen if seen.method == "GET"]
    signed = {name.lower(): value for name, value in fetch.headers.items()}
    assert httpsig.key_id_of(signed) == "http://microblog.test/actor#main-key"
    httpsig.verify_request("GET", fetch.path, signed, None, site["publicKey"]["publicKeyPem"])
