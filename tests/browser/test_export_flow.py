"""Export in a real browser: the progress bar moves without a reload, then the file downloads (posts
as CSV, and the whole account as a zip archive)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile

import pytest
from flask import Flask

from microblog.services import export_writers, tasks
from microblog.services.exports import CSV_HEADER
from tests.browser.helpers import seed_user, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None


@pytest.fixture
def live_app(make_app, tmp_path) -> Flask:
    # The in-process worker thread, as in the embedded default: the job really runs in the background.
    return make_app(WTF_CSRF_ENABLED=True, JOBS_BACKEND="thread", EXPORTS_DIR=str(tmp_path / "exports"))


def test_export_shows_progress_then_downloads(page, live_app, monkeypatch):
    seed_user(live_app, "alice", posts=8)
    # Slow the job down so the page has progress to watch: 8 batches of one post, 0.4 s each.
    monkeypatch.setattr(export_writers, "BATCH_SIZE", 1)
    report = tasks.report_progress

    def slow_report(task, written, total):
        time.sleep(0.4)
        report(task, written, total)

    monkeypatch.setattr(tasks, "report_progress", slow_report)

    sign_in(page, "alice")
    page.goto("/user/alice")
    page.get_by_role("button", name="Export my posts (CSV)").click()
    expect(page).to_have_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    url = page.url
    bar = page.get_by_role("progressbar", name="Export progress")
    # Some value strictly between 0 and 100 shows up while the job runs...
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^([1-9]\d?)$"))
    # ...then 100 and the link, all on the same page (no reload).
    expect(bar).to_have_attribute("aria-valuenow", "100")
    assert page.url == url
    expect(page.get_by_role("status")).to_have_text("Your export is ready.")
    link = page.get_by_role("link", name="Download your export")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert re.fullmatch(r"microblog-alice-posts-\d{8}\.csv", download.suggested_filename)
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read(), newline="")))
    assert rows[0] == list(CSV_HEADER) and len(rows) == 9


def test_the_archive_downloads_as_a_zip(page, live_app):
    seed_user(live_app, "alice", posts=3)
    sign_in(page, "alice")
    page.goto("/user/alice")
    page.get_by_role("button", name="Everything (zip archive)").click()
    expect(page.get_by_role("heading", name="Export of your account (zip archive)")).to_be_visible()
    link = page.get_by_role("link", name="Download your export")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert re.fullmatch(r"microblog-alice-archive-\d{8}\.zip", download.suggested_filename)
    with zipfile.ZipFile(download.path()) as archive:
        assert len(json.loads(archive.read("posts.json"))["posts"]) == 3
        assert archive.read("following_accounts.csv").startswith(b"Account address,Show boosts,")
