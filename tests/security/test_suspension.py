"""A suspended account changes nothing: every write route in the URL map refuses it, web and API alike,
except signing in and out and exporting one's data. A new write route is walked without being listed.
"""

from __future__ import annotations

import sqlalchemy as sa

from microblog import signed_tokens
from microblog.extensions import db
from microblog.models import Post, Report, Task, User
from microblog.services import moderation
from tests.factories import find_user, make_follow, make_post, make_user, token_for
from tests.mastodon_helpers import issued_token

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Signing in and out, exporting one's data, and the emailed unsubscribe link (mail clients POST it
# with no session anyway). Adding to this list is a decision: say why at the route.
# Ending one's own sessions and tokens is signing out (a suspended account may want a stolen session gone).
ALLOWED = {"auth.login", "auth.logout", "auth.unsubscribe", "api_tokens.create_token",
           "api_tokens.revoke_token", "exports.start", "api_exports.create_export", "two_factor.verify",
           "account_sessions.revoke", "account_sessions.revoke_others", "account_sessions.revoke_token",
           "api_sessions.delete_session",
           # Signing in with a passkey, alone or as the second step (auth/routes.py, auth/two_factor.py).
           "auth.passkey_options", "auth.passkey_sign_in", "two_factor.passkey_options", "two_factor.passkey",
           # Mastodon apps: registering one involves no account; letting an app sign in (the consent
           # page, the token endpoint) and signing it out (revoke) are signing in and out. A suspended
           # account's token still reads, and its writes are refused by oauth_required.
           "mastodon_apps.create_app", "oauth.decide", "oauth.token", "oauth.revoke",
           "authorized_apps.revoke_app"}
BACK = "http://localhost/explore"  # the page the form was on: the refusal goes back there
REFUSED_FLASH = "Your account is suspended: that change was not made."
SUSPENDED = "Your account is suspended: you can read, export your data and sign out, but change nothing."
# What a form or a JSON body would carry to make the change (the guard refuses before reading it).
FORM = {"post": "still here", "message": "hi", "reason": "because", "username": "bobby",
        "about_me": "changed", "password": "new passphrase 123", "password2": "new passphrase 123",
        "old_password": "correct-horse", "email": "bobby@example.com", "language": "fr", "role": "admin"}


def get(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def setup_site(app) -> dict[str, object]:
    """bob, suspended, follows alice; each has a post; alice reported bob's. URL values for each rule."""
    with app.app_context():
        alice, bob, mod = make_user("alice"), make_user("bob"), make_user("mod", role="moderator")
        make_follow(bob, alice)
        theirs, mine = make_post(alice, "alice's post"), make_post(bob, "bob's post")
        report = Report(reporter_id=alice.id, post_id=mine.id, user_id=bob.id, kind="post",
                        target_label="bob: bob's post", reason="spam")
        db.session.add(report)
        db.session.add(Task(id="t" * 32, name="export_posts", description="csv", user_id=bob.id))
        db.session.commit()
        moderation.suspend_user(mod, bob, "spam")
        own = {"api_users.update_user", "main.delete_post", "api_posts.delete_post"}
        return {
            "username": {"default": "alice"},
            "user_id": {"default": alice.id, **{endpoint: bob.id for endpoint in own}},
            "post_id": {"default": theirs.id, **{endpoint: mine.id for endpoint in own}},
            "report_id": {"default": report.id},
            # The Mastodon-compatible API's: alice's account, her post, a notification, a tag.
            "account_id": {"default": alice.id},
            "status_id": {"default": theirs.id, "mastodon_statuses.delete_status": mine.id,
                          "mastodon_statuses.edit_status": mine.id},
            "raw_id": {"default": 1},
            "name": {"default": "tag"},
            "media_id": {"default": 1},
            "passkey_id": {"default": 1},
            "action": {"default": "hide", "admin.moderate_user": "suspend"},
            "kind": {"default": "users"},
            "fmt": {"default": "csv"},
            # Federation: a follow request, another server's domain (admin).
            "request_id": {"default": 1},
            "domain": {"default": "example.com"},
            "task_id": {"default": "t" * 32},
            "token": {"default": signed_tokens.reset_token(bob),
                      "auth.confirm_email": signed_tokens.confirm_token(bob),
                      "auth.unsubscribe": signed_tokens.unsubscribe_token(bob, "new_follower")},
        }


MASTODON_DISABLED = "Your login is currently disabled"


def write_rules(app):
    """(endpoint, method, rule) for every state-changing method of every route."""
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & set(WRITE_METHODS)):
            yield rule.endpoint, method, rule


