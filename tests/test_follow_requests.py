"""Locked accounts: the "approve new followers by hand" setting, follow requests made from a profile
and a list, the owner's requests page with Approve and Refuse, withdrawing a request, and unlocking
(which approves what waits)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import FollowRequest, Notification, followers
from tests.factories import find_user, make_follow, make_user
from tests.mastodon_helpers import issued_token


def follows(app, follower: str, followed: str) -> bool:
    with app.app_context():
        query = sa.select(followers).where(followers.c.follower_id == find_user(follower).id,
                                           followers.c.followed_id == find_user(followed).id)
        return db.session.execute(query).first() is not None


def pending(app, follower: str, followed: str) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(FollowRequest.id).where(
            FollowRequest.follower_id == find_user(follower).id,
            FollowRequest.followed_id == find_user(followed).id)))


def counts(app, username: str) -> tuple[int, int]:
    with app.app_context():
        user = find_user(username)
        return user.follower_count, user.following_count


@pytest.fixture
def people(app):
    """bob is locked; alice, cat and dan are open."""
    with app.app_context():
        for name in ("alice", "cat", "dan"):
            make_user(name)
        make_user("bob", locked=True)
    return app


def login(client, username: str) -> None:
    client.post("/auth/logout")
    client.post("/auth/login", data={"username": username, "password": "correct-horse"})


def test_the_profile_setting_locks_and_unlocks(people, client, auth):
    auth.login()
    page = client.get("/edit_profile").get_data(as_text=True)
    assert "Approve new followers by hand" in page
    assert client.post("/edit_profile", data={"username": "alice", "locked": "y"}).status_code == 302
    with people.app_context():
        assert find_user("alice").locked is True
    box = re.search(r'<input[^>]*name="locked"[^>]*>', client.get("/edit_profile").get_data(as_text=True))
    assert box and "checked" in box.group(0)
    assert "Locked" in client.get("/user/alice").get_data(as_text=True)
    client.post("/edit_profile", data={"username": "alice"})  # an unticked box is not sent
    with people.app_context():
        assert find_user("alice").locked is False


def test_following_a_locked_account_asks_and_the_owner_approves(people, client, auth):
    auth.login()
    profile = client.get("/user/bob").get_data(as_text=True)
    assert "Locked" in profile and "Ask to follow" in profile
    response = client.post("/follow/bob", follow_redirects=True)
    assert "You asked to follow bob" in response.get_data(as_text=True)
    assert not follows(people, "alice", "bob")
    [request_id] = pending(people, "alice", "bob")
    assert "Requested (withdraw)" in client.get("/user/bob").get_data(as_text=True)
    assert client.post("/follow/bob").status_code == 302  # asking again is harmless
    assert len(pending(people, "alice", "bob")) == 1

    login(client, "bob")
    notes = client.get("/notifications").get_data(as_text=True)
    assert "alice asked to follow you." in notes and "1 follow request" in notes
    page = client.get("/follow_requests").get_data(as_text=True)
    assert f"/follow_requests/{request_id}/approve" in page
    assert f"/follow_requests/{request_id}/refuse" in page
    response = client.post(f"/follow_requests/{request_id}/approve")
    assert response.status_code == 302 and response.headers["Location"] == "/follow_requests"
    assert follows(people, "alice", "bob")
    assert pending(people, "alice", "bob") == []
    assert counts(people, "bob") == (1, 0) and counts(people, "alice") == (0, 1)
    assert "No follow requests are waiting" in client.get("/follow_requests").get_data(as_text=True)
    login(client, "alice")
    assert "Unfollow" in client.get("/user/bob").get_data(as_text=True)


def test_the_owner_refuses(people, client, auth):
    auth.login()
    client.post("/follow/bob")
    [request_id] = pending(people, "alice", "bob")
    login(client, "bob")
    client.post(f"/follow_requests/{request_id}/refuse")
    assert pending(people, "alice", "bob") == [] and not follows(people, "alice", "bob")
    assert counts(people, "bob") == (0, 0)
    # Answered once: a second press finds nothing.
    response = client.post(f"/follow_requests/{request_id}/approve", follow_redirects=True)
    assert "no longer pending" in response.get_data(as_text=True)
    assert not follows(people, "alice", "bob")


def test_nobody_answers_a_request_made_to_someone_else(people, client, auth):
    auth.login()
    client.post("/follow/bob")
    [request_id] = pending(people, "alice", "bob")
    login(client, "cat")
    assert "/user/alice" not in client.get("/follow_requests").get_data(as_text=True)
    client.post(f"/follow_requests/{request_id}/approve")
    client.post(f"/follow_requests/{request_id}/refuse")
    assert pending(people, "alice", "bob") == [request_id] and not follows(people, "alice", "bob")


def test_withdrawing_a_request(people, client, auth):
    auth.login()
    client.post("/follow/bob")
    response = client.post("/follow/bob/withdraw", follow_redirects=True)
    assert "Your request to follow bob is withdrawn." in response.get_data(as_text=True)
    assert pending(people, "alice", "bob") == []
    assert "Ask to follow" in client.get("/user/bob").get_data(as_text=True)


def test_a_list_button_shows_requested_and_fetch_gets_the_state(people, client, auth):
    with people.app_context():
        make_follow(find_user("bob"), find_user("cat"))
    auth.login()
    answer = client.post("/follow/bob", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json["state"] == "requested"
    html = client.get("/user/cat/followers").get_data(as_text=True)
    assert re.search(r'data-follow-form\s+action="/follow/bob/withdraw"', html)
    answer = client.post("/follow/bob/withdraw", headers={"Accept": "application/json"})
    assert answer.json == {"message": "Your request to follow bob is withdrawn.", "state": "none"}


def test_unlocking_approves_the_waiting_requests(people, client, auth):
    for name in ("alice", "cat"):
        login(client, name)
        client.post("/follow/bob")
    login(client, "bob")
    client.post("/edit_profile", data={"username": "bob"})
    assert follows(people, "alice", "bob") and follows(people, "cat", "bob")
    assert counts(people, "bob") == (2, 0)
    with people.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowRequest)) == 0
    login(client, "dan")
    client.post("/follow/bob")
    assert follows(people, "dan", "bob")  # open now: no request


def test_blocked_people_cannot_ask(people, client, auth):
    login(client, "bob")
    client.post("/block/alice")
    login(client, "alice")
    response = client.post("/follow/bob", follow_redirects=True)
    assert "You cannot follow bob." in response.get_data(as_text=True)
    assert pending(people, "alice", "bob") == []
    with people.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.kind == "follow_request")) == 0


def test_the_pages_need_a_sign_in_and_gets_change_nothing(people, client, auth):
    auth.login()
    client.post("/follow/bob")
    [request_id] = pending(people, "alice", "bob")
    login(client, "bob")
    for url in (f"/follow_requests/{request_id}/approve", f"/follow_requests/{request_id}/refuse",
                "/follow/bob/withdraw"):
        assert client.get(url).status_code == 405
    assert pending(people, "alice", "bob") == [request_id]
    client.post("/auth/logout")
    response = client.get("/follow_requests")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_answers_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob", locked=True)
        db.session.add(FollowRequest(follower_id=alice.id, followed_id=bob.id))
        db.session.commit()
        request_id = db.session.scalar(sa.select(FollowRequest.id))
    client = app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"username": "bob", "password": "correct-horse", "csrf_token": token})
    page = client.get("/follow_requests").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for answer in ("approve", "refuse"):
        assert client.post(f"/follow_requests/{request_id}/{answer}").status_code in (302, 400)
    with app.app_context():
        assert db.session.get(FollowRequest, request_id) is not None
    client.post(f"/follow_requests/{request_id}/approve", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(FollowRequest, request_id) is None
        assert follows(app, "alice", "bob")


def test_the_mastodon_api_lists_and_answers_requests(people, client):
    with people.app_context():
        bob_headers = issued_token(find_user("bob"))
        alice_headers = issued_token(find_user("alice"))
        alice_id, cat_id, bob_id = (find_user(name).id for name in ("alice", "cat", "bob"))
    asked = client.post(f"/api/v1/accounts/{bob_id}/follow", headers=alice_headers)
    assert asked.status_code == 200
    assert asked.json["requested"] is True and asked.json["following"] is False
    client.post(f"/api/v1/accounts/{bob_id}/follow", headers=issued_token_for(people, "cat"))
    told = client.get("/api/v1/notifications?types[]=follow_request", headers=bob_headers).json
    assert [(note["type"], note["account"]["id"]) for note in told] == [
        ("follow_request", str(cat_id)), ("follow_request", str(alice_id))]
    me = client.get("/api/v1/accounts/verify_credentials", headers=bob_headers).json
    assert me["locked"] is True and me["source"]["follow_requests_count"] == 2
    listed = client.get("/api/v1/follow_requests", headers=bob_headers)
    assert [account["id"] for account in listed.json] == [str(cat_id), str(alice_id)]
    approved = client.post(f"/api/v1/follow_requests/{alice_id}/authorize", headers=bob_headers)
    assert approved.status_code == 200 and approved.json["followed_by"] is True
    rejected = client.post(f"/api/v1/follow_requests/{cat_id}/reject", headers=bob_headers)
    assert rejected.status_code == 200 and rejected.json["followed_by"] is False
    assert client.post(f"/api/v1/follow_requests/{cat_id}/authorize", headers=bob_headers).status_code == 404
    assert follows(people, "alice", "bob") and not follows(people, "cat", "bob")
    assert client.get("/api/v1/follow_requests", headers=bob_headers).json == []
    assert counts(people, "bob") == (1, 0)


def issued_token_for(app, username: str) -> dict[str, str]:
    with app.app_context():
        return issued_token(find_user(username))


def test_the_mastodon_api_locks_and_unlocks(people, client):
    with people.app_context():
        headers = issued_token(find_user("alice"))
    locked = client.patch("/api/v1/accounts/update_credentials", headers=headers, data={"locked": "true"})
    assert locked.status_code == 200 and locked.json["locked"] is True
    with people.app_context():
        assert find_user("alice").locked is True
    opened = client.patch("/api/v1/accounts/update_credentials", headers=headers, json={"locked": False})
    assert opened.status_code == 200 and opened.json["locked"] is False
    refused = client.patch("/api/v1/accounts/update_credentials", headers=headers, json={"locked": {"x": 1}})
    assert refused.status_code == 422
    with people.app_context():
        assert find_user("alice").locked is False


def test_a_block_ends_a_request_both_ways(people, client, auth):
    auth.login()
    client.post("/follow/bob")
    login(client, "bob")
    client.post("/block/alice")
    assert pending(people, "alice", "bob") == []
    assert "/user/alice" not in client.get("/follow_requests").get_data(as_text=True)
    client.post("/unblock/alice")
    login(client, "alice")
    assert "Ask to follow" in client.get("/user/bob").get_data(as_text=True)
