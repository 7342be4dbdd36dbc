"""API exports: start an export (the whole-account archive, or posts as CSV/JSON), poll it, download it."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from microblog.extensions import db
from microblog.models import TASK_RUNNING, Task
from microblog.timeutil import utcnow
from tests.factories import find_user, make_post, make_user, token_for

TASK_ID = "77777777-7777-4777-8777-777777777777"


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(EXPORTS_DIR=str(tmp_path / "exports"))
    with app.app_context():
        alice = make_user("alice")
        make_post(alice, "alice's post")
        make_user("bob")
    return app


def test_start_poll_and_download_an_archive(app, client):
    alice = token_for(client, "alice")
    response = client.post("/api/exports", json={"kind": "archive"}, headers=alice)
    assert response.status_code == 202
    task_id = response.json["id"]
    assert response.headers["Location"] == f"/api/exports/{task_id}"
    # Jobs run at once in tests: the poll finds it done.
    status = client.get(f"/api/exports/{task_id}", headers=alice)
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    body = status.json
    assert (body["kind"], body["status"], body["progress"]) == ("archive", "done", 100)
    assert body["download_url"] == f"/api/exports/{task_id}/download"
    assert body["expires_at"] and body["_links"] == {"self": f"/api/exports/{task_id}"}
    download = client.get(body["download_url"], headers=alice)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    posts = json.loads(zipfile.ZipFile(io.BytesIO(download.data)).read("posts.json"))["posts"]
    assert [post["body"] for post in posts] == ["alice's post"]


def test_posts_exports_too(app, client):
    alice = token_for(client, "alice")
    task_id = client.post("/api/exports", json={"kind": "csv"}, headers=alice).json["id"]
    download = client.get(f"/api/exports/{task_id}/download", headers=alice)
    assert download.status_code == 200 and download.mimetype == "text/csv"


def test_only_the_owner_sees_or_downloads_an_export(app, client):
    started = client.post("/api/exports", json={"kind": "archive"}, headers=token_for(client, "alice"))
    task_id = started.json["id"]
    bob = token_for(client, "bob")
    for url in (f"/api/exports/{task_id}", f"/api/exports/{task_id}/download"):
        assert client.get(url, headers=bob).status_code == 404
        assert client.get(url).status_code == 401
    assert client.get("/api/exports/not-a-task-id", headers=bob).status_code == 404


@pytest.mark.parametrize("body", [{"kind": "zip"}, {"kind": ""}, {}, {"kind": "archive", "extra": 1},
                                  {"kind": 3}, {"kind": "archive\u0000"}])
def test_bad_requests_are_refused(app, client, body):
    response = client.post("/api/exports", json=body, headers=token_for(client, "alice"))
    assert response.status_code == 422 and "error" in response.json


def test_an_export_under_way_is_a_conflict_pointing_at_it(app, client):
    with app.app_context():
        db.session.add(Task(id=TASK_ID, name="export_archive", description="running",
                            user_id=find_user("alice").id, status=TASK_RUNNING, heartbeat_at=utcnow()))
        db.session.commit()
    alice = token_for(client, "alice")
    response = client.post("/api/exports", json={"kind": "archive"}, headers=alice)
    assert response.status_code == 409
    assert response.headers["Location"] == f"/api/exports/{TASK_ID}"
    running = client.get(f"/api/exports/{TASK_ID}", headers=alice).json
    assert (running["status"], running["download_url"]) == ("running", None)
    assert client.get(f"/api/exports/{TASK_ID}/download", headers=alice).status_code == 404
