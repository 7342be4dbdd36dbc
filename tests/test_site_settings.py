"""The admin area's site settings: who may change them, the audit trail, and what they require."""

from __future__ import annotations

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import AuditLogEntry, SiteSetting, User
from microblog.services import audit, site_settings
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user, token_for
from tests.test_two_factor import enrol, frozen_clock  # noqa: F401 - the clock the codes are made for


def sign_in(client, username: str) -> None:
    response = client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def test_only_administrators_open_the_settings(app, client):
    with app.app_context():
        make_user("mod", role="moderator"), make_user("plain"), make_user("boss", role="admin")
    assert client.get("/admin/settings").status_code == 302  # signed out: to the sign-in page
    for username in ("plain", "mod"):
        visitor = app.test_client()
        sign_in(visitor, username)
        assert visitor.get("/admin/settings").status_code == 403
        assert visitor.post("/admin/settings", data={"staff_two_factor": "y"}).status_code == 403
    sign_in(client, "boss")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Require two-factor authentication for moderators and administrators" in page
    assert 'href="/admin/settings"' in client.get("/admin/audit").get_data(as_text=True)  # the tab
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SiteSetting)) == 0


def test_an_administrator_requires_two_factor_of_staff_and_it_is_audited(app, client):
    with app.app_context():
        make_user("boss", role="admin"), make_user("mod", role="moderator"), make_user("plain")
    sign_in(client, "boss")
    # Not before the administrator's own account has it: the next page would lock them out.
    refused = client.post("/admin/settings", data={"staff_two_factor": "y"})
    assert refused.status_code == 400
    assert "Turn on two-factor authentication for your own account first." in refused.get_data(as_text=True)
    with app.app_context():
        assert not site_settings.staff_two_factor_required()
    enrol(app, client, "boss")
    response = client.post("/admin/settings", data={"staff_two_factor": "y"})
    assert response.headers["Location"] == "/admin/settings"
    with app.app_context():
        assert site_settings.staff_two_factor_required()
        entry = db.session.scalar(sa.select(AuditLogEntry).order_by(AuditLogEntry.id.desc()))
        assert (entry.action, entry.actor_name, entry.target_type, entry.details) == (
            audit.SETTING_CHANGE, "boss", "setting", "on")
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Changed a site setting" in log and "Two-factor authentication for staff" in log

    # Staff without two-factor sign-in see the enrolment page first; everyone else is not asked.
    assert client.get("/explore").status_code == 200
    moderator = app.test_client()
    sign_in(moderator, "mod")
    assert moderator.get("/explore").headers["Location"] == "/auth/two_factor"
    everyone = app.test_client()
    sign_in(everyone, "plain")
    assert everyone.get("/explore").status_code == 200


def test_saving_the_same_value_writes_nothing_and_off_lifts_the_requirement(app, client):
    with app.app_context():
        boss = make_user("boss", role="admin")
        boss.totp_enabled_at, boss.totp_secret = utcnow(), "JBSWY3DPEHPK3PXP"
        assert site_settings.set_staff_two_factor(boss, True) is True
        assert site_settings.set_staff_two_factor(boss, True) is False
        assert site_settings.set_staff_two_factor(boss, False) is True
        assert not site_settings.staff_two_factor_required()
        actions = db.session.scalars(sa.select(AuditLogEntry.details).order_by(AuditLogEntry.id)).all()
        assert actions == ["on", "off"]
    with app.app_context():
        db.session.execute(sa.update(User).values(totp_enabled_at=None, totp_secret=None))
        db.session.commit()
    sign_in(client, "boss")
    assert client.get("/explore").status_code == 200
    response = client.post("/admin/settings", data={}, follow_redirects=True)  # unchecked: stays off
    assert "Nothing changed." in response.get_data(as_text=True)


def test_the_servers_requirement_cannot_be_turned_off_here(make_app):
    app = make_app(REQUIRE_2FA_FOR_STAFF=True)
    with app.app_context():
        boss = make_user("boss", role="admin")
        assert site_settings.staff_two_factor_forced() and site_settings.staff_two_factor_required()
        site_settings.set_staff_two_factor(boss, False)
        assert site_settings.staff_two_factor_required()


def test_the_api_reads_and_changes_the_settings_for_administrators_only(app, client):
    with app.app_context():
        make_user("boss", role="admin"), make_user("mod", role="moderator")
    boss, mod = token_for(client, "boss"), token_for(client, "mod")
    assert client.get("/api/admin/settings").status_code == 401
    assert client.get("/api/admin/settings", headers=mod).status_code == 403
    off = {"require_2fa_for_staff": False}
    assert client.put("/api/admin/settings", headers=mod, json=off).status_code == 403
    assert client.get("/api/admin/settings", headers=boss).get_json() == {
        "require_2fa_for_staff": False, "require_2fa_for_staff_forced": False}

    refused = client.put("/api/admin/settings", headers=boss, json={"require_2fa_for_staff": True})
    assert refused.status_code == 422
    assert refused.get_json()["message"] == "Turn on two-factor authentication for your own account first."
    maybe = {"require_2fa_for_staff": "maybe"}
    assert client.put("/api/admin/settings", headers=boss, json=maybe).status_code == 422
    assert client.put("/api/admin/settings", headers=boss, json={"other": True}).status_code == 422
    with app.app_context():
        db.session.execute(sa.update(User).where(User.username == "boss")
                           .values(totp_enabled_at=utcnow(), totp_secret="JBSWY3DPEHPK3PXP"))
        db.session.commit()
    changed = client.put("/api/admin/settings", headers=boss, json={"require_2fa_for_staff": True})
    assert changed.status_code == 200 and changed.get_json()["require_2fa_for_staff"] is True
    with app.app_context():
        assert site_settings.staff_two_factor_required()
