"""Import in a real browser: upload a following CSV, watch the progress bar finish, see the follows."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask

from microblog.services import tasks
from tests.browser.helpers import seed_user, sign_in

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

CSV = (b"\xef\xbb\xbfAccount address,Show boosts,Notify on new posts,Languages\r\n"
       b"bob@microblog.test,true,false,\r\ncarol@microblog.test,true,false,\r\n"
       b"zed@mastodon.social,true,false,\r\n")


@pytest.fixture
def live_app(make_app) -> Flask:
    # The in-process worker thread, as in the embedded default: the job really runs in the background.
    return make_app(WTF_CSRF_ENABLED=True, JOBS_BACKEND="thread", IMPORT_BATCH_SIZE=1)


def test_import_follows_and_watch_it_finish(page, live_app, monkeypatch):
    for name in ("alice", "bob", "carol"):
        seed_user(live_app, name)
    report = tasks.report_progress

    def slow_report(task, written, total):  # three batches of one line, so there is progress to watch
        time.sleep(0.3)
        report(task, written, total)

    monkeypatch.setattr(tasks, "report_progress", slow_report)

    sign_in(page, "alice")
    page.goto("/edit_profile")
    page.get_by_role("link", name="Import follows, blocks, mutes and bookmarks from CSV files").click()
    expect(page).to_have_url(re.compile(r"/settings/import$"))
    page.get_by_label("What the file holds", exact=True).select_option("following")
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "following_accounts.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Import").click()
    expect(page).to_have_url(re.compile(r"/settings/import/[0-9a-f-]{36}$"))
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("status")).to_have_text("Done: 2 imported, 1 skipped.")
    page.get_by_role("link", name="See what was skipped").click()
    expect(page.locator("#import-skipped")).to_contain_text("zed@mastodon.social")
    expect(page.locator("#import-skipped")).to_contain_text(
        "Its server could not be reached, or does not know it.")
    page.goto("/user/alice/following")
    expect(page.get_by_role("main")).to_contain_text("bob")
    expect(page.get_by_role("main")).to_contain_text("carol")
