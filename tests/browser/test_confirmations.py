"""Deleting a post, blocking and unblocking in headless Chromium: with JavaScript a dialog asks and the
page stays; without it a page asks, and the answer comes back to where you were."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Block, Post, User
from microblog.services import posts
from tests.browser.helpers import keep, seed_user, sign_in
from tests.factories import make_block, make_follow, make_post

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def seed_post(app, username: str, body: str, in_reply_to: int | None = None) -> int:
    with app.app_context():
        if in_reply_to is None:
            return make_post(user(username), body).id
        return posts.publish_post(user(username), body, in_reply_to=in_reply_to).id


def post_exists(app, post_id: int) -> bool:
    with app.app_context():
        return db.session.get(Post, post_id) is not None


def blocks(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Block))


def card(page, text: str):
    return page.get_by_role("article").filter(has_text=text)


# --- with JavaScript: a dialog ------------------------------------------------------------------------

def test_delete_asks_in_a_dialog_and_the_page_stays(page, live_app, tmp_path):
    seed_user(live_app, "alice")
    kept = seed_post(live_app, "alice", "A post to keep")
    doomed = seed_post(live_app, "alice", "A post to delete")
    sign_in(page, "alice")
    page.goto("/explore")
    delete = card(page, "A post to delete").get_by_role("button", name="Delete")
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete this post? This cannot be undone.")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the harmless choice first
    shot = tmp_path / "confirm-dialog.png"
    page.screenshot(path=str(shot))
    keep(shot)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    assert post_exists(live_app, doomed)

    delete.click()
    dialog.get_by_role("button", name="Delete").click()
    expect(card(page, "A post to delete")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Your post has been deleted.")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/explore$"))
    expect(card(page, "A post to keep")).to_be_visible()
    assert not post_exists(live_app, doomed) and post_exists(live_app, kept)


def test_deleting_a_reply_on_its_own_page_goes_to_the_post_it_answered(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    parent = seed_post(live_app, "bob", "Bob asks something")
    reply = seed_post(live_app, "alice", "Alice answers", in_reply_to=parent)
    sign_in(page, "alice")
    page.goto(f"/post/{reply}")
    card(page, "Alice answers").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(rf"/post/{parent}$"))
    expect(page.get_by_role("heading", name="Post by bob")).to_be_visible()
    assert not post_exists(live_app, reply)


def test_block_and_unblock_ask_and_swap_the_buttons_in_place(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    with live_app.app_context():
        make_follow(user("alice"), user("bob"))
    sign_in(page, "alice")
    page.goto("/user/bob")
    page.get_by_role("button", name="Block").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Block bob?")
    dialog.get_by_role("button", name="Cancel").click()
    assert blocks(live_app) == 0

    page.get_by_role("button", name="Block").click()
    dialog.get_by_role("button", name="Block").click()
    unblock = page.get_by_role("button", name="Unblock")
    expect(unblock).to_be_visible()
    expect(unblock).to_be_focused()
    expect(page.get_by_role("button", name="Unfollow")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("You have blocked bob.")
    expect(page).to_have_url(re.compile(r"/user/bob$"))
    assert blocks(live_app) == 1

    unblock.click()
    expect(dialog).to_contain_text("The follows that the block ended are not restored.")
    dialog.get_by_role("button", name="Unblock").click()
    expect(page.get_by_role("button", name="Block")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The follows that the block ended are not restored.")
    # Not restored indeed: the button offers to follow again.
    expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()
    assert blocks(live_app) == 0


def test_unblock_from_the_settings_list_removes_the_row(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    with live_app.app_context():
        make_block(user("alice"), user("bob"))
    sign_in(page, "alice")
    page.goto("/settings/muted")
    page.get_by_role("button", name="Unblock").click()
    page.get_by_role("dialog").get_by_role("button", name="Unblock").click()
    expect(page.get_by_role("link", name="bob")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("You have unblocked bob.")
    assert blocks(live_app) == 0


# --- without JavaScript: a page that asks -------------------------------------------------------------

@pytest.fixture
def no_js_page(new_context):
    return new_context(java_script_enabled=False).new_page()


def test_without_javascript_delete_asks_on_a_page_and_comes_back(no_js_page, live_app, tmp_path):
    page = no_js_page
    seed_user(live_app, "alice")
    doomed = seed_post(live_app, "alice", "Delete me without scripts")
    sign_in(page, "alice")
    page.goto("/explore")
    card(page, "Delete me without scripts").get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(rf"/post/{doomed}/delete/confirm\?next=%2Fexplore$"))
    expect(page.get_by_role("heading", name="Delete this post?")).to_be_visible()
    shot = tmp_path / "confirm-page.png"
    page.screenshot(path=str(shot))
    keep(shot)
    expect(page.get_by_text("Delete me without scripts")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/explore$"))
    assert post_exists(live_app, doomed)

    card(page, "Delete me without scripts").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete the post").click()
    expect(page).to_have_url(re.compile(r"/explore$"))
    expect(page.get_by_role("alert")).to_contain_text("Your post has been deleted.")
    assert not post_exists(live_app, doomed)


def test_without_javascript_block_and_unblock_ask_on_a_page(no_js_page, live_app):
    page = no_js_page
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    sign_in(page, "alice")
    page.goto("/user/bob")
    page.get_by_role("button", name="Block").click()
    expect(page.get_by_role("heading", name="Block bob?")).to_be_visible()
    assert blocks(live_app) == 0
    page.get_by_role("button", name="Block").click()
    expect(page).to_have_url(re.compile(r"/user/bob$"))
    expect(page.get_by_role("alert")).to_contain_text("You have blocked bob.")
    page.get_by_role("button", name="Unblock").click()
    expect(page.get_by_role("heading", name="Unblock bob?")).to_be_visible()
    expect(page.get_by_text("are not restored")).to_be_visible()
    page.get_by_role("button", name="Unblock").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "You have unblocked bob. The follows that the block ended are not restored.")
    assert blocks(live_app) == 0


def test_removing_a_profile_picture_asks_first(page, live_app):
    from microblog.services import profile_media
    from tests import media_samples

    seed_user(live_app, "alice")
    with live_app.app_context():
        profile_media.set_picture(user("alice"), "avatar", media_samples.jpeg_bytes())
    sign_in(page, "alice")
    page.goto("/edit_profile")
    remove = page.get_by_role("button", name="Remove the profile picture")
    remove.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove your profile picture?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(remove).to_be_focused()
    with live_app.app_context():
        assert user("alice").avatar_key is not None
    remove.click()
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert")).to_contain_text("Your profile picture has been removed.")
    with live_app.app_context():
        assert user("alice").avatar_key is None
