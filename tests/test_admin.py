"""The admin area: dashboard counts, the chart data against a known set of rows, the profile's calendar,
site exports (CSV safety, progress, owner-only download) and the outbox page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from microblog import mail
from microblog.extensions import db
from microblog.models import OutboxMessage, Post, Task, User
from microblog.services import admin_exports, stats
from microblog.timeutil import utcnow
from tests.factories import DEFAULT_PASSWORD, make_follow, make_message, make_post, make_user, token_for


def sign_in(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def day(days_ago: int) -> datetime:
    """Half past midnight (UTC) ``days_ago`` days ago: safely inside that day."""
    return datetime.combine(utcnow().date() - timedelta(days=days_ago), time(0, 30), tzinfo=UTC)


@pytest.fixture
def seeded(app):
    """A known site: sign-ups, posts, follows, messages and activity on chosen days."""
    with app.app_context():
        root = make_user("root", role="admin", created_at=day(200), last_seen=day(0))
        alice = make_user("alice", created_at=day(5), last_seen=day(2))
        bob = make_user("bob", created_at=day(5), last_seen=day(20))
        carol = make_user("carol", created_at=day(0), last_seen=day(1))
        dave = make_user("dave", created_at=day(100), last_seen=day(100))
        for days_ago in (0, 0, 10, 10, 300):
            make_post(alice, timestamp=day(days_ago))
        make_post(bob, timestamp=day(30))
        hidden = make_post(bob, "hidden", timestamp=day(0))
        hidden.hidden_at = utcnow()
        for follower in (alice, carol, dave):
            make_follow(follower, bob)
        make_follow(bob, alice)
        make_message(alice, bob)
        make_message(bob, alice)
        for user, days_ago in ((alice, 0), (alice, 1), (bob, 1), (carol, 1), (root, 89), (root, 90)):
            stats.mark_active(user.id, day(days_ago).date())
        db.session.commit()
        del root


def test_dashboard_counts(app, seeded):
    page = sign_in(app, "root").get("/admin/").get_data(as_text=True)
    with app.app_context():
        totals = stats.totals()
    # root was seen today, carol yesterday, alice two days ago; bob 20 days ago; dave 100 days ago.
    assert totals == stats.Totals(users=5, active_7_days=3, active_30_days=4, posts=7, follows=4, messages=2)
    assert "At a glance" in page
    for url in ("signups", "posts", "active", "top-posters", "followers"):
        assert f'data-chart-url="/admin/charts/{url}.json"' in page
    assert re.search(r'"/static/vendor/chartjs/chart\.umd\.min\.[0-9a-f]{8}\.js"', page)
    assert re.search(r'"/static/charts\.[0-9a-f]{8}\.js"', page)


def series(client, name: str) -> dict[str, int]:
    data = client.get(f"/admin/charts/{name}.json").json
    assert len(data["keys"]) == len(data["labels"]) == len(data["values"])
    return dict(zip(data["keys"], data["values"], strict=True))


def test_chart_data_matches_the_seeded_rows(app, seeded):
    admin = sign_in(app, "root")
    today = utcnow().date()

    def iso(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    signups = series(admin, "signups")
    assert len(signups) == 90 and list(signups)[-1] == iso(0) and list(signups)[0] == iso(89)
    assert {k: v for k, v in signups.items() if v} == {iso(5): 2, iso(0): 1}

    posts = series(admin, "posts")
    assert {k: v for k, v in posts.items() if v} == {iso(0): 3, iso(10): 2, iso(30): 1}

    # carol's first request today records the day (root's last request was earlier today already).
    assert sign_in(app, "carol").get("/").status_code == 200
    active = series(admin, "active")
    assert active[iso(1)] == 3 and active[iso(89)] == 1 and iso(90) not in active
    assert active[iso(0)] == 2  # alice and carol

    top = admin.get("/admin/charts/top-posters.json").json
    assert list(zip(top["labels"], top["values"], strict=True)) == [("alice", 5), ("bob", 2)]
    assert top["summary"] == "Top posters: alice (5) and bob (2)."

    followers = admin.get("/admin/charts/followers.json").json
    assert followers["labels"] == ["0", "1–4", "5–9", "10–49", "50–99", "100–999", "1,000 or more"]
    assert followers["values"] == [3, 2, 0, 0, 0, 0, 0]  # root, carol, dave: none; alice 1, bob 3

    summary = admin.get("/admin/charts/signups.json").json["summary"]
    assert summary.startswith("Sign-ups per day: 3 in the last 90 days; the most in one day: 2, on ")
    assert admin.get("/admin/charts/nothing.json").status_code == 404


def test_chart_data_is_translated(app, seeded):
    admin = sign_in(app, "root")
    data = admin.get("/admin/charts/followers.json", headers={"Accept-Language": "de"}).json
    assert data["labels"][-1] == "1.000 or more" or "1.000" in data["labels"][-1]  # German digit grouping
    posts = admin.get("/admin/charts/posts.json", headers={"Accept-Language": "fr"}).json
    month = (utcnow().date()).strftime("%Y")
    assert month in posts["labels"][-1]


def test_the_profile_calendar_counts_a_year_of_visible_posts(app, seeded):
    client = app.test_client()
    data = client.get("/user/alice/activity.json").json
    today = utcnow().date()
    assert data["type"] == "calendar" and len(data["keys"]) == 365 and data["keys"][-1] == today.isoformat()
    counts = {k: v for k, v in zip(data["keys"], data["values"], strict=True) if v}
    assert counts == {today.isoformat(): 2, (today - timedelta(days=10)).isoformat(): 2,
                      (today - timedelta(days=300)).isoformat(): 2 - 1}
    assert data["summary"].startswith("alice wrote 5 posts in the last year; the most in one day: 2, on ")
    assert len(data["weekdays"]) == 7 and data["tooltips"][-1].startswith("2 posts on ")
    bob = client.get("/user/bob/activity.json").json
    assert sum(bob["values"]) == 1  # his hidden post is not counted
    assert client.get("/user/nobody/activity.json").status_code == 404
    page = client.get("/user/alice").get_data(as_text=True)
    assert 'data-chart-url="/user/alice/activity.json"' in page


def test_admin_exports_are_csv_safe_and_only_for_their_admin(app, seeded):
    with app.app_context():
        make_post(db.session.scalar(sa.select(User).where(User.username == "carol")), "=HYPERLINK(\"evil\")")
        make_user("root2", role="admin")
    admin = sign_in(app, "root")
    for kind, header in (("users", "id,username,email,role"), ("posts", "id,user_id,username,created_at")):
        response = admin.post(f"/admin/exports/{kind}")
        assert response.status_code == 302
        task_url = response.headers["Location"]
        status = admin.get(task_url + ".json").json
        assert status["status"] == "done" and status["progress"] == 100
        page = admin.get(task_url).get_data(as_text=True)
        assert "Download the export" in page and re.search(r"/static/tasks\.[0-9a-f]{8}\.js", page)
        download = admin.get(status["download_url"])
        assert download.status_code == 200 and download.mimetype == "text/csv"
        text = download.get_data().decode("utf-8-sig")
        assert text.startswith(header)
        rows = list(csv.reader(io.StringIO(text)))
        if kind == "posts":
            assert "'=HYPERLINK(\"evil\")" in [row[-1] for row in rows]
            assert len(rows) == 1 + 8
        else:
            assert len(rows) == 1 + 6
        # Another admin cannot see it.
        other = sign_in(app, "root2")
        assert other.get(task_url).status_code == 404
        assert other.get(status["download_url"]).status_code == 404
    with app.app_context():
        tasks = db.session.scalars(sa.select(Task)).all()
        assert {admin_exports.kind_of(task) for task in tasks} == {"users", "posts"}


def test_admin_exports_report_progress(app, seeded, monkeypatch):
    from microblog.services import export_writers, tasks

    monkeypatch.setattr(export_writers, "BATCH_SIZE", 2)
    seen: list[int] = []
    report = tasks.report_progress

    def spy(task, written, total):
        seen.append(written * 100 // total)
        report(task, written, total)

    monkeypatch.setattr(tasks, "report_progress", spy)
    with app.app_context():
        admin_exports.start(db.session.scalar(sa.select(User).where(User.role == "admin")), "posts")
    assert seen[0] < seen[-1] == 100 and len(seen) >= 3


def test_the_outbox_page_lists_messages_by_status(app, seeded):
    with app.app_context():
        mail.queue_email("x@example.com", "Hello there", "confirm_email",
                           user=db.session.scalar(sa.select(User)), url="http://x")
        db.session.add(OutboxMessage(recipient="y@example.com", subject="Broken", text_body="t",
                                     html_body="h", status="failed", attempts=6,
                                     last_error="SMTPServerDisconnected: gone"))
        db.session.commit()
    admin = sign_in(app, "root")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Hello there" in page and "Broken" in page and "flask mail retry" in page
    failed = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Broken" in failed and "Hello there" not in failed
    assert admin.get("/admin/outbox?status=nonsense").status_code == 404
    client = app.test_client()
    listed = client.get("/api/admin/outbox?status=failed", headers=token_for(client, "root")).json
    assert listed["counts"]["failed"] == 1 and [m["subject"] for m in listed["items"]] == ["Broken"]


def test_navbar_links_by_role(app, seeded):
    with app.app_context():
        make_user("mod", role="moderator")
    assert 'href="/admin/"' in sign_in(app, "root").get("/").get_data(as_text=True)
    mod_page = sign_in(app, "mod").get("/").get_data(as_text=True)
    assert 'href="/admin/reports"' in mod_page and 'href="/admin/"' not in mod_page
    user_page = sign_in(app, "alice").get("/").get_data(as_text=True)
    assert "/admin" not in user_page


def test_post_permalinks(app, seeded):
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.hidden_at.is_(None)).order_by(Post.id))
        post_id = post.id
    client = app.test_client()
    page = client.get("/explore").get_data(as_text=True)
    assert f'href="/post/{post_id}"' in page
    single = client.get(f"/post/{post_id}").get_data(as_text=True)
    assert "Report this post" not in single  # visitors sign in first
    assert "Report this post" in sign_in(app, "bob").get(f"/post/{post_id}").get_data(as_text=True)
    assert "Report this post" not in sign_in(app, "alice").get(f"/post/{post_id}").get_data(as_text=True)
    assert client.get("/post/999999").status_code == 404
