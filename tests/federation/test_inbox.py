"""The inboxes: only activities signed by their own actor, fresh, whole, from servers not blocked, each
stored once and handled by a job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.federation import httpsig, processing
from microblog.models import InboxActivity, Instance
from microblog.timeutil import utcnow
from tests.factories import make_user
from tests.federation_helpers import key_pair, remote_actor, signed_post

PING = "TestPing"


@pytest.fixture
def handled(monkeypatch) -> list[tuple[dict, str, str | None]]:
    """A handler for a type of our own, recording what reached it (the real types have theirs)."""
    seen: list[tuple[dict, str, str | None]] = []

    def ping(activity, sender, recipient):
        seen.append((activity, sender.username, recipient.username if recipient else None))

    monkeypatch.setitem(processing.HANDLERS, PING, ping)
    return seen


def ping(remote, number: int = 1) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{remote.actor}/pings/{number}",
            "type": PING, "actor": remote.actor, "object": "http://microblog.test/user/alice"}


def stored() -> list[InboxActivity]:
    return list(db.session.scalars(sa.select(InboxActivity).order_by(InboxActivity.id)))


def test_a_signed_activity_is_stored_once_and_handled(app, client, handled):
    with app.app_context():
        make_user("alice")
        bob = remote_actor()
        first = signed_post(client, "/user/alice/inbox", ping(bob), bob)
        again = signed_post(client, "/user/alice/inbox", ping(bob), bob)  # a retry of the same activity
        shared = signed_post(client, "/inbox", ping(bob), bob)  # and the same through the shared inbox
        assert (first.status_code, again.status_code, shared.status_code) == (202, 202, 202)
        rows = stored()
        assert [(row.type, row.state, row.actor_uri) for row in rows] == [(PING, "done", bob.actor)]
        assert [(activity["id"], sender, recipient) for activity, sender, recipient in handled] == [
            (f"{bob.actor}/pings/1", "bob@remote.example", "alice")]


def test_unsigned_and_missigned_activities_are_refused(app, client, handled):
    with app.app_context():
        make_user("alice")
        bob = remote_actor()
        eve = remote_actor("eve", "evil.example", pair=1)
        body = json.dumps(ping(bob)).encode()
        unsigned = client.post("/inbox", data=body, content_type="application/activity+json")
        assert unsigned.status_code == 401
        assert "not signed" in unsigned.get_json()["error"]
        # bob's key id with eve's private key: the signature does not verify with bob's public key
        forged = signed_post(client, "/inbox", ping(bob), bob, private_pem=eve.private_pem)
        assert forged.status_code == 401
        # eve signs, correctly, an activity that claims to be bob's
        impersonation = signed_post(client, "/inbox", ping(bob), eve)
        assert impersonation.status_code == 401
        assert "actor is not the signer" in impersonation.get_json()["error"]
        # a key nobody here knows (and that cannot be fetched)
        unknown = signed_post(client, "/inbox", ping(bob), bob, key_id="https://nowhere.example/k#main-key")
        assert unknown.status_code == 401
        assert stored() == [] and handled == []


def test_a_body_changed_after_signing_or_a_stale_date_is_refused(app, client, handled):
    with app.app_context():
        make_user("alice")
        bob = remote_actor()
        tampered = json.dumps({**ping(bob), "object": "http://microblog.test/user/someone"}).encode()
        assert signed_post(client, "/inbox", ping(bob), bob, body=tampered).status_code == 401
        old = datetime.now(UTC) - timedelta(hours=13)
        stale = signed_post(client, "/inbox", ping(bob, 2), bob, now=old)
        assert stale.status_code == 401
        assert "Date" in stale.get_json()["error"]
        recent = datetime.now(UTC) - timedelta(hours=11)
        assert signed_post(client, "/inbox", ping(bob, 3), bob, now=recent).status_code == 202
        assert [row.uri for row in stored()] == [f"{bob.actor}/pings/3"]


def test_malformed_and_oversized_bodies_get_clear_errors(make_app, handled):
    app = make_app(FEDERATION_MAX_INBOX_BYTES=2048)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
        bob = remote_actor()
        assert signed_post(client, "/inbox", b"{not json", bob).status_code == 400
        assert signed_post(client, "/inbox", b'["a", "list"]', bob).status_code == 400
        no_id = {key: value for key, value in ping(bob).items() if key != "id"}
        assert signed_post(client, "/inbox", no_id, bob).status_code == 400
        elsewhere = {**ping(bob), "id": "https://other.example/activities/1"}
        assert signed_post(client, "/inbox", elsewhere, bob).status_code == 400
        huge = {**ping(bob), "content": "x" * 4096}
        assert signed_post(client, "/inbox", huge, bob).status_code == 413
        assert client.post("/user/nobody/inbox", data=b"{}").status_code == 404
        assert stored() == [] and handled == []


def test_a_type_nobody_handles_is_accepted_and_dropped(app, client):
    with app.app_context():
        bob = remote_actor()
        activity = {**ping(bob), "type": "EmojiReact"}
        assert signed_post(client, "/inbox", activity, bob).status_code == 202
        assert stored() == []


def test_a_blocked_server_and_its_subdomains_are_refused(app, client, handled):
    with app.app_context():
        db.session.add(Instance(domain="remote.example", blocked_at=utcnow()))
        db.session.commit()
        bob = remote_actor()
        carol = remote_actor("carol", "social.remote.example", pair=1)
        assert signed_post(client, "/inbox", ping(bob), bob).status_code == 403
        assert signed_post(client, "/inbox", ping(carol), carol).status_code == 403
        assert stored() == [] and handled == []


def test_a_failing_handler_is_retried_then_given_up(app, client, monkeypatch):
    calls = []

    def broken(activity, sender, recipient):
        calls.append(activity["id"])
        raise RuntimeError("the remote data broke us")

    monkeypatch.setitem(processing.HANDLERS, PING, broken)
    with app.app_context():
        bob = remote_actor()
        assert signed_post(client, "/inbox", ping(bob), bob).status_code == 202  # the sender sees success
        [row] = stored()
        assert (row.state, row.attempts) == ("pending", 1)
        for _ in range(processing.MAX_ATTEMPTS):
            processing.retry_pending()
        db.session.expire_all()
        [row] = stored()
        assert (row.state, row.attempts) == ("failed", processing.MAX_ATTEMPTS)
        assert "the remote data broke us" in row.error
        assert len(calls) == processing.MAX_ATTEMPTS


def test_inboxes_are_rate_limited_per_sending_server(make_app, handled):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_INBOX="2 per minute")
    client = app.test_client()
    with app.app_context():
        bob = remote_actor()
        carol = remote_actor("carol", "other.example", pair=1)
        answers = [signed_post(client, "/inbox", ping(bob, n), bob).status_code for n in range(3)]
        assert answers == [202, 202, 429]
        assert signed_post(client, "/inbox", ping(carol), carol).status_code == 202  # another server


def test_federation_switched_off_has_no_inboxes(make_app):
    app = make_app(FEDERATION_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
        bob = remote_actor()
        assert signed_post(client, "/inbox", ping(bob), bob).status_code == 404
        assert signed_post(client, "/user/alice/inbox", ping(bob), bob).status_code == 404


def test_signatures_round_trip_and_bind_the_request():
    private_pem, public_pem = key_pair()
    body = b'{"type": "Note"}'
    headers = httpsig.sign_request("POST", "https://b.example/inbox?x=1", key_id="https://a.example/u#k",
                                   private_pem=private_pem, body=body)
    lower = {name.lower(): value for name, value in headers.items()}
    httpsig.verify_request("POST", "/inbox?x=1", lower, body, public_pem)
    assert httpsig.key_id_of(lower) == "https://a.example/u#k"
    with pytest.raises(httpsig.SignatureError):
        httpsig.verify_request("POST", "/other", lower, body, public_pem)  # another target
    with pytest.raises(httpsig.SignatureError):
        httpsig.verify_request("POST", "/inbox?x=1", {**lower, "host": "c.example"}, body, public_pem)
    get = {name.lower(): value for name, value in httpsig.sign_request(
        "GET", "https://b.example/users/x", key_id="k", private_pem=private_pem).items()}
    httpsig.verify_request("GET", "/users/x", get, None, public_pem)
    with pytest.raises(httpsig.SignatureError):  # a GET's signature does not cover a body
        httpsig.verify_request("POST", "/users/x", get, b"{}", public_pem)
    for broken in ("", 'keyId="k"', 'keyId="k",signature="@@@"', "garbage"):
        with pytest.raises(httpsig.SignatureError):
            httpsig.verify_request("GET", "/users/x", {**get, "signature": broken}, None, public_pem)
