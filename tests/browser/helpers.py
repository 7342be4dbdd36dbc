"""Actions the browser tests share: through the real forms of a Playwright page, or into the database."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.factories import DEFAULT_PASSWORD, make_follow, make_post, make_user

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None


class Watch:
    """Every console error, uncaught exception and Content-Security-Policy violation of a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"exception: {exc}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("console", lambda m: "Content Security Policy" in m.text and self.errors.append(m.text))


def register(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/auth/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_role("button", name="Register").click()
    # Signed in at once, on the home timeline.
    expect(page).to_have_url("/index")
    expect(page.get_by_role("alert")).to_contain_text("Welcome! Your account is ready.")
    expect(page.get_by_role("heading", name=f"Hi, {username}!")).to_be_visible()


def sign_in(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Hi, {username}!")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("alert")).to_contain_text("You have been signed out.")
    # Counted with hidden ones too: on a narrow screen the menu is collapsed again.
    navbar = page.get_by_role("navigation", name="Main")
    expect(navbar.get_by_role("link", name="Sign in", include_hidden=True)).to_have_count(1)
    expect(navbar.get_by_role("button", name="Sign out", include_hidden=True)).to_have_count(0)


def sign_in_ready(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in, and wait until the page's deferred scripts have run."""
    sign_in(page, username, password)
    page.wait_for_load_state()


def seed_user(app, username: str, *, posts: int = 0, follows: str | None = None) -> None:
    """Create an account (and some posts, a follow) directly in the database, skipping the forms."""
    with app.app_context():
        user = make_user(username)
        for _ in range(posts):
            make_post(user)
        if follows:
            make_follow(user, make_user(follows))


def keep(shot: Path) -> None:
    """Copy a screenshot to BROWSER_SCREENSHOTS, when set, so a person can look at it after the run."""
    target = os.environ.get("BROWSER_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)
