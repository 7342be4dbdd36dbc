"""Moderation: suspended accounts' limits, hidden posts, deleting accounts, roles, the audit log and the
report workflow, through the services, the web pages and the API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.exceptions import AccountSuspended, PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import (
    AuditLogEntry,
    Message,
    Notification,
    Post,
    Report,
    Token,
    User,
    followers,
)
from microblog.services import follows, messages, moderation, posts, reports, roles
from tests.factories import DEFAULT_PASSWORD, make_follow, make_message, make_post, make_user, token_for


def sign_in(app, username: str, password: str = DEFAULT_PASSWORD):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302
    return client


def get(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def audit_actions() -> list[tuple[str | None, str, str, str | None]]:
    entry = AuditLogEntry
    columns = (entry.actor_name, entry.action, entry.target_label, entry.reason)
    rows = db.session.execute(sa.select(*columns).order_by(AuditLogEntry.id))
    return [tuple(row) for row in rows]


@pytest.fixture
def people(app):
    with app.app_context():
        make_user("root", role="admin")
        make_user("mod", role="moderator")
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(alice, bob)
        make_post(bob, "hello from bob")


# -- suspension -----------------------------------------------------------------------------------
SUSPENDED = "Your account is suspended: you can read, export your data and sign out, but change nothing."
REFUSED = "Your account is suspended: that change was not made."


def test_a_suspended_account_can_read_but_not_post_follow_or_message(app, people):
    with app.app_context():
        make_follow(get("bob"), make_user("carol"))
        moderation.suspend_user(get("mod"), get("bob"), "spam")
        for action in (lambda: posts.publish_post(get("bob"), "still here"),
                       lambda: follows.follow(get("bob"), get("alice")),
                       lambda: messages.send_message(get("bob"), get("alice"), "hi")):
            with pytest.raises(AccountSuspended, match="suspended"):
                action()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        with pytest.raises(AccountSuspended):
            posts.edit_post(get("bob"), db.session.scalar(sa.select(Post.id)), "edited into spam")

    bob = sign_in(app, "bob")
    home = bob.get("/")
    assert home.status_code == 200 and SUSPENDED in home.get_data(as_text=True)
    assert bob.get("/explore").status_code == 200 and bob.get("/user/alice").status_code == 200
    for path, data in (("/", {"post": "let me in"}), ("/follow/alice", None),
                       ("/send_message/alice", {"message": "hi"}), ("/unfollow/carol", None)):
        response = bob.post(path, data=data, follow_redirects=True)
        assert response.status_code == 200 and REFUSED in response.get_data(as_text=True), path
    with app.app_context():
        assert get("bob").is_following(get("carol"))  # undoing is a change too

    token = token_for(app.test_client(), "bob")
    client = app.test_client()
    assert client.get("/api/timeline", headers=token).status_code == 200
    with app.app_context():
        alice_id = get("alice").id
    for method, path, body in (("POST", "/api/posts", {"body": "api post"}),
                               ("POST", f"/api/users/{alice_id}/follow", None),
                               ("POST", "/api/messages", {"recipient_id": alice_id, "body": "hi"})):
        response = client.open(path, method=method, json=body, headers=token)
        assert response.status_code == 403, (path, response.json)
        assert response.json["message"] == SUSPENDED
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0

    with app.app_context():
        moderation.unsuspend_user(get("mod"), get("bob"))
        assert posts.publish_post(get("bob"), "back again").id


def test_suspension_rules(app, people):
    with app.app_context():
        with pytest.raises(ValidationError):
            moderation.suspend_user(get("mod"), get("mod"), "me")
        with pytest.raises(PermissionDenied):  # a moderator cannot suspend another moderator or an admin
            moderation.suspend_user(get("mod"), get("root"), "coup")
        with pytest.raises(ValidationError, match="reason"):
            moderation.suspend_user(get("mod"), get("bob"), "   ")
        moderation.suspend_user(get("root"), get("mod"), "rogue")  # admins outrank moderators
        with pytest.raises(PermissionDenied):  # a suspended moderator has no permissions left
            moderation.hide_post(get("mod"), db.session.scalar(sa.select(Post)), "x")
        assert get("mod").can("moderate_posts") is False


# -- hidden posts ---------------------------------------------------------------------------------
def test_hidden_posts_leave_timelines_explore_profiles_and_the_api_but_moderators_see_them(app, people):
    with app.app_context():
        post = make_post(get("bob"), "a post to hide")
        post_id = post.id
        moderation.hide_post(get("mod"), post, "rude")

    def shown(client, path):
        return "a post to hide" in client.get(path).get_data(as_text=True)

    alice, mod, bob = sign_in(app, "alice"), sign_in(app, "mod"), sign_in(app, "bob")
    visitor = app.test_client()
    for path in ("/", "/explore", "/user/bob"):
        assert not shown(alice, path), path
        assert not shown(visitor, path), path
    assert shown(mod, "/explore") and shown(mod, "/user/bob")
    assert "Hidden" in mod.get("/explore").get_data(as_text=True)
    assert shown(bob, "/user/bob")  # the author still sees it, marked
    assert alice.get(f"/post/{post_id}").status_code == 404
    assert visitor.get(f"/post/{post_id}").status_code == 404
    assert mod.get(f"/post/{post_id}").status_code == 200
    assert bob.get(f"/post/{post_id}").status_code == 200

    api = app.test_client()
    with app.app_context():
        bob_id = get("bob").id
    bodies = [p["body"] for p in api.get("/api/posts").json["items"]]
    assert "a post to hide" not in bodies and "hello from bob" in bodies
    assert "a post to hide" not in [p["body"] for p in api.get(f"/api/users/{bob_id}/posts").json["items"]]
    timeline = api.get("/api/timeline", headers=token_for(api, "alice")).json["items"]
    assert "a post to hide" not in [p["body"] for p in timeline]

    with app.app_context():
        moderation.unhide_post(get("mod"), db.session.get(Post, post_id), "on second thought")
    assert shown(alice, "/") and shown(visitor, "/explore")


def test_hidden_posts_leave_search_results_except_for_moderators(app, people):
    from microblog import search
    from microblog.services import search as search_service

    with app.app_context():
        post = make_post(get("bob"), "zebra crossing")
        visible = make_post(get("bob"), "zebra stripes")
        search.reindex()
        moderation.hide_post(get("mod"), post, "rude")
        parsed = search_service.parse("zebra")
        ids = [p.id for p in search_service.search_posts(parsed, 1, 10, viewer=get("alice")).items]
        assert ids == [visible.id]
        found = search_service.search_posts(parsed, 1, 10, viewer=get("mod")).items
        assert {p.id for p in found} == {post.id, visible.id}
    assert "zebra crossing" not in sign_in(app, "alice").get("/search?q=zebra").get_data(as_text=True)


def test_moderators_delete_any_post(app, people):
    with app.app_context():
        post = db.session.scalar(sa.select(Post))
        moderation.delete_post(get("mod"), post, "illegal")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
        assert get("bob").post_count == 0
        assert audit_actions()[-1] == ("mod", "post.delete", "bob: hello from bob", "illegal")
        with pytest.raises(PermissionDenied):
            moderation.delete_post(get("alice"), make_post(get("bob")), "mine now")


# -- accounts and roles ---------------------------------------------------------------------------
def test_deleting_an_account_takes_its_posts_follows_and_messages_in_one_transaction(app, people):
    with app.app_context():
        alice, bob, carol = get("alice"), get("bob"), make_user("carol")
        make_follow(bob, carol)
        make_follow(carol, bob)
        make_message(bob, alice, "psst")
        make_message(alice, bob, "what")
        make_message(alice, carol, "unrelated")
        reports.report_user(alice, bob, "spammer")
        token_for(app.test_client(), "bob")
        bob_id = bob.id

        moderation.delete_account(get("root"), get("bob"), "spam network")

        assert db.session.get(User, bob_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers).where(
            sa.or_(followers.c.follower_id == bob_id, followers.c.followed_id == bob_id))) == 0
        assert [m.body for m in db.session.scalars(sa.select(Message))] == ["unrelated"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Token)) == 0
        # The other side's counts are exact again.
        alice, carol = get("alice"), get("carol")
        assert (alice.following_count, carol.follower_count, carol.following_count) == (0, 0, 0)
        # The report about bob is resolved, keeps his name, and alice is told.
        report = db.session.scalar(sa.select(Report))
        assert (report.status, report.user_id, report.target_label) == ("resolved", None, "bob")
        told = sa.select(Notification.payload).where(Notification.user_id == alice.id,
                                                     Notification.kind == "report_outcome")
        assert db.session.scalar(told)["status"] == "resolved"
        entry = db.session.scalar(sa.select(AuditLogEntry).where(AuditLogEntry.action == "user.delete"))
        assert (entry.actor_name, entry.target_label, entry.reason) == ("root", "bob", "spam network")
        assert "1 posts" in entry.details and "2 messages" in entry.details


def test_a_failed_account_deletion_changes_nothing(app, people, monkeypatch):
    from microblog.services import counters

    def broken(_ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr(counters, "recount", broken)
    with app.app_context():
        with pytest.raises(RuntimeError):
            moderation.delete_account(get("root"), get("bob"), "spam")
        db.session.rollback()
        assert get("bob") is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 1
        assert audit_actions() == []


def test_account_deletion_and_role_rules(app, people):
    with app.app_context():
        with pytest.raises(ValidationError):
            moderation.delete_account(get("root"), get("root"), "me")
        with pytest.raises(PermissionDenied):
            moderation.delete_account(get("mod"), get("bob"), "not allowed")
        with pytest.raises(ValidationError):
            roles.change_role(get("root"), get("root"), "user")
        with pytest.raises(PermissionDenied):
            roles.change_role(get("mod"), get("bob"), "moderator")
        with pytest.raises(ValidationError, match="Unknown role"):
            roles.change_role(get("root"), get("bob"), "king")
        roles.change_role(get("root"), get("bob"), "moderator", "helps a lot")
        assert get("bob").role == "moderator"
        assert audit_actions() == [("root", "user.role", "bob", "helps a lot")]
        assert db.session.scalar(sa.select(AuditLogEntry.details)) == "user -> moderator"


def test_the_first_account_is_not_an_admin_and_the_cli_makes_one(app, client, runner):
    response = client.post("/auth/register", data={
        "username": "first", "email": "first@example.com",
        "password": "a-long-password", "password2": "a-long-password"})
    assert response.status_code == 302
    with app.app_context():
        assert get("first").role == "user"
    result = runner.invoke(args=["users", "set-role", "first", "admin", "--reason", "site owner"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert get("first").role == "admin"
        assert audit_actions() == [(None, "user.role", "first", "site owner")]
    page = sign_in(app, "first", "a-long-password").get("/admin/audit").get_data(as_text=True)
    assert "command line" in page


# -- the audit log --------------------------------------------------------------------------------
def test_every_moderation_action_is_in_the_audit_log(app, people):
    with app.app_context():
        post = db.session.scalar(sa.select(Post))
        moderation.hide_post(get("mod"), post, "rude")
        moderation.hide_post(get("mod"), post, "again")  # already hidden: nothing new
        moderation.unhide_post(get("mod"), post, None)
        moderation.suspend_user(get("mod"), get("bob"), "spam")
        moderation.unsuspend_user(get("mod"), get("bob"), "appeal")
        report = reports.report_user(get("alice"), get("bob"), "mean")
        reports.handle_report(get("mod"), report, "dismissed", "not against the rules")
        roles.change_role(get("root"), get("alice"), "moderator")
        moderation.delete_post(get("mod"), post, "final")
        moderation.delete_account(get("root"), get("bob"), "gone")
        assert audit_actions() == [
            ("mod", "post.hide", "bob: hello from bob", "rude"),
            ("mod", "post.unhide", "bob: hello from bob", None),
            ("mod", "user.suspend", "bob", "spam"),
            ("mod", "user.unsuspend", "bob", "appeal"),
            ("mod", "report.dismiss", "bob", "not against the rules"),
            ("root", "user.role", "alice", None),
            ("mod", "post.delete", "bob: hello from bob", "final"),
            ("root", "user.delete", "bob", "gone"),
        ]
        assert all(entry.created_at is not None for entry in db.session.scalars(sa.select(AuditLogEntry)))
    page = sign_in(app, "root").get("/admin/audit").get_data(as_text=True)
    for text in ("Hid a post", "Showed a post again", "Suspended an account", "Lifted a suspension",
                 "Dismissed a report", "Changed a role", "Deleted a post", "Deleted an account", "appeal"):
        assert text in page
    api = app.test_client()
    listed = api.get("/api/admin/audit?per_page=3", headers=token_for(api, "root")).json
    assert [item["action"] for item in listed["items"]] == ["user.delete", "post.delete", "user.role"]
    assert listed["_links"]["next"]


# -- reports --------------------------------------------------------------------------------------
def test_the_report_workflow(app, people):
    with app.app_context():
        post_id = db.session.scalar(sa.select(Post.id))
    alice = sign_in(app, "alice")
    assert alice.get(f"/post/{post_id}/report").status_code == 200
    response = alice.post(f"/post/{post_id}/report", data={"reason": "It is spam"})
    assert response.status_code == 302 and response.headers["Location"] == f"/post/{post_id}"
    again = alice.post(f"/post/{post_id}/report", data={"reason": "Really"})
    assert "already reported" in again.get_data(as_text=True)
    assert alice.post("/user/bob/report", data={"reason": "Spam account"}).status_code == 302
    assert "cannot report yourself" in alice.post("/user/alice/report", data={"reason": "x"}).get_data(
        as_text=True)
    assert sign_in(app, "bob").post(f"/post/{post_id}/report", data={"reason": "x"}).status_code == 200

    # The queue lists both, oldest first; the moderator hides the post, which resolves its report.
    mod = sign_in(app, "mod")
    queue = mod.get("/admin/reports").get_data(as_text=True)
    assert queue.index("It is spam") < queue.index("Spam account")
    assert mod.post(f"/admin/posts/{post_id}/hide", data={"reason": "spam"}).status_code == 302
    with app.app_context():
        post_report, user_report = db.session.scalars(sa.select(Report).order_by(Report.id)).all()
        assert post_report.status == "resolved" and user_report.status == "open"
        user_report_id = user_report.id
    response = mod.post(f"/admin/reports/{user_report_id}", data={"outcome": "dismissed",
                                                                   "note": "Not spam, just enthusiastic"})
    assert response.status_code == 302
    assert "No reports here." in mod.get("/admin/reports").get_data(as_text=True)
    closed = mod.get("/admin/reports?status=dismissed").get_data(as_text=True)
    assert "Not spam, just enthusiastic" in closed
    again = mod.post(f"/admin/reports/{user_report_id}", data={"outcome": "resolved"}, follow_redirects=True)
    assert "already been handled" in again.get_data(as_text=True)

    # Alice is told both outcomes.
    notes = alice.get("/notifications").get_data(as_text=True)
    assert "was reviewed and action was taken" in notes
    assert "the moderators found nothing against the rules" in notes
    with app.app_context():
        kinds = db.session.scalars(sa.select(Notification.payload).where(
            Notification.kind == "report_outcome").order_by(Notification.id)).all()
        assert [(k["status"], k["target"]) for k in kinds] == [("resolved", "bob: hello from bob"),
                                                                ("dismissed", "bob")]


def test_reports_through_the_api(app, people):
    client = app.test_client()
    alice, mod = token_for(client, "alice"), token_for(client, "mod")
    with app.app_context():
        post_id, bob_id = db.session.scalar(sa.select(Post.id)), get("bob").id
    response = client.post("/api/reports", json={"post_id": post_id, "reason": "spam"}, headers=alice)
    assert response.status_code == 201 and response.json["status"] == "open"
    again = client.post("/api/reports", json={"post_id": post_id, "reason": "again"}, headers=alice)
    assert again.status_code == 409
    assert client.post("/api/reports", json={"user_id": bob_id, "post_id": post_id, "reason": "x"},
                       headers=alice).status_code == 422
    assert client.post("/api/reports", json={"user_id": 999, "reason": "x"}, headers=alice).status_code == 404
    blank = client.post("/api/reports", json={"user_id": bob_id, "reason": " "}, headers=alice)
    assert blank.status_code == 422
    queue = client.get("/api/admin/reports", headers=mod).json
    assert [item["reason"] for item in queue["items"]] == ["spam"]
    report_id = queue["items"][0]["id"]
    handled = client.post(f"/api/admin/reports/{report_id}", json={"outcome": "resolved", "note": "thanks"},
                          headers=mod)
    assert handled.status_code == 200 and handled.json["status"] == "resolved"
    assert client.post(f"/api/admin/reports/{report_id}", json={"outcome": "resolved"},
                       headers=mod).status_code == 409
    notes = client.get("/api/notifications", headers=alice).json["items"]
    assert notes[0]["kind"] == "report_outcome" and notes[0]["payload"]["status"] == "resolved"
