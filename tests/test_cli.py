"""Command-line tools: creating administrators and changing roles."""

from __future__ import annotations

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import User
from tests.factories import make_user


def test_create_admin(runner, app):
    result = runner.invoke(
        args=["users", "create-admin", "--username", "root_admin", "--email", "Root@Example.com"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.username, user.email, user.role) == ("root_admin", "root@example.com", "admin")
        assert user.check_password("a-long-password")


def test_create_admin_promotes_an_existing_user(runner, app):
    with app.app_context():
        make_user("alice")
    result = runner.invoke(
        args=["users", "create-admin", "--username", "alice", "--email", "x@example.com"],
        input="whatever-pass\nwhatever-pass\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.role)) == "admin"


def test_create_admin_reports_bad_input(runner, app):
    result = runner.invoke(
        args=["users", "create-admin", "--username", "x", "--email", "x@example.com"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code != 0
    assert "3 to 32 characters" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_set_role(runner, app):
    with app.app_context():
        make_user("alice")
    assert runner.invoke(args=["users", "set-role", "alice", "moderator"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(User.role)) == "moderator"
    assert runner.invoke(args=["users", "set-role", "alice", "king"]).exit_code != 0
    assert runner.invoke(args=["users", "set-role", "nobody", "admin"]).exit_code != 0
