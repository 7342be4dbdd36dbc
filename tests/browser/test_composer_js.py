"""The composer in headless Chromium (static/compose.js): the character counter counts as the server
does, says the limit before sending, and posts (text, images, replies) without reloading the page;
without JavaScript the form posts as it always did."""

from __future__ import annotations

import re
import sys

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Media, Post, User
from microblog.services.posts import body_length
from tests import media_samples
from tests.browser.helpers import Watch, seed_user, sign_in_ready
from tests.factories import make_post, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = pytest.mark.browser

LIMIT = 30


@pytest.fixture
def live_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True, POST_MAX_LENGTH=LIMIT, MEDIA_MAX_BYTES=150_000)


def bodies(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Post.body).order_by(Post.id)))


# Every character Python's str.strip() removes, and a few it keeps that JavaScript's trim() removes.
PY_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
TRICKY = [
    "plain", "  padded  ", "emoji 😀🎉", "👩‍👩‍👧‍👦 family (ZWJ)", "🇯🇵 flag", "日本語のテキスト", "中文字符",
    "e\u0301 combining", "a\u0308\u0301\u0323 stacked marks", "line\r\nbreak\r\n", "lone\rcr", "lf\nonly",
    "\ufefftrailing BOM\ufeff", "\u200bzero width\u200b", "\u180emongolian vowel separator",
    "\u3000ideographic space\u3000", "\u00a0nbsp\u00a0", "\x85next line\x85", "tab\tinside\t",
    "𝕏 math 𝔸 letters", "\U0001f3f3\ufe0f\u200d\U0001f308 rainbow flag", "\u0645\u0631\u062d\u0628\u0627 rtl",
] + [f"{ch}x{ch}" for ch in PY_WHITESPACE]


def test_the_counter_counts_as_the_server_does(page, live_app):
    seed_user(live_app, "alice")
    sign_in_ready(page, "alice")
    counted = page.evaluate("texts => texts.map(t => window.microblogPostLength(t))", TRICKY)
    expected = [body_length(text) for text in TRICKY]
    wrong = [(text, js, py) for text, js, py in zip(TRICKY, counted, expected, strict=True) if js != py]
    assert not wrong


def test_the_counter_says_the_limit_before_sending(page, live_app):
    seed_user(live_app, "alice")
    watch = Watch(page)
    sign_in_ready(page, "alice")
    text = page.get_by_label("Say something")
    counter = page.locator("#compose .compose-counter")
    expect(counter).to_have_text(f"0 / {LIMIT}")
    # Emoji count one each, as the server counts them.
    text.fill("😀" * 12)
    expect(counter).to_have_text(f"12 / {LIMIT}")
    expect(page.locator("#compose .compose-counter-live")).to_have_text("Characters left: 18")
    text.fill("😀" * 25)
    expect(page.locator("#compose .compose-counter-live")).to_have_text("Characters left: 5")
    text.fill("x" * (LIMIT + 3))
    expect(text).to_have_attribute("aria-invalid", "true")
    message = page.locator("#compose .compose-too-long")
    expect(message).to_have_text(f"A post is at most {LIMIT} characters (this one has {LIMIT + 3}).")
    expect(text).to_have_attribute("aria-describedby", message.get_attribute("id"))
    expect(page.locator("#compose .compose-counter-live")).to_have_text("Characters over the limit: 3")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(text).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True
    assert bodies(live_app) == []
    # Back under the limit: the message goes.
    text.fill("x" * LIMIT)
    expect(message).to_be_hidden()
    expect(text).not_to_have_attribute("aria-invalid", "true")
    assert watch.errors == []


def test_posting_puts_the_card_on_top_without_a_reload(page, live_app):
    with live_app.app_context():
        alice = make_user("alice")
        make_post(alice, "an older post")
    watch = Watch(page)
    sign_in_ready(page, "alice")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Say something").fill("Hello without a reload 😀")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Your post is now live!", timeout=15_000)
    first = page.locator("#timeline article.post").first
    expect(first.locator(".post-body")).to_have_text("Hello without a reload 😀")
    expect(page.locator("#timeline article.post")).to_have_count(2)
    expect(page.get_by_label("Say something")).to_have_value("")
    assert page.evaluate("window.stillTheSamePage") is True
    assert bodies(live_app) == ["an older post", "Hello without a reload 😀"]
    # The card's buttons work as on any card (a real form with the token).
    first.get_by_role("button", name="Like").click()
    liked = page.locator("#timeline article.post").first.locator(".post-like")
    expect(liked).to_have_attribute("aria-pressed", "true")
    assert watch.errors == []