def test_every_write_route_refuses_a_suspended_account_and_changes_nothing(app, client, auth):
    values = setup_site(app)
    assert auth.login("bob").status_code == 302
    client.get("/")  # the first page after login may record last_seen (at most once a minute)
    api_headers = token_for(app.test_client(), "bob")
    with app.app_context():
        mastodon_headers = issued_token(find_user("bob"))

    writes: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(WRITES):
            writes.append(statement.split("\n")[0])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    refused, allowed = [], []
    try:
        for endpoint, method, rule in write_rules(app):
            view = app.view_functions[endpoint]
            if getattr(view, "allowed_while_suspended", False):
                allowed.append(endpoint)
                continue
            args = {}
            for name in rule.arguments:
                assert name in values, f"add a sample value for <{name}> ({endpoint})"
                args[name] = values[name].get(endpoint, values[name]["default"])
            with app.test_request_context():
                url = app.url_for(endpoint, **args)
            before = len(writes)
            if url.startswith("/api/"):
                body = {**FORM, "body": "still here", "recipient_id": args.get("user_id", 1)}
                headers = mastodon_headers if url.startswith(("/api/v1/", "/api/v2/")) else api_headers
                response = client.open(url, method=method, json=body, headers=headers)
                assert response.status_code == 403, (method, url, response.status_code)
                # The Mastodon-compatible API answers in Mastodon's shape ({"error": ...}).
                said = response.json.get("message", response.json.get("error"))
                assert said in (SUSPENDED, MASTODON_DISABLED), (method, url, response.json)
            else:
                response = client.open(url, method=method, data=FORM, headers={"Referer": BACK})
                assert response.status_code == 302, (method, url, response.status_code)
                assert response.headers["Location"] == "/explore", (method, url)
                with client.session_transaction() as session:
                    flashes = session.pop("_flashes", [])
                assert ("danger", REFUSED_FLASH) in flashes, (method, url, flashes)
            assert writes[before:] == [], f"{method} {url} wrote: {writes[before:]}"
            refused.append(endpoint)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert set(allowed) == ALLOWED
    assert len(refused) >= 35
    with app.app_context():
        bob = get("bob")
        assert (bob.username, bob.about_me, bob.suspended_at is not None) == ("bob", None, True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2


def test_a_suspended_account_cannot_change_its_profile_on_the_web_or_the_api(app, client, auth):
    setup_site(app)
    with app.app_context():
        bob_id = get("bob").id
    auth.login("bob")
    response = client.post("/edit_profile", data={"username": "bobby", "about_me": "new me"},
                           follow_redirects=True)
    assert REFUSED_FLASH in response.get_data(as_text=True)
    api = app.test_client()
    response = api.put(f"/api/users/{bob_id}", json={"username": "bobby", "about_me": "new me"},
                       headers=token_for(api, "bob"))
    assert response.status_code == 403 and response.json["message"] == SUSPENDED
    with app.app_context():
        assert (get("bob").username, get("bob").about_me) == ("bob", None)


def test_a_web_call_that_asks_for_json_gets_a_json_refusal(app, client, auth):
    setup_site(app)
    auth.login("bob")
    response = client.post("/notifications/read", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.json["message"] == SUSPENDED


def test_a_suspended_account_still_signs_in_exports_and_signs_out(app, client, auth):
    setup_site(app)
    with app.app_context():
        db.session.execute(sa.delete(Task))
        db.session.commit()
    assert auth.login("bob").headers["Location"] == "/index"  # signed in, not refused
    response = client.post("/export/csv")
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(Task.user_id)) == get("bob").id
    api = app.test_client()
    headers = token_for(api, "bob")
    assert api.get("/api/timeline", headers=headers).status_code == 200
    assert api.post("/api/exports", json={"kind": "archive"}, headers=headers).status_code == 202
    assert api.delete("/api/tokens", headers=headers).status_code == 204
    assert api.get("/api/timeline", headers=headers).status_code == 401
    assert auth.logout().status_code == 302
    assert client.get("/edit_profile").status_code == 302  # signed out: the form asks to sign in
