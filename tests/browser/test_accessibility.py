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
from microblog.services import exports, follows, media, messages, mutes, posts, reactions, reports
from tests import media_samples
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
        # Images with descriptions: the grid, its ALT buttons and their texts are on the timelines too.
        pictures = [media.upload_media(carol, media_samples.jpeg_bytes(64 + n, 48), f"A red train, view {n}")
                    for n in range(2)]
        posts.publish_post(carol, "Two pictures of the 8:15", media_ids=[picture.id for picture in pictures])
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
        "/settings/sessions", f"/post/{post}/report", f"/post/{post}/history", f"/tasks/{task}",
        "/admin/", "/admin/reports", "/admin/users", "/admin/users/bob", f"/admin/posts/{post}",
        "/admin/audit", "/admin/outbox", "/admin/settings", "/no-such-page",
    ]


def pages_signed_out(site: dict) -> list[str]:
    return ["/", "/explore", "/search?q=tea", "/user/bob", f"/post/{site['post']}", "/tags/tea",
            "/auth/login", "/auth/register", "/auth/reset_password_request", "/no-such-page"]


def violations_on(page, path: str, rules: dict | None = None) -> list[str]:
    """axe-core's violations on ``path``, one readable line per rule."""
    page.goto(path)
    page.evaluate(AXE_SCRIPT)
    options = {**AXE_OPTIONS, "runOnly": rules} if rules else AXE_OPTIONS
    results = page.evaluate("options => axe.run(document, options)", options)
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
          tmp_path: Path, rules: dict | None = None) -> None:
    context = browser.new_context(base_url=server, viewport=VIEWPORTS[viewport], color_scheme=theme,
                                  locale="en-US", storage_state=state)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "locale", "value": lang, "url": server}])
    try:
        page = context.new_page()
        found = [line for path in pages for line in violations_on(page, path, rules)]
        if found:
            (tmp_path / "violations.json").write_text(json.dumps(found, indent=1, ensure_ascii=False))
        heading = f"{len(found)} accessibility violations ({lang}, {theme}, {viewport}):"
        assert not found, "\n".join([heading, *found])
    finally:
        context.close()


# What each run checks, to keep the module near a minute and a half on two cores (axe takes about a
# second a page): in English at desktop width, every page, with every rule in the light theme and with
# the rules a theme can change (colours) in the dark one; in the six other combinations of language,
# theme and width, every rule on a few pages that between them show each kind of part (post cards, a
# thread, a conversation, forms, the sidebar or the phone's menu). Long lists run in two halves, so the
# two workers of `pytest -n 2` share them.
COLOUR_RULES = {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}
SAMPLE_SIGNED_IN = ["/", "/post/{post}", "/messages/bob"]
SAMPLE_SIGNED_OUT = ["/user/bob", "/auth/login"]


def runs(halves: int) -> list:
    found = []
    for lang in ("en", "ar"):
        for theme in ("light", "dark"):
            for viewport in ("desktop", "phone"):
                name = f"{lang}-{theme}-{viewport}"
                if (lang, viewport) == ("en", "desktop"):
                    found += [pytest.param(lang, theme, viewport, part, id=f"{name}-{part + 1}of{halves}")
                              for part in range(halves)]
                else:
                    found.append(pytest.param(lang, theme, viewport, None, id=f"{name}-sample"))
    return found


def chosen(every: list[str], sample: list[str], theme: str,
           part: int | None) -> tuple[list[str], dict | None]:
    """The pages of one run, and the rules (None: every rule of AXE_OPTIONS)."""
    if part is None:
        return sample, None
    return every[part::2], COLOUR_RULES if theme == "dark" else None


@pytest.mark.parametrize(("lang", "theme", "viewport", "part"), runs(2))
def test_pages_signed_in_have_no_violations(browser, server, site, signed_in, lang, theme, viewport, part,
                                            tmp_path):
    sample = [path.format(post=site["post"]) for path in SAMPLE_SIGNED_IN]
    pages, rules = chosen(pages_signed_in(site), sample, theme, part)
    check(browser, server, pages, lang, theme, viewport, signed_in, tmp_path, rules)


@pytest.mark.parametrize(("lang", "theme", "viewport", "part"), runs(2))
def test_pages_signed_out_have_no_violations(browser, server, site, lang, theme, viewport, part, tmp_path):
    pages, rules = chosen(pages_signed_out(site), SAMPLE_SIGNED_OUT, theme, part)
    check(browser, server, pages, lang, theme, viewport, None, tmp_path, rules)
