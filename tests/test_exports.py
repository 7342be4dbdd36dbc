"""Exports of a user's posts: CSV and JSON files, progress, downloads, expiry, email, security."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from microblog.extensions import db, mail
from microblog.models import (
    OUTBOX_SENT,
    TASK_DONE,
    TASK_FAILED,
    TASK_QUEUED,
    TASK_RUNNING,
    OutboxMessage,
    Task,
    User,
)
from microblog.services import export_writers, exports, tasks
from microblog.services.exports import CSV_HEADER
from microblog.timeutil import utcnow
from tests.factories import make_post, make_posts, make_user

TASK_URL = re.compile(r"^/tasks/([0-9a-f-]{36})$")


@pytest.fixture
def exports_dir(tmp_path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def app(make_app, exports_dir):
    # Config's EXPORTS_DIR defaults to the real instance folder: keep test files in tmp_path.
    return make_app(EXPORTS_DIR=str(exports_dir))


@pytest.fixture
def alice(app) -> int:
    with app.app_context():
        return make_user("alice").id


def start(client, fmt: str = "csv") -> str:
    """POST the export form and return the new task's id from the redirect."""
    response = client.post(f"/export/{fmt}")
    assert response.status_code == 302
    match = TASK_URL.match(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def get_task(app, task_id: str) -> Task:
    with app.app_context():
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


def export_path(app, task_id: str) -> Path:
    task = get_task(app, task_id)
    assert task.status == TASK_DONE, task.error
    return Path(app.config["EXPORTS_DIR"]) / task.result


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def iso(value) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


BODIES = [
    "plain post",
    'comma, "quotes" and ünïcödé ✓ 日本語',
    "two\nlines",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
]


# -- file contents ------------------------------------------------------------------------------
def test_csv_export_round_trips(app, client, auth, alice):
    start_time = utcnow() - timedelta(hours=1)
    with app.app_context():
        user = db.session.get(User, alice)
        posts = [make_post(user, body, timestamp=start_time + timedelta(minutes=i))
                 for i, body in enumerate(BODIES)]
        posts[1].visibility, posts[1].summary, posts[1].in_reply_to_id = "followers", "=cw", posts[0].id
        posts[1].edited_at = posts[1].timestamp + timedelta(seconds=30)
        db.session.commit()
        expected = [[str(p.id), iso(p.timestamp), export_writers.csv_safe(p.body), p.visibility,
                     export_writers.csv_safe(p.summary or ""), str(p.in_reply_to_id or ""),
                     iso(p.edited_at) if p.edited_at else "", "", ""] for p in posts]
        make_post(make_user("bob"), "not alice's")
    auth.login()
    task_id = start(client, "csv")
    rows = read_csv(export_path(app, task_id))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1:] == expected  # oldest first
    assert rows[2][3:6] == ["followers", "'=cw", rows[1][0]]
    assert rows[4][2] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[1][1])


def test_json_export_round_trips(app, client, auth, alice):
    start_time = utcnow() - timedelta(hours=1)
    with app.app_context():
        user = db.session.get(User, alice)
        posts = [make_post(user, body, timestamp=start_time + timedelta(minutes=i))
                 for i, body in enumerate(BODIES)]
        posts[2].summary, posts[2].visibility, posts[2].in_reply_to_id = "a warning", "unlisted", posts[1].id
        db.session.commit()
        expected = [{"id": p.id, "created_at": iso(p.timestamp), "body": p.body, "visibility": p.visibility,
                     "content_warning": p.summary, "in_reply_to_id": p.in_reply_to_id, "edited_at": None,
                     "media": []}
                    for p in posts]
    auth.login()
    before = utcnow().replace(microsecond=0)
    task_id = start(client, "json")
    path = export_path(app, task_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["username"] == "alice"
    assert data["profile"] == {"avatar_url": None, "header_url": None}  # the identicon, no header
    assert data["posts"] == expected  # JSON is data, not a spreadsheet: bodies are unchanged
    assert data["exported_at"] >= iso(before)
    assert "日本語" in path.read_text(encoding="utf-8")  # real UTF-8, not \u escapes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals sign
        ("hello = world", "hello = world"),
        ("a-b", "a-b"),
        ("email@example.com", "email@example.com"),
        ("", ""),
        (42, 42),
        (None, None),
    ],
)
def test_csv_safe_neutralises_formulas(value, expected):
    assert export_writers.csv_safe(value) == expected


