"""Every page a person can reach, checked by axe-core (WCAG 2.2 AA and best practices) in Chromium:
signed in and out, in English and Arabic (right to left), light and dark, at desktop and phone width.

One seeded site and one live server serve the whole module; each combination gets one browser context
(signed in once, by cookie) and walks its pages in one tab. A test fails on any violation, naming the
rule, the page and the elements (CSS selectors) so the fix is easy to find.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from microblog import create_app, search
from microblog.extensions import db
from microblog.models import Role
from microblog.services import exports, follows, messages, mutes, posts, reactions, reports
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import TestConfig, copy_sqlite_template
from tests.factories import DEFAULT_PASSWORD, make_user

try:
    from axe_playwright_python.base import AXE_SCRIPT
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1) without Playwright
    AXE_SCRIPT = None

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}
# Findings the site keeps on purpose: (rule, start of the element's HTML). The post fields are ARIA 1.2
# comboboxes while mentions.js suggests names (tests/browser/test_conversations.py); axe's best-practice
# rule knows combobox on <input> only.
ACCEPTED = [("aria-allowed-role", "<textarea")]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template) -> Iterator[dict]:
    """A small site with something on every page: posts, a thread, tags, messages, notifications,
    a mute, a report, bookmarks, an export. alice (an admin) is the one signed in."""
    folder = tmp_path_factory.mktemp("a11y")
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'app.db'}", "WTF_CSRF_ENABLED": True,
                "INSTANCE_DIR": str(folder / "i"), "WHOOSH_INDEX_DIR": str(folder / "idx")}
    copy_sqlite_template(settings["SQLALCHEMY_DATABASE_URI"], sqlite_template)
    app = create_app(TestConfig, settings)
    ids: dict = {"app": app}
    with app.app_context():
        alice = make_user("alice", role=Role.ADMIN, about_me="Writes about #tea and trains.")
        bob = make_user("bob", about_me="مرحبا! I post in two languages.")
        carol = make_user("carol")
        for one, other in [(alice, bob), (bob, alice), (carol, alice), (alice, carol)]:
            follows.follow(one, other)
        first = posts.publish_post(bob, "Good morning #tea drinkers, any tips? @alice")
        posts.publish_post(alice, "Try a green #tea at 80 degrees.", in_reply_to=first.id)
        posts.publish_post(carol, "صباح الخير #tea", in_reply_to=first.id)
        posts.publish_post(alice, "A post with a content warning", summary="Spoilers")
        for n in range(3):
            posts.publish_post(carol, f"Trains are late again ({n}) #trains")
        reactions.like(alice, first.id)
        reactions.bookmark(alice, first.id)
        messages.send_message(bob, alice, "Hi alice, lunch tomorrow?")
        messages.send_message(alice, bob, "Sure, at noon.")
        mutes.mute(alice, "carol")
        reports.report_post(carol, db.session.get(type(first), first.id), "Spam, I think")
        task = exports.start_export(alice, "json")
        ids.update(post=first.id, task=task.id)
        search.reindex()
    yield ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(site) -> Iterator[str]:
    live = make_server("127.0.0.1", 0, site["app"], threaded=True)
    thread = threading.Thread(target=live.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.server_port}"
    live.shutdown()
    live.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def signed_in(browser, server) -> dict:
    """The cookies of alice's session, signed in once through the form."""
    context = browser.new_context(base_url=server)
    page = context.new_page()
    page.goto("/auth/login")
    page.locator("#username").fill("alice")
    page.locator("#password").fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    state = context.storage_state()
    context.close()
    return state


def pages_signed_in(site: dict) -> list[str]:
    post, task = site["post"], site["task"]
    return [
        "/", "/explore", "/search?q=tea", "/user/bob", "/user/bob/followers", "/user/alice/following",
        f"/post/{post}", "/tags/tea", "/bookmarks", "/notifications", "/messages", "/messages/bob",
        "/send_message/carol", "/edit_profile", "/auth/change_password", "/settings/muted",
        f"/post/{post}/report", f"/post/{post}/history", f"/tasks/{task}",
        "/admin/", "/admin/reports", "/admin/users", "/admin/users/bob", f"/admin/posts/{post}",
        "/admin/audit", "/admin/outbox", "/no-such-page",
    ]


def pages_signed_out(site: dict) -> list[str]:
    return ["/", "/explore", "/search?q=tea", "/user/bob", f"/post/{site['post']}", "/tags/tea",
            "/auth/login", "/auth/register", "/auth/reset_password_request", "/no-such-page"]


def violations_on(page, path: str) -> list[str]:
    """axe-core's violations on ``path``, one readable line per rule."""
    page.goto(path)
    page.evaluate(AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    lines = []
    for violation in results["violations"]:
        violation["nodes"] = [node for node in violation["nodes"]
                              if not any(violation["id"] == rule and node["html"].startswith(html)
                                         for rule, html in ACCEPTED)]
        if not violation["nodes"]:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:6])
        summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
        lines.append(f"{path}: {violation['id']} ({violation['impact']}) on {targets} -- {summary}")
    return lines


def check(browser, server, pages: list[str], lang: str, theme: str, viewport: str, state: dict | None,
          tmp_path: Path) -> None:
    context = browser.new_context(base_url=server, viewport=VIEWPORTS[viewport], color_scheme=theme,
                                  locale="en-US", storage_state=state)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "locale", "value": lang, "url": server}])
    try:
        page = context.new_page()
        found = [line for path in pages for line in violations_on(page, path)]
        if found:
            (tmp_path / "violations.json").write_text(json.dumps(found, indent=1, ensure_ascii=False))
        heading = f"{len(found)} accessibility violations ({lang}, {theme}, {viewport}):"
        assert not found, "\n".join([heading, *found])
    finally:
        context.close()


# Every page in English at desktop width in both themes (contrast is what a theme changes); the other
# six combinations of language, theme and width on the pages that show every kind of part (post cards,
# forms, the thread, the conversation, the sidebar, the menu): axe takes about a second a page, and the
# whole module stays near a minute and a half on two cores.
EVERY_PAGE = [("en", "light", "desktop"), ("en", "dark", "desktop")]
COMBINATIONS = [
    pytest.param(lang, theme, viewport, id=f"{lang}-{theme}-{viewport}")
    for lang in ("en", "ar") for theme in ("light", "dark") for viewport in ("desktop", "phone")
]
SAMPLE_SIGNED_IN = ["/", "/user/bob", "/messages/bob"]
SAMPLE_SIGNED_OUT = ["/explore", "/auth/login"]


@pytest.mark.parametrize(("lang", "theme", "viewport"), COMBINATIONS)
def test_pages_signed_in_have_no_violations(browser, server, site, signed_in, lang, theme, viewport,
                                            tmp_path):
    every = (lang, theme, viewport) in EVERY_PAGE
    pages = pages_signed_in(site) if every else SAMPLE_SIGNED_IN + [f"/post/{site['post']}"]
    check(browser, server, pages, lang, theme, viewport, signed_in, tmp_path)


@pytest.mark.parametrize(("lang", "theme", "viewport"), COMBINATIONS)
def test_pages_signed_out_have_no_violations(browser, server, site, lang, theme, viewport, tmp_path):
    pages = pages_signed_out(site) if (lang, theme, viewport) in EVERY_PAGE else SAMPLE_SIGNED_OUT
    check(browser, server, pages, lang, theme, viewport, None, tmp_path)
