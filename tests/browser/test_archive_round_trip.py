"""Leaving with your data and arriving with it: alice exports her account as a zip archive in the
browser, and zoe imports the archive's four Mastodon CSV files (follows, blocks, mutes, bookmarks) from
the import page, one after the other, ending with alice's relationships as her own."""

from __future__ import annotations

import re
import zipfile

import pytest
import sqlalchemy as sa
from flask import Flask

from microblog.extensions import db
from microblog.models import Block, Bookmark, Mute
from microblog.services import blocks, mutes, reactions
from tests.browser.helpers import sign_in
from tests.factories import find_user, make_follow, make_post, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

FILES = (("following", "following_accounts.csv"), ("blocks", "blocked_accounts.csv"),
         ("mutes", "muted_accounts.csv"), ("bookmarks", "bookmarks.csv"))


@pytest.fixture
def live_app(make_app, tmp_path) -> Flask:
    # The in-process worker thread, as in the embedded default: the jobs really run in the background.
    return make_app(WTF_CSRF_ENABLED=True, JOBS_BACKEND="thread", EXPORTS_DIR=str(tmp_path / "exports"))


def test_export_the_archive_then_import_its_csv_files_into_another_account(page, browser, live_server,
                                                                            live_app, tmp_path):
    with live_app.app_context():
        alice = make_user("alice")
        bob, carol, dave, erin = (make_user(name) for name in ("bob", "carol", "dave", "erin"))
        make_user("zoe")
        make_follow(alice, bob), make_follow(alice, carol)
        blocks.block_user(alice, dave)
        mutes.mute(alice, erin)
        reactions.bookmark(alice, make_post(bob, "worth keeping").id)

    sign_in(page, "alice")
    page.goto("/user/alice")
    page.get_by_role("button", name="Everything (zip archive)").click()
    link = page.get_by_role("link", name="Download your export")
    expect(link).to_be_visible()
    with page.expect_download() as info:
        link.click()
    with zipfile.ZipFile(info.value.path()) as archive:
        for _kind, name in FILES:
            (tmp_path / name).write_bytes(archive.read(name))

    zoe = browser.new_context(base_url=live_server).new_page()
    sign_in(zoe, "zoe")
    for kind, name in FILES:
        zoe.goto("/settings/import")
        zoe.get_by_label("What the file holds", exact=True).select_option(kind)
        zoe.get_by_label("CSV file", exact=True).set_input_files(str(tmp_path / name))
        zoe.get_by_role("button", name="Import").click()
        expect(zoe).to_have_url(re.compile(r"/settings/import/[0-9a-f-]{36}$"))
        bar = zoe.get_by_role("progressbar", name="Import progress")
        expect(bar).to_have_attribute("aria-valuenow", "100")
        expected = 2 if kind == "following" else 1  # nothing skipped: every line resolves here
        expect(zoe.get_by_role("status")).to_have_text(f"Done: {expected} imported, 0 skipped.")
    zoe.goto("/user/zoe/following")
    expect(zoe.get_by_role("main")).to_contain_text("bob")
    expect(zoe.get_by_role("main")).to_contain_text("carol")
    zoe.context.close()

    with live_app.app_context():
        zoe_id = find_user("zoe").id
        blocked = db.session.scalars(sa.select(Block.blocked_id).where(Block.blocker_id == zoe_id)).all()
        muted = db.session.scalars(sa.select(Mute.muted_id).where(Mute.muter_id == zoe_id)).all()
        kept = db.session.scalars(sa.select(Bookmark.post_id).where(Bookmark.user_id == zoe_id)).all()
        assert blocked == [find_user("dave").id] and muted == [find_user("erin").id]
        assert len(kept) == 1