def test_errors_are_shown_beside_the_fields(page, live_app):
    seed_user(live_app, "alice")
    sign_in_ready(page, "alice")
    page.evaluate("window.stillTheSamePage = true")
    text = page.get_by_label("Say something")
    text.fill("\u200b\u200b")  # shows nothing: the server refuses it
    page.get_by_role("button", name="Post", exact=True).click()
    error = page.locator("#post-error")
    expect(error).to_have_text("A post needs at least one visible character.")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True
    # Fixed and sent: the error goes.
    text.fill("Now visible")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#timeline article.post").first.locator(".post-body")).to_have_text("Now visible")
    expect(error).to_have_count(0)
    expect(text).not_to_have_attribute("aria-invalid", "true")


def test_a_refused_token_is_said_for_the_form(page, live_app):
    seed_user(live_app, "alice")
    sign_in_ready(page, "alice")
    page.evaluate("document.querySelector('#compose input[name=csrf_token]').value = 'forged'")
    page.get_by_label("Say something").fill("with a bad token")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#compose .alert-danger[role=alert]")).to_be_visible()
    assert bodies(live_app) == []


def test_images_are_sent_and_the_previews_cleared(page, live_app, tmp_path):
    seed_user(live_app, "alice")
    watch = Watch(page)
    red = tmp_path / "red.png"
    red.write_bytes(media_samples.png_bytes(300, 200))
    sign_in_ready(page, "alice")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add images").click()
    chooser.value.set_files([str(red)])
    page.get_by_label("Description (alt text)").first.fill("A red rectangle")
    page.get_by_label("Say something").fill("With a picture")
    page.get_by_role("button", name="Post", exact=True).click()
    card = page.locator("#timeline article.post").first
    expect(card.locator(".post-body")).to_have_text("With a picture", timeout=15_000)  # images take a while
    expect(card.get_by_role("img", name="A red rectangle")).to_have_count(1)
    # The slots are empty again, ready for the next post.
    files = page.evaluate("[0, 1, 2, 3].map(i => document.getElementById('media-' + i).files.length)")
    assert files == [0, 0, 0, 0]
    expect(page.locator(".compose-media-slot:visible")).to_have_count(0)
    with live_app.app_context():
        assert [m.description for m in db.session.scalars(sa.select(Media))] == ["A red rectangle"]
    assert watch.errors == []


def test_a_reply_joins_the_thread_without_a_reload(page, live_app):
    with live_app.app_context():
        bob = make_user("bob")
        make_user("alice")
        post_id = make_post(bob, "What do you think?").id
    sign_in_ready(page, "alice")
    page.goto(f"/post/{post_id}")
    page.wait_for_load_state()
    expect(page.get_by_text("No replies yet.")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Your reply").fill("I agree")
    page.get_by_role("button", name="Reply", exact=True).click()
    replies = page.locator("#replies article.post")
    expect(replies).to_have_count(1)
    expect(replies.locator(".post-body")).to_contain_text("I agree")
    expect(page).to_have_url(re.compile(r"#post-\d+$"))
    # The post's own card counts the reply.
    expect(page.locator(f"#post-{post_id} .post-reply")).to_have_accessible_name("Reply 1")
    expect(page.get_by_text("No replies yet.")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True


def test_without_javascript_the_form_posts_as_before(new_context, live_app):
    seed_user(live_app, "alice")
    page = new_context(java_script_enabled=False).new_page()
    sign_in_ready(page, "alice")
    page.get_by_label("Say something").fill("x" * (LIMIT + 1))
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#post-error")).to_contain_text(f"A post is at most {LIMIT} characters")
    page.get_by_label("Say something").fill("Plain form")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    expect(page.locator("article.post .post-body")).to_have_text("Plain form")
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert bodies(live_app) == ["Plain form"]