@pytest.mark.parametrize("body", ["=1+1", "+SUM(1)", "-2+3", "@A1", "=HYPERLINK(\"x\")"])
def test_formula_posts_are_text_in_the_csv(app, client, auth, alice, body):
    with app.app_context():
        make_post(db.session.get(User, alice), body)
    auth.login()
    rows = read_csv(export_path(app, start(client, "csv")))
    assert rows[1][2] == "'" + body


def test_a_user_without_posts_gets_a_header_only_csv(app, client, auth, alice):
    auth.login()
    task_id = start(client, "csv")
    assert read_csv(export_path(app, task_id)) == [list(CSV_HEADER)]
    assert get_task(app, task_id).progress == 100


def test_a_user_without_posts_gets_an_empty_json_list(app, client, auth, alice):
    auth.login()
    data = json.loads(export_path(app, start(client, "json")).read_text(encoding="utf-8"))
    assert data["posts"] == [] and data["username"] == "alice"


# -- the job ------------------------------------------------------------------------------------
def test_progress_rises_in_batches_to_100(app, client, auth, alice, monkeypatch):
    monkeypatch.setattr(export_writers, "BATCH_SIZE", 3)
    same_time = utcnow() - timedelta(days=1)
    with app.app_context():
        user = db.session.get(User, alice)
        make_posts(user, 6)
        # Posts with one timestamp must neither be skipped nor repeated across batch boundaries.
        for i in range(4):
            make_post(user, f"same second {i}", timestamp=same_time)
    seen: list[int] = []
    report = tasks.report_progress

    def spy(task, written, total):
        report(task, written, total)
        seen.append(task.progress)

    monkeypatch.setattr(tasks, "report_progress", spy)
    auth.login()
    task_id = start(client, "csv")
    assert seen == [30, 60, 90, 99]
    task = get_task(app, task_id)
    assert (task.status, task.progress, task.error) == (TASK_DONE, 100, None)
    assert task.finished_at is not None
    rows = read_csv(export_path(app, task_id))[1:]
    assert len(rows) == 10 and len({row[0] for row in rows}) == 10
    assert [row[2] for row in rows[:4]] == [f"same second {i}" for i in range(4)]


def test_the_file_name_is_unguessable(app, client, auth, alice):
    auth.login()
    first, second = export_path(app, start(client)), export_path(app, start(client))
    assert first.name != second.name
    assert re.fullmatch(r"posts-[A-Za-z0-9_-]{32}\.csv", first.name)
    assert not list(first.parent.glob("*.partial"))


def test_a_failing_export_is_marked_failed_and_leaves_no_file(app, client, auth, alice, monkeypatch):
    with app.app_context():
        make_posts(db.session.get(User, alice), 3)

    def boom(self, rows):
        raise OSError("disk full")

    monkeypatch.setattr(export_writers.CsvWriter, "write", boom)
    auth.login()
    task_id = start(client, "csv")
    task = get_task(app, task_id)
    assert task.status == TASK_FAILED and "disk full" in task.error and task.result is None
    assert list(Path(app.config["EXPORTS_DIR"]).iterdir()) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    status = client.get(f"/tasks/{task_id}.json").get_json()
    assert status["status"] == "failed" and status["download_url"] is None
    assert "disk full" not in json.dumps(status)  # internal errors stay in the log
    # A failed export does not block the next one.
    monkeypatch.undo()
    assert get_task(app, start(client, "csv")).status == TASK_DONE


def test_the_job_runs_once(app, client, auth, alice):
    auth.login()
    task_id = start(client)
    with app.app_context():
        assert exports.export_posts(task_id) == "skipped"
        assert exports.export_posts("no-such-task") == "skipped"


