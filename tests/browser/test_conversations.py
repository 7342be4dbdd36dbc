"""Conversations in headless Chromium: replies, likes, reposts, bookmarks, @name suggestions, content
warnings, edits and their history, followers-only posts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, User
from tests.browser.helpers import seed_user, sign_in, sign_out
from tests.factories import make_follow, make_post

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None


pytestmark = pytest.mark.browser


def seed_post(app, username: str, body: str) -> int:
    """A public post by ``username`` (who must exist), straight into the database; its id."""
    with app.app_context():
        author = db.session.scalar(sa.select(User).where(User.username == username))
        return make_post(author, body).id


def follow(app, follower: str, followed: str) -> None:
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        make_follow(users[follower], users[followed])


def card(page, text: str):
    """The post card holding ``text``."""
    return page.get_by_role("article").filter(has_text=text)


def button(card_, name: str):
    """A card's toggle button by its action ("Like", "Repost", "Bookmark"); its name ends in the count."""
    return card_.get_by_role("button", name=re.compile(rf"^{name}\b"))


def collect_csp_violations(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    return messages


# --- replies --------------------------------------------------------------------------------------

def test_reply_from_the_permalink_shows_in_the_thread_and_notifies_the_author(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    post_id = seed_post(live_app, "alice", "What tea do you drink?")

    sign_in(page, "bob")
    page.goto("/explore")
    card(page, "What tea do you drink?").get_by_role("link", name=re.compile(r"^Reply\b")).click()
    expect(page).to_have_url(f"/post/{post_id}#reply")

    form = page.locator("form#reply")
    form.get_by_label("Your reply").fill("Sencha, mostly.")
    form.get_by_role("button", name="Reply").click()
    expect(page.get_by_role("alert")).to_contain_text("Your reply is now live!")
    expect(page).to_have_url(re.compile(rf"/post/{post_id}#post-\d+$"))
    replies = page.get_by_role("region", name="Replies")
    expect(replies.get_by_role("article")).to_have_count(1)
    reply = card(replies, "Sencha, mostly.")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("Replying to @alice")
    expect(page.get_by_text("No replies yet.")).to_have_count(0)

    # The post's own card (at the top of the permalink) now counts one reply.
    focus = card(page, "What tea do you drink?").first
    expect(focus.get_by_role("link", name=re.compile(r"^Reply\b"))).to_have_accessible_name("Reply 1")
    sign_out(page)

    sign_in(page, "alice")
    page.goto("/notifications")
    # It links to the reply's permalink (as Mastodon does), which shows alice's post above it.
    with live_app.app_context():
        reply_id = db.session.scalar(sa.select(Post.id).where(Post.in_reply_to_id == post_id))
    note = page.get_by_role("link", name="bob replied to your post.")
    expect(note).to_have_attribute("href", f"/post/{reply_id}")
    note.click()
    expect(page).to_have_url(f"/post/{reply_id}")
    expect(page.get_by_role("region", name="Earlier in the conversation")
           .get_by_text("What tea do you drink?")).to_be_visible()
    expect(card(page, "Sencha, mostly.")).to_be_visible()
    sign_out(page)

    # Signed out, the card's reply count links to the thread's replies.
    page.goto("/explore")
    card(page, "What tea do you drink?").get_by_role("link", name="Replies 1").click()
    expect(page).to_have_url(f"/post/{post_id}#replies")
    # The #replies anchor lands on the Replies section (retried: :target is set once it is parsed).
    expect(page.locator(":target")).to_have_accessible_name("Replies")


# --- likes, reposts, bookmarks --------------------------------------------------------------------

def test_like_repost_and_bookmark_from_explore(new_context, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    seed_user(live_app, "carol")
    seed_user(live_app, "dave")
    follow(live_app, "carol", "bob")  # carol follows bob, not alice
    post_id = seed_post(live_app, "alice", "Kettle's on.")
    page = new_context().new_page()

    sign_in(page, "bob")
    page.goto("/explore?page=1")
    post = card(page, "Kettle's on.")
    like, repost, bookmark = button(post, "Like"), button(post, "Repost"), button(post, "Bookmark")
    for toggle in (like, repost, bookmark):
        expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0")
    expect(repost).to_have_accessible_name("Repost 0")

    like.click()
    expect(page).to_have_url("/explore?page=1")  # back where we were, through the form's "next" field
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_accessible_name("Like 1")

    repost.click()
    expect(page).to_have_url("/explore?page=1")
    expect(repost).to_have_attribute("aria-pressed", "true")
    expect(repost).to_have_accessible_name("Repost 1")
    expect(like).to_have_attribute("aria-pressed", "true")  # the other states survive

    bookmark.click()
    expect(page).to_have_url("/explore?page=1")
    expect(bookmark).to_have_attribute("aria-pressed", "true")

    page.goto("/bookmarks")
    expect(card(page, "Kettle's on.")).to_be_visible()

    # Unlike and unrepost go back to zero.
    page.goto("/explore")
    like.click()
    expect(page).to_have_url("/explore")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0")
    repost.click()
    expect(repost).to_have_attribute("aria-pressed", "false")
    expect(repost).to_have_accessible_name("Repost 0")
    bookmark.click()
    expect(bookmark).to_have_attribute("aria-pressed", "false")
    page.goto("/bookmarks")
    expect(card(page, "Kettle's on.")).to_have_count(0)

    # Like and repost again, to be seen by alice and by bob's follower.
    page.goto("/explore")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    repost.click()
    expect(repost).to_have_attribute("aria-pressed", "true")
    bookmark.click()
    expect(bookmark).to_have_attribute("aria-pressed", "true")

    # Removing a bookmark from /bookmarks stays there, and the post leaves the list.
    page.goto("/bookmarks")
    saved = card(page, "Kettle's on.")
    expect(button(saved, "Bookmark")).to_have_attribute("aria-pressed", "true")
    expect(button(saved, "Like")).to_have_attribute("aria-pressed", "true")
    button(saved, "Bookmark").click()
    expect(page).to_have_url("/bookmarks")
    expect(card(page, "Kettle's on.")).to_have_count(0)

    other = new_context().new_page()
    sign_in(other, "dave")
    other.goto("/explore")
    button(card(other, "Kettle's on."), "Like").click()
    expect(button(card(other, "Kettle's on."), "Like")).to_have_accessible_name("Like 2")

    follower = new_context().new_page()
    sign_in(follower, "carol")
    timeline = follower.get_by_role("region", name="Timeline")
    expect(timeline.get_by_text("bob reposted")).to_be_visible()
    expect(card(timeline, "Kettle's on.")).to_be_visible()
    expect(timeline.get_by_role("link", name="bob")).to_have_attribute("href", "/user/bob")

    author = new_context().new_page()
    sign_in(author, "alice")
    author.goto("/notifications")
    liked = author.get_by_role("link", name=re.compile(r"liked your post"))
    expect(liked).to_have_count(1)  # grouped: one line for both likes
    expect(liked).to_have_text("dave and 1 other liked your post.")  # the latest liker first
    expect(liked).to_have_attribute("href", f"/post/{post_id}")
    reposted = author.get_by_role("link", name="bob reposted your post.")
    expect(reposted).to_have_attribute("href", f"/post/{post_id}")
    with live_app.app_context():
        post = db.session.get(Post, post_id)
        assert (post.like_count, post.repost_count) == (2, 1)


# --- mentions -------------------------------------------------------------------------------------

def test_mention_suggestions_are_keyboard_usable_and_the_mention_notifies(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "alina")
    seed_user(live_app, "bob")
    violations = collect_csp_violations(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(page, "bob")
    composer = page.get_by_role("combobox", name="Say something")
    composer.click()
    composer.press_sequentially("Tea with @al")
    suggestions = page.get_by_role("listbox", name="Suggested people")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option")).to_have_text(["@alice", "@alina"])
    expect(composer).to_have_attribute("aria-expanded", "true")

    composer.press("ArrowDown")
    expect(suggestions.get_by_role("option", name="@alina")).to_have_attribute("aria-selected", "true")
    active = suggestions.get_by_role("option", name="@alina").get_attribute("id")
    expect(composer).to_have_attribute("aria-activedescendant", active)
    composer.press("Enter")
    expect(composer).to_have_value("Tea with @alina ")
    expect(suggestions).to_be_hidden()
    expect(composer).to_have_attribute("aria-expanded", "false")

    # Escape closes the list and leaves the text as typed.
    composer.press_sequentially("and @al")
    expect(suggestions).to_be_visible()
    composer.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(composer).to_have_attribute("aria-expanded", "false")
    expect(composer).to_have_value("Tea with @alina and @al")
    composer.press_sequentially("ice")
    expect(suggestions.get_by_role("option")).to_have_text(["@alice"])
    composer.press("Escape")

    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    posted = card(page, "Tea with")
    expect(posted.get_by_role("link", name="@alina")).to_have_attribute("href", "/user/alina")
    expect(posted.get_by_role("link", name="@alice")).to_have_attribute("href", "/user/alice")
    assert violations == []
    assert errors == []
    sign_out(page)

    sign_in(page, "alina")
    page.goto("/notifications")
    expect(page.get_by_role("link", name="bob mentioned you.")).to_have_attribute(
        "href", re.compile(r"^/post/\d+$"))


def test_the_composer_posts_without_picking_a_suggestion(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    sign_in(page, "bob")

    composer = page.get_by_label("Say something")
    composer.click()
    composer.press_sequentially("Hi @ali")
    expect(page.get_by_role("listbox", name="Suggested people")).to_be_visible()
    # Clicking Post while the list is open posts what was typed (the list closes on blur).
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    expect(card(page, "Hi @ali")).to_be_visible()

    # A suggestion can be picked with the mouse too.
    composer = page.get_by_label("Say something")
    composer.click()
    composer.press_sequentially("Cheers @a")
    page.get_by_role("listbox", name="Suggested people").get_by_role("option", name="@alice").click()
    expect(composer).to_have_value("Cheers @alice ")
    expect(composer).to_be_focused()
    composer.fill("")

    composer = page.get_by_label("Say something")
    composer.fill("Typed in one go, no list: @alice")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    expect(card(page, "Typed in one go").get_by_role("link", name="@alice")).to_have_attribute(
        "href", "/user/alice")
    with live_app.app_context():
        bodies = sorted(db.session.scalars(sa.select(Post.body)))
    assert bodies == ["Hi @ali", "Typed in one go, no list: @alice"]


# --- content warnings -----------------------------------------------------------------------------

def test_a_content_warning_hides_the_body_until_opened(page, live_app):
    seed_user(live_app, "alice")
    sign_in(page, "alice")

    page.get_by_label("Say something").fill("The butler did it.")
    page.locator("form summary").filter(has_text="Content warning").click()  # the collapsed field
    page.get_by_label("Content warning").fill("Spoilers for the film")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")

    for path in ("/", "/explore"):
        page.goto(path)
        post = card(page, "Spoilers for the film")
        expect(post.get_by_text("Spoilers for the film")).to_be_visible()
        body = post.get_by_text("The butler did it.")
        expect(body).to_be_hidden()
        post.locator("summary").click()
        expect(body).to_be_visible()


# --- edits ----------------------------------------------------------------------------------------

def test_edit_from_the_permalink_and_read_the_history(page, live_app):
    seed_user(live_app, "alice")
    post_id = seed_post(live_app, "alice", "Green tea is the best.")
    sign_in(page, "alice")

    page.goto(f"/post/{post_id}")
    post = card(page, "Green tea is the best.")
    expect(post.get_by_role("link", name="edited")).to_have_count(0)
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(f"/post/{post_id}/edit")
    expect(page.get_by_role("heading", name="Edit post")).to_be_visible()
    text = page.get_by_label("Say something")
    expect(text).to_have_value("Green tea is the best.")
    text.fill("Oolong is the best.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("Your post has been updated.")
    expect(page).to_have_url(f"/post/{post_id}")
    post = card(page, "Oolong is the best.")
    edited = post.get_by_role("link", name="edited")
    expect(edited).to_have_attribute("href", f"/post/{post_id}/history")
    expect(page.get_by_text("Green tea is the best.")).to_have_count(0)

    edited.click()
    expect(page).to_have_url(f"/post/{post_id}/history")
    expect(page.get_by_role("heading", name="Edit history")).to_be_visible()
    versions = page.get_by_role("main").get_by_role("listitem")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("Current version")
    expect(versions.nth(0)).to_contain_text("Oolong is the best.")
    expect(versions.nth(1)).to_contain_text("Original")
    expect(versions.nth(1)).to_contain_text("Green tea is the best.")

    page.get_by_role("link", name="Back to the post by alice").click()
    expect(page).to_have_url(f"/post/{post_id}")

    # Cards elsewhere follow the new text too.
    page.goto("/explore")
    expect(card(page, "Oolong is the best.").get_by_role("link", name="edited")).to_be_visible()
    expect(page.get_by_text("Green tea is the best.")).to_have_count(0)


# --- visibility -----------------------------------------------------------------------------------

def test_a_followers_only_post_is_a_404_for_others_and_visible_to_followers(new_context, live_app):
    for name in ("alice", "bob", "carol"):
        seed_user(live_app, name)
    follow(live_app, "alice", "bob")  # bob does not follow alice back
    follow(live_app, "carol", "alice")
    page = new_context().new_page()
    sign_in(page, "alice")
    page.get_by_label("Say something").fill("Just for my followers.")
    page.get_by_label("Who can see it").select_option("followers")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    mine = card(page, "Just for my followers.")
    expect(mine).to_contain_text("Followers only")
    with live_app.app_context():
        post_id = db.session.scalar(sa.select(Post.id).where(Post.body == "Just for my followers."))

    visitor = new_context().new_page()
    response = visitor.goto(f"/post/{post_id}")
    assert response.status == 404
    expect(visitor.get_by_text("Just for my followers.")).to_have_count(0)
    visitor.goto("/explore")
    expect(visitor.get_by_text("Just for my followers.")).to_have_count(0)

    stranger = new_context().new_page()
    sign_in(stranger, "bob")  # signed in, followed by alice, but not following her
    assert stranger.goto(f"/post/{post_id}").status == 404
    stranger.goto("/user/alice")
    expect(stranger.get_by_text("Just for my followers.")).to_have_count(0)

    fan = new_context().new_page()
    sign_in(fan, "carol")
    expect(card(fan.get_by_role("region", name="Timeline"), "Just for my followers.")).to_be_visible()
    assert fan.goto(f"/post/{post_id}").status == 200
    post = card(fan, "Just for my followers.")
    expect(post).to_be_visible()
    # A followers-only post cannot be reposted: no repost button, a lock instead.
    expect(button(post, "Repost")).to_have_count(0)


def test_buttons_on_a_permalink_come_back_to_it(page, live_app):
    seed_user(live_app, "alice")
    seed_user(live_app, "bob")
    post_id = seed_post(live_app, "alice", "Milk first?")
    sign_in(page, "bob")
    page.goto(f"/post/{post_id}")
    page.get_by_label("Your reply").fill("Never.")
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your reply is now live!")

    focus, reply = card(page, "Milk first?").first, card(page.get_by_role("region", name="Replies"), "Never.")
    button(focus, "Like").click()
    expect(page).to_have_url(f"/post/{post_id}")
    expect(button(focus, "Like")).to_have_attribute("aria-pressed", "true")
    expect(button(reply, "Like")).to_have_attribute("aria-pressed", "false")
    button(reply, "Repost").click()
    expect(page).to_have_url(f"/post/{post_id}")
    expect(button(reply, "Repost")).to_have_attribute("aria-pressed", "true")
    expect(button(reply, "Repost")).to_have_accessible_name("Repost 1")
    expect(button(focus, "Repost")).to_have_accessible_name("Repost 0")


def test_the_new_pages_break_no_policy(page, live_app):
    """Signed in, with the composer's script loaded: the permalink, its edit and history pages,
    notifications and bookmarks run under the Content-Security-Policy without a violation."""
    seed_user(live_app, "alice")
    post_id = seed_post(live_app, "alice", "Policy check.")
    violations = collect_csp_violations(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "alice")
    for path in ("/", f"/post/{post_id}", f"/post/{post_id}/edit", f"/post/{post_id}/history",
                 "/notifications", "/bookmarks", "/explore"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # The suggestions script did run (it makes the post fields comboboxes).
    page.goto(f"/post/{post_id}/edit")
    expect(page.get_by_role("combobox", name="Say something")).to_be_visible()
    assert violations == []
    assert errors == []
