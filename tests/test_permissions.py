"""Every permission boundary, table-driven: each role against each moderation action, on the web and in
the API. Allowed: the action happens. Refused: 403 (signed in), the sign-in page or 401 (signed out),
and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import AuditLogEntry, Instance, Post, Report, Task, User
from tests.factories import make_post, make_user, token_for

ROLES = ("anonymous", "user", "suspended_moderator", "moderator", "admin")
STAFF = {"moderator", "admin"}
ADMIN = {"admin"}
SIGN_IN = {"username": None, "password": "correct-horse"}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str  # {post}, {report}, {bob} (id) are filled in
    allowed: set[str]
    body: dict[str, Any] | None = None
    changed: Callable[[], bool] | None = None  # inside an app context: did the action happen?


def _bob() -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == "bob"))


def _post() -> Post | None:
    return db.session.scalar(sa.select(Post))


def _report() -> Report:
    return db.session.scalar(sa.select(Report))


def _hidden() -> bool:
    return _post().hidden_at is not None


def _shown_again() -> bool:  # the fixture hides the post first for the "unhide" cases
    return _post().hidden_at is None


def _suspended() -> bool:
    return _bob().suspended_at is not None


def _unsuspended() -> bool:
    return _bob().suspended_at is None


def _instance() -> Instance | None:
    return db.session.scalar(sa.select(Instance).where(Instance.domain == "evil.example"))


def _domain_blocked() -> bool:
    return _instance() is not None and _instance().blocked_at is not None


def _media_rejected() -> bool:
    return _instance() is not None and _instance().reject_media


WEB = [
    Case("dashboard", "GET", "/admin/", ADMIN),
    Case("chart data", "GET", "/admin/charts/signups.json", ADMIN),
    Case("report queue", "GET", "/admin/reports", STAFF),
    Case("close a report", "POST", "/admin/reports/{report}", STAFF, {"outcome": "dismissed"},
         lambda: _report().status == "dismissed"),
    Case("moderate a post (page)", "GET", "/admin/posts/{post}", STAFF),
    Case("hide a post", "POST", "/admin/posts/{post}/hide", STAFF, {"reason": "spam"}, _hidden),
    Case("show a post again", "POST", "/admin/posts/{post}/unhide", STAFF, {"reason": ""}, _shown_again),
    Case("delete a post", "POST", "/admin/posts/{post}/delete", STAFF, {"reason": "spam"},
         lambda: _post() is None),
    Case("accounts", "GET", "/admin/users", STAFF),
    Case("moderate an account (page)", "GET", "/admin/users/bob", STAFF),
    Case("suspend", "POST", "/admin/users/bob/suspend", STAFF, {"reason": "spam"}, _suspended),
    Case("lift a suspension", "POST", "/admin/users/bob/unsuspend", STAFF, {"reason": ""}, _unsuspended),
    Case("change a role", "POST", "/admin/users/bob/role", ADMIN, {"role": "moderator"},
         lambda: _bob().role == "moderator"),
    Case("delete an account", "POST", "/admin/users/bob/delete", ADMIN, {"reason": "spam"},
         lambda: _bob() is None),
    Case("other servers", "GET", "/admin/instances", STAFF),
    Case("block a domain", "POST", "/admin/instances/block", STAFF,
         {"domain": "evil.example", "reason": "spam"}, _domain_blocked),
    Case("unblock a domain", "POST", "/admin/instances/evil.example/unblock", STAFF, None,
         lambda: not _domain_blocked()),
    Case("reject a domain's media", "POST", "/admin/instances/evil.example/reject_media", STAFF, None,
         _media_rejected),
    Case("accept a domain's media", "POST", "/admin/instances/evil.example/accept_media", STAFF, None,
         lambda: not _media_rejected()),
    Case("audit log", "GET", "/admin/audit", ADMIN),
    Case("mail outbox", "GET", "/admin/outbox", ADMIN),
    Case("site settings", "GET", "/admin/settings", ADMIN),
    Case("change site settings", "POST", "/admin/settings", ADMIN, {}),
    Case("export all accounts", "POST", "/admin/exports/users", ADMIN, {},
         lambda: db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1),
]

API = [
    Case("report queue", "GET", "/api/admin/reports", STAFF),
    Case("close a report", "POST", "/api/admin/reports/{report}", STAFF, {"outcome": "resolved"},
         lambda: _report().status == "resolved"),
    Case("hide a post", "POST", "/api/admin/posts/{post}/hide", STAFF, {"reason": "spam"}, _hidden),
    Case("show a post again", "POST", "/api/admin/posts/{post}/unhide", STAFF, {}, _shown_again),
    Case("delete a post", "POST", "/api/admin/posts/{post}/delete", STAFF, {"reason": "spam"},
         lambda: _post() is None),
    Case("read an account", "GET", "/api/admin/users/{bob}", STAFF),
    Case("suspend", "POST", "/api/admin/users/{bob}/suspend", STAFF, {"reason": "spam"}, _suspended),
    Case("lift a suspension", "POST", "/api/admin/users/{bob}/unsuspend", STAFF, {}, _unsuspended),
    Case("change a role", "PUT", "/api/admin/users/{bob}/role", ADMIN, {"role": "moderator"},
         lambda: _bob().role == "moderator"),
    Case("delete an account", "POST", "/api/admin/users/{bob}/delete", ADMIN, {"reason": "spam"},
         lambda: _bob() is None),
    Case("audit log", "GET", "/api/admin/audit", ADMIN),
    Case("mail outbox", "GET", "/api/admin/outbox", ADMIN),
    Case("site settings", "GET", "/api/admin/settings", ADMIN),
    Case("change site settings", "PUT", "/api/admin/settings", ADMIN, {"require_2fa_for_staff": False}),
]


@pytest.fixture
def site(app) -> dict[str, int]:
    """Staff of each kind, a user, and bob with a reported post."""
    with app.app_context():
        make_user("root", role="admin")
        make_user("mod", role="moderator")
        make_user("exmod", role="moderator", suspended_at=sa.func.now())
        make_user("alice")
        bob = make_user("bob")
        post = make_post(bob, "buy cheap watches")
        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        report = Report(reporter_id=alice.id, post_id=post.id, user_id=bob.id, kind="post",
                        target_label="bob: buy", reason="spam")
        db.session.add(report)
        db.session.commit()
        return {"post": post.id, "report": report.id, "bob": bob.id}


# What the suspension guard (microblog/suspension.py) tells a suspended account it sent back.
REFUSED = "Your account is suspended: that change was not made."
ACCOUNT = {"user": "alice", "suspended_moderator": "exmod", "moderator": "mod", "admin": "root"}


def _prepare(app, case: Case) -> None:
    """Put the target in the state the action undoes."""
    with app.app_context():
        if case.name == "show a post again":
            _post().hidden_at = sa.func.now()
        elif case.name == "lift a suspension":
            _bob().suspended_at = sa.func.now()
        elif case.name in ("unblock a domain", "accept a domain's media"):
            db.session.add(Instance(domain="evil.example", blocked_at=sa.func.now() if "block" in case.name
                                    else None, reject_media="media" in case.name))
        db.session.commit()


def _changed(app, case: Case) -> bool | None:
    if case.changed is None:
        return None
    with app.app_context():
        return case.changed()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", WEB, ids=lambda case: case.name)
def test_web(app, site, case: Case, role: str):
    _prepare(app, case)
    client = app.test_client()
    if role != "anonymous":
        response = client.post("/auth/login", data={**SIGN_IN, "username": ACCOUNT[role]})
        assert response.status_code == 302
    response = client.open(case.path.format(**site), method=case.method, data=case.body or {})
    if role in case.allowed:
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
        if response.status_code == 302:
            assert "/auth/login" not in response.headers["Location"]
        assert _changed(app, case) in (None, True)
    else:
        if role == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        elif role == "suspended_moderator" and case.method != "GET":  # refused before the view, sent back
            assert response.status_code == 302 and "/auth/login" not in response.headers["Location"]
            with client.session_transaction() as session:
                assert ("danger", REFUSED) in session["_flashes"]
        else:
            assert response.status_code == 403
        assert _changed(app, case) in (None, False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", API, ids=lambda case: case.name)
def test_api(app, site, case: Case, role: str):
    _prepare(app, case)
    client = app.test_client()
    headers = token_for(client, ACCOUNT[role]) if role != "anonymous" else {}
    response = client.open(case.path.format(**site), method=case.method, json=case.body, headers=headers)
    if role in case.allowed:
        assert response.status_code in (200, 204), response.json
        assert _changed(app, case) in (None, True)
    else:
        assert response.status_code == (401 if role == "anonymous" else 403), response.json
        assert response.json["error"]
        assert _changed(app, case) in (None, False)


def test_every_admin_route_and_api_operation_is_in_the_tables(app):
    """A new admin route without a row here would escape the permission tests."""
    tested = {(case.method, case.path.split("{")[0].rstrip("/")) for case in WEB + API}
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith(("/admin", "/api/admin"))]
    for rule in rules:
        prefix = rule.rule.split("<")[0].rstrip("/")
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if rule.endpoint in {"admin.export_task", "admin.export_status", "admin.download_export"}:
            continue  # a task's pages: checked in test_admin.py (only the admin who started it)
        assert any(method in methods and path.startswith(prefix or "/admin")
                   for method, path in tested), rule.rule


def test_the_audit_log_has_no_route_that_changes_it(app):
    audit_rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert audit_rules and all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)
    with app.app_context():
        user = make_user("root", role="admin")
        entry = AuditLogEntry(actor_id=user.id, actor_name="root", action="post.hide", target_type="post",
                              target_id=1, target_label="x", reason="spam")
        db.session.add(entry)
        db.session.commit()
        entry.reason = "changed my mind"
        with pytest.raises(TypeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditLogEntry, entry.id))
        with pytest.raises(TypeError, match="append-only"):
            db.session.commit()