# -- one export at a time -----------------------------------------------------------------------
def test_a_second_export_waits_for_the_first(app, client, auth, alice):
    with app.app_context():
        db.session.add(Task(id="11111111-1111-4111-8111-111111111111", name="export_csv",
                            description="running", user_id=alice, status=TASK_RUNNING, progress=40))
        db.session.commit()
    auth.login()
    response = client.post("/export/json", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks/11111111-1111-4111-8111-111111111111"
    assert "still being prepared" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1
        with pytest.raises(exports.ExportInProgress):
            exports.start_export(db.session.get(User, alice), "csv")


def test_an_abandoned_export_does_not_block_forever(app, client, auth, alice):
    with app.app_context():
        db.session.add(Task(id="22222222-2222-4222-8222-222222222222", name="export_csv",
                            description="dead worker", user_id=alice, status=TASK_QUEUED,
                            created_at=utcnow() - tasks.STALE_AFTER - timedelta(minutes=1)))
        db.session.commit()
    auth.login()
    new_id = start(client, "csv")
    assert get_task(app, new_id).status == TASK_DONE
    assert get_task(app, "22222222-2222-4222-8222-222222222222").status == TASK_FAILED


def test_other_users_exports_do_not_block(app, client, auth, alice):
    with app.app_context():
        bob = make_user("bob")
        db.session.add(Task(id="33333333-3333-4333-8333-333333333333", name="export_csv",
                            description="bob's", user_id=bob.id, status=TASK_RUNNING))
        db.session.commit()
    auth.login()
    assert get_task(app, start(client)).status == TASK_DONE


def test_unknown_formats_are_refused(app, client, auth, alice):
    auth.login()
    assert client.post("/export/xlsx").status_code == 404
    with app.app_context():
        with pytest.raises(exports.ValidationError):
            exports.start_export(db.session.get(User, alice), "xml")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


# -- pages and downloads ------------------------------------------------------------------------
def test_the_profile_offers_exports_to_its_owner_only(app, client, auth, alice):
    with app.app_context():
        make_user("bob")
    auth.login()
    own = client.get("/user/alice").get_data(as_text=True)
    assert 'action="/export/csv" method="post"' in own and 'action="/export/json" method="post"' in own
    assert "Export my posts (CSV)" in own and "Export my posts (JSON)" in own
    assert "/export/csv" not in client.get("/user/bob").get_data(as_text=True)


def test_the_task_page_shows_an_accessible_progress_bar(app, client, auth, alice):
    with app.app_context():
        db.session.add(Task(id="44444444-4444-4444-8444-444444444444", name="export_json",
                            description="x", user_id=alice, status=TASK_RUNNING, progress=42))
        db.session.commit()
    auth.login()
    response = client.get("/tasks/44444444-4444-4444-8444-444444444444")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="progressbar"' in html
    assert 'aria-valuenow="42"' in html and 'aria-valuemin="0"' in html and 'aria-valuemax="100"' in html
    assert 'data-status-url="/tasks/44444444-4444-4444-8444-444444444444.json"' in html
    script = re.search(r'src="(/static/tasks\.[0-9a-f]{8}\.js)"', html)
    assert script
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "no inline scripts"
    assert "data-task-download hidden" in html
    assert "Exporting your posts: 42%<" in html
    assert client.get(script.group(1)).status_code == 200


def test_the_task_page_links_to_a_finished_export(app, client, auth, alice):
    auth.login()
    task_id = start(client)
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'href="/export/{task_id}/download"' in html
    assert 'aria-valuenow="100"' in html and "Your export is ready." in html


def test_the_status_json(app, client, auth, alice):
    with app.app_context():
        make_posts(db.session.get(User, alice), 2)
        db.session.add(Task(id="55555555-5555-4555-8555-555555555555", name="export_csv",
                            description="x", user_id=alice, status=TASK_QUEUED))
        db.session.commit()
    auth.login()
    queued = client.get("/tasks/55555555-5555-4555-8555-555555555555.json")
    assert queued.status_code == 200 and queued.mimetype == "application/json"
    assert queued.headers["Cache-Control"] == "no-store"
    body = queued.get_json()
    assert (body["status"], body["progress"], body["download_url"]) == ("queued", 0, None)

    with app.app_context():
        db.session.delete(db.session.get(Task, "55555555-5555-4555-8555-555555555555"))
        db.session.commit()
    task_id = start(client, "json")
    done = client.get(f"/tasks/{task_id}.json").get_json()
    assert done["status"] == "done" and done["progress"] == 100 and done["format"] == "json"
    assert done["download_url"] == f"/export/{task_id}/download"
    assert done["expires_at"].endswith("Z")
    assert client.get(done["download_url"]).status_code == 200


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("csv", "text/csv; charset=utf-8"), ("json", "application/json")]
)
def test_the_owner_downloads_the_file(app, client, auth, alice, fmt, content_type):
    with app.app_context():
        make_posts(db.session.get(User, alice), 3)
    auth.login()
    task_id = start(client, fmt)
    response = client.get(f"/export/{task_id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(rf"filename=microblog-alice-posts-\d{{8}}\.{fmt}", disposition)
    assert "no-store" in response.headers["Cache-Control"]
    assert response.data == export_path(app, task_id).read_bytes()
    response.close()


def test_other_people_cannot_see_or_download_an_export(app, client, auth, alice):
    with app.app_context():
        make_user("bob")
    auth.login()
    task_id = start(client)
    auth.logout()
    assert client.get(f"/export/{task_id}/download").status_code == 302  # sign in first
    assert client.get(f"/tasks/{task_id}.json").status_code == 302
    auth.login("bob")
    for url in (f"/export/{task_id}/download", f"/tasks/{task_id}", f"/tasks/{task_id}.json"):
        assert client.get(url).status_code == 404, url
    assert client.get("/export/not-a-task/download").status_code == 404
    assert client.get("/tasks/" + "x" * 300).status_code == 404


def test_an_expired_export_is_gone(app, client, auth, alice):
    auth.login()
    task_id = start(client)
    assert client.get(f"/export/{task_id}/download").status_code == 200
    with app.app_context():
        task = db.session.get(Task, task_id)
        task.finished_at = utcnow() - timedelta(hours=app.config["EXPORT_RETENTION_HOURS"], seconds=1)
        db.session.commit()
    assert client.get(f"/export/{task_id}/download").status_code == 404
    status = client.get(f"/tasks/{task_id}.json").get_json()
    assert status["download_url"] is None and "expired" in status["message"]


def test_zero_retention_expires_at_once(make_app, exports_dir):
    app = make_app(EXPORTS_DIR=str(exports_dir), EXPORT_RETENTION_HOURS=0)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    task_id = start(client)
    assert get_task(app, task_id).status == TASK_DONE
    assert client.get(f"/export/{task_id}/download").status_code == 404


def test_a_missing_file_is_a_404(app, client, auth, alice):
    auth.login()
    task_id = start(client)
    export_path(app, task_id).unlink()
    assert client.get(f"/export/{task_id}/download").status_code == 404


def test_purge_deletes_only_old_export_files(app, client, auth, alice):
    auth.login()
    fresh = export_path(app, start(client, "csv"))
    old = export_path(app, start(client, "json"))
    directory = old.parent
    long_ago = time.time() - (app.config["EXPORT_RETENTION_HOURS"] + 1) * 3600
    os.utime(old, (long_ago, long_ago))
    stranger = directory / "notes.txt"
    stranger.write_text("not ours")
    os.utime(stranger, (long_ago, long_ago))
    writing = directory / "posts-abcdefghijklmnopqrstuvwxyz.csv.partial"
    writing.write_text("being written")
    dead = directory / "posts-zyxwvutsrqponmlkjihgfedcba.json.partial"
    dead.write_text("its job died")
    died = time.time() - tasks.STALE_AFTER.total_seconds() - 60
    os.utime(dead, (died, died))
    with app.app_context():
        db.session.add(Task(id="66666666-6666-4666-8666-666666666666", name="export_csv",
                            description="dead", user_id=alice, status=TASK_RUNNING,
                            created_at=utcnow() - timedelta(days=1)))
        db.session.commit()
        assert exports.purge_expired_exports() == 2
    assert not old.exists() and not dead.exists()
    assert fresh.exists() and stranger.exists() and writing.exists()
    assert get_task(app, "66666666-6666-4666-8666-666666666666").status == TASK_FAILED


def test_purge_is_registered_and_copes_without_a_folder(app):
    from microblog import jobs

    assert exports.purge_expired_exports in jobs.PERIODIC
    with app.app_context():
        assert exports.purge_expired_exports() == 0


def test_export_routes_need_post_and_a_csrf_token(make_app, exports_dir):
    app = make_app(EXPORTS_DIR=str(exports_dir), WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse",
                                     "csrf_token": token.group(1)})
    assert client.get("/export/csv").status_code == 405
    assert client.post("/export/csv").status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0
    profile = client.get("/user/alice").get_data(as_text=True)
    form = re.search(r'action="/export/csv" method="post".*?name="csrf_token" value="([^"]+)"', profile, re.S)
    response = client.post("/export/csv", data={"csrf_token": form.group(1)})
    assert response.status_code == 302 and TASK_URL.match(response.headers["Location"])


