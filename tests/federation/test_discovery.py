"""How other servers find our accounts: WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from microblog.extensions import db
from microblog.models import Post
from tests.factories import make_post, make_user

WEBFINGER = "/.well-known/webfinger"


def make_remote_user(name: str = "carol", domain: str = "remote.example", **overrides):
    """A remote account row as federation stores one (an origin, no usable password or address)."""
    return make_user(f"{name}@{domain}", email=f"{name}.{domain}@remote.invalid", domain=domain,
                     actor_uri=f"https://{domain}/users/{name}", confirmed_at=datetime.now(UTC),
                     **overrides)


@pytest.mark.parametrize("resource", [
    "acct:alice@microblog.test", "acct:ALICE@Microblog.Test", "alice@microblog.test",
    "http://microblog.test/user/alice", "http://microblog.test/user/Alice",
])
def test_webfinger_finds_a_local_account(app, client, resource):
    with app.app_context():
        make_user("alice")
    response = client.get(WEBFINGER, query_string={"resource": resource})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jrd+json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json(force=True)
    actor = "http://microblog.test/user/alice"
    assert body["subject"] == "acct:alice@microblog.test"
    assert body["aliases"] == [actor]
    links = {link["rel"]: link for link in body["links"]}
    assert links["self"] == {"rel": "self", "type": "application/activity+json", "href": actor}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == actor
    assert links["http://webfinger.net/rel/profile-page"]["type"] == "text/html"
    # The actor named there is served at that URL.
    served = client.get("/user/alice", headers={"Accept": "application/activity+json"})
    assert served.get_json(force=True)["id"] == links["self"]["href"]


@pytest.mark.parametrize("query", [{}, {"resource": ""}, {"resource": "acct:alice"},
                                   {"resource": "alice"}, {"resource": "acct:@microblog.test"},
                                   {"resource": "acct:alice@"}, {"resource": "x" * 600 + "@microblog.test"}])
def test_webfinger_refuses_a_missing_or_malformed_resource(app, client, query):
    with app.app_context():
        make_user("alice")
    response = client.get(WEBFINGER, query_string=query)
    assert response.status_code == 400
    assert "error" in response.get_json(force=True)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("resource", [
    "acct:nobody@microblog.test",  # no such account
    "acct:alice@other.example",  # another server's
    "acct:carol@remote.example",  # a remote account we know: its server answers for it
    "acct:carol@remote.example@microblog.test",
    "acct:gone@microblog.test",  # deactivated
    "acct:leaving@microblog.test",  # deleting (in its grace period)
    "https://other.example/user/alice", "http://microblog.test/post/1", "http://microblog.test/user/nobody",
    "http://microblog.test/user/alice/followers", "mailto:alice@microblog.test/x",
])
def test_webfinger_finds_no_one_else(app, client, resource):
    with app.app_context():
        alice = make_user("alice")
        make_post(alice)
        make_remote_user("carol")
        make_user("gone", deactivated_at=datetime.now(UTC))
        make_user("leaving", deactivated_at=datetime.now(UTC), deletion_due_at=datetime.now(UTC))
    response = client.get(WEBFINGER, query_string={"resource": resource})
    assert response.status_code == 404
    assert response.get_json(force=True)["error"]


def test_a_site_without_federation_has_no_discovery(make_app):
    app = make_app(FEDERATION_ENABLED=False)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    assert client.get(WEBFINGER, query_string={"resource": "acct:alice@microblog.test"}).status_code == 404
    assert client.get("/.well-known/host-meta").status_code == 404
    assert client.get("/.well-known/host-meta.json").status_code == 404
    assert client.get("/nodeinfo/2.1").get_json()["protocols"] == []
    # The profile page is still a page, whatever the client asks for.
    page = client.get("/user/alice", headers={"Accept": "application/activity+json"})
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_host_meta_points_at_webfinger(client):
    response = client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.mimetype == "application/xrd+xml"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}XRD"
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None and link.get("rel") == "lrdd"
    assert link.get("template") == "http://microblog.test/.well-known/webfinger?resource={uri}"


def test_host_meta_json(client):
    response = client.get("/.well-known/host-meta.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json(force=True) == {"links": [
        {"rel": "lrdd", "template": "http://microblog.test/.well-known/webfinger?resource={uri}"}]}


def test_the_host_meta_template_finds_an_account(app, client):
    with app.app_context():
        make_user("alice")
    template = client.get("/.well-known/host-meta.json").get_json()["links"][0]["template"]
    url = template.replace("{uri}", "acct:alice@microblog.test").removeprefix("http://microblog.test")
    assert client.get(url).get_json(force=True)["subject"] == "acct:alice@microblog.test"


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_speaks_activitypub_and_counts_local_accounts_and_posts_only(app, client, version):
    with app.app_context():
        alice = make_user("alice")
        make_post(alice)
        carol = make_remote_user("carol")
        make_remote_user("dave", "other.example")
        remote = Post(body="from afar", author=carol, uri="https://remote.example/notes/1")
        db.session.add(remote)
        db.session.commit()
    links = client.get("/.well-known/nodeinfo").get_json()["links"]
    assert any(link["href"] == f"http://microblog.test/nodeinfo/{version}" for link in links)
    body = client.get(f"/nodeinfo/{version}").get_json()
    assert body["protocols"] == ["activitypub"]
    assert body["usage"]["users"]["total"] == 1
    assert body["usage"]["users"]["activeMonth"] == 1
    assert body["usage"]["localPosts"] == 1