def test_exports_need_sign_in(app, client):
    response = client.post("/export/csv")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# -- email --------------------------------------------------------------------------------------
def test_the_file_is_emailed_as_an_attachment(app, client, auth, alice, caplog):
    with app.app_context():
        make_posts(db.session.get(User, alice), 2)
    auth.login()
    with caplog.at_level("WARNING", logger="microblog.mail"):
        task_id = start(client, "csv")
    path = export_path(app, task_id)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        # No MAIL_SERVER: the message is logged and counts as sent.
        assert message.status == OUTBOX_SENT
        assert message.recipient == "alice@example.com"
        assert message.subject == "Your Microblog export is ready"
        assert message.attachment_path == str(path)
        assert re.fullmatch(r"microblog-alice-posts-\d{8}\.csv", message.attachment_name)
        assert message.attachment_type == "text/csv"
        link = f"http://microblog.test/export/{task_id}/download"
        assert link in message.text_body and link in message.html_body
        assert "2 posts (CSV)" in message.text_body and "attached" in message.text_body
    assert "Your Microblog export is ready" in caplog.text


def test_the_attachment_reaches_the_mailer(make_app, exports_dir):
    # TESTING suppresses the real send, but Flask-Mail still records the message it built.
    app = make_app(EXPORTS_DIR=str(exports_dir), MAIL_SERVER="smtp.invalid")
    client = app.test_client()
    with app.app_context():
        make_post(make_user("alice"), "=1+1")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    with mail.record_messages() as outbox:
        task_id = start(client, "json")
    assert len(outbox) == 1
    (attachment,) = outbox[0].attachments
    assert attachment.filename.endswith(".json") and attachment.content_type == "application/json"
    assert json.loads(attachment.data)["posts"][0]["body"] == "=1+1"
    assert attachment.data == export_path(app, task_id).read_bytes()


def test_a_large_file_is_linked_not_attached(app, client, auth, alice, monkeypatch):
    monkeypatch.setattr(exports, "ATTACHMENT_MAX_BYTES", 10)
    with app.app_context():
        make_posts(db.session.get(User, alice), 2)
    auth.login()
    task_id = start(client)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.attachment_path is None
        assert "too large to attach" in message.text_body
        assert f"/export/{task_id}/download" in message.text_body


def test_a_mail_failure_does_not_fail_the_export(app, client, auth, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(exports.mail, "queue_email", broken)
    auth.login()
    task_id = start(client)
    assert get_task(app, task_id).status == TASK_DONE
    assert client.get(f"/export/{task_id}/download").status_code == 200


def test_the_email_gives_the_expiry_in_the_readers_time_zone(app, client, auth, alice):
    with app.app_context():
        db.session.get(User, alice).timezone = "Asia/Tokyo"
        db.session.commit()
    auth.login()
    task_id = start(client)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        expiry = tasks.expires_at(db.session.get(Task, task_id))
    local = expiry.astimezone(ZoneInfo("Asia/Tokyo"))
    assert "(Asia/Tokyo)" in message.text_body
    assert local.strftime("%-I:%M") in message.text_body


# -- images ---------------------------------------------------------------------------------------
SITE = "http://microblog.test"  # TestConfig.SITE_URL: exported links are absolute


def _post_with_images(user: User, body: str, *descriptions: str | None) -> int:
    from microblog.services import media, posts
    from tests import media_samples

    uploads = [media.check_upload(media_samples.jpeg_bytes(40 + i, 30, (i * 70, 90, 20)), description)
               for i, description in enumerate(descriptions)]
    return posts.publish_post(user, body, uploads=uploads).id


def _stored(app, post_id: int) -> list:
    from microblog.services import media

    with app.app_context():
        items = media.media_of_posts([post_id])[post_id]
        db.session.expunge_all()
        return items


def test_json_export_links_the_images_and_the_profile_pictures(app, client, auth, alice):
    from microblog.services import profile_media
    from tests import media_samples

    with app.app_context():
        user = db.session.get(User, alice)
        avatar = profile_media.set_picture(user, "avatar", media_samples.jpeg_bytes(500, 500))
        header = profile_media.set_picture(user, "header", media_samples.png_bytes(900, 300))
        first = _post_with_images(user, "two pictures", "a red square, slightly wider", None)
        make_post(user, "no pictures")
    auth.login()
    data = json.loads(export_path(app, start(client, "json")).read_text(encoding="utf-8"))
    assert data["profile"] == {"avatar_url": f"{SITE}/media/{avatar}", "header_url": f"{SITE}/media/{header}"}
    with_images, without = data["posts"]
    assert with_images["id"] == first and without["media"] == []
    stored = _stored(app, first)
    assert with_images["media"] == [
        {"url": f"{SITE}/media/{item.file_key}", "description": item.description, "width": item.width,
         "height": item.height, "mime": "image/jpeg"} for item in stored]
    assert [image["description"] for image in with_images["media"]] == ["a red square, slightly wider", None]
    # The links lead to the files.
    for image in with_images["media"]:
        assert client.get(image["url"].removeprefix(SITE)).status_code == 200


def test_csv_export_lists_image_links_and_alt_texts(app, client, auth, alice):
    with app.app_context():
        user = db.session.get(User, alice)
        first = _post_with_images(user, "three", "=looks like a formula", "two,\nlines", "plain")
        make_post(user, "none")
    auth.login()
    header, with_images, without = read_csv(export_path(app, start(client, "csv")))
    columns = dict(zip(header, with_images, strict=True))
    stored = _stored(app, first)
    assert columns["media"].split(" ") == [f"{SITE}/media/{item.file_key}" for item in stored]
    assert json.loads(columns["media_descriptions"]) == ["=looks like a formula", "two,\nlines", "plain"]
    empty = dict(zip(header, without, strict=True))
    assert (empty["media"], empty["media_descriptions"]) == ("", "")


def test_images_are_read_once_per_batch_not_once_per_post(app, client, auth, alice, monkeypatch):
    from microblog.services import media

    monkeypatch.setattr(export_writers, "BATCH_SIZE", 4)
    with app.app_context():
        user = db.session.get(User, alice)
        for i in range(10):
            _post_with_images(user, f"picture {i}", f"alt {i}")
    calls: list[int] = []
    media_of_posts = media.media_of_posts

    def counted(post_ids):
        calls.append(len(post_ids))
        return media_of_posts(post_ids)

    monkeypatch.setattr(media, "media_of_posts", counted)
    auth.login()
    data = json.loads(export_path(app, start(client, "json")).read_text(encoding="utf-8"))
    assert [post["media"][0]["description"] for post in data["posts"]] == [f"alt {i}" for i in range(10)]
    assert calls == [4, 4, 2]  # one query per batch of posts
