"""The colour theme in a real browser: "auto" follows the device (prefers-color-scheme, by CSS alone),
a chosen theme overrides it, the footer's form works without JavaScript, and focus is visible."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

PAGE_LIGHT, PAGE_DARK = "rgb(243, 244, 247)", "rgb(20, 22, 27)"  # --mb-page in microblog.css

# What a theme changes, read in the browser: the page, the surfaces, text, the accent, and the pictures
# Bootstrap draws in CSS (the select's arrow, the menu icon, the close button's filter).
SAMPLE = """() => {
  const style = (selector, property) => {
    const element = document.querySelector(selector);
    return element ? getComputedStyle(element).getPropertyValue(property) : null;
  };
  const root = getComputedStyle(document.documentElement);
  const names = [...document.styleSheets].flatMap(sheet => [...sheet.cssRules])
    .flatMap(rule => rule.style ? [...rule.style] : []).filter(name => name.startsWith('--'));
  return {
    variables: Object.fromEntries([...new Set(names)].sort()
      .map(name => [name, root.getPropertyValue(name).trim()])),
    scheme: root.colorScheme,
    page: style('body', 'background-color'),
    text: style('body', 'color'),
    surface: style('.site-header', 'background-color'),
    select: style('.form-select', 'background-image'),
    toggler: style('.navbar-toggler-icon', 'background-image'),
    button: style('.btn-outline-secondary', 'color'),
    link: style('main a', 'color'),
  };
}"""


def same_value(value: str | None) -> str:
    """A custom property's text as written, without the spelling differences that mean nothing
    (spaces, a leading zero): Bootstrap's minified file and our CSS write the same values differently."""
    return re.sub(r"(?<![\d.])0\.", ".", re.sub(r"\s+", "", value or ""))


def page_colour(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


@pytest.mark.parametrize(("scheme", "expected"), [("dark", PAGE_DARK), ("light", PAGE_LIGHT)])
def test_auto_follows_the_device(new_context, live_server, scheme, expected):
    page = new_context(color_scheme=scheme).new_page()
    page.goto("/explore")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "auto")
    assert page_colour(page) == expected
    # Declared "light dark" (form controls and scroll bars follow the device); the dark query says "dark".
    wanted = "dark" if scheme == "dark" else "light dark"
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == wanted


@pytest.mark.parametrize(("chosen", "device", "expected"), [
    ("light", "dark", PAGE_LIGHT), ("dark", "light", PAGE_DARK),
])
def test_a_chosen_theme_beats_the_device(new_context, live_server, chosen, device, expected):
    context = new_context(color_scheme=device)
    context.add_cookies([{"name": "theme", "value": chosen, "url": live_server}])
    page = context.new_page()
    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", chosen)
    assert page_colour(page) == expected


def test_auto_on_a_dark_device_looks_exactly_like_dark(new_context, live_server):
    """The media query repeats Bootstrap's dark rules and ours: every variable and drawn colour agrees."""
    auto = new_context(color_scheme="dark").new_page()
    auto.goto("/auth/login")
    context = new_context(color_scheme="light")
    context.add_cookies([{"name": "theme", "value": "dark", "url": live_server}])
    dark = context.new_page()
    dark.goto("/auth/login")
    got, wanted = auto.evaluate(SAMPLE), dark.evaluate(SAMPLE)
    differing = {name: (value, wanted["variables"].get(name)) for name, value in got["variables"].items()
                 if same_value(value) != same_value(wanted["variables"].get(name))}
    assert differing == {}
    got.pop("variables"), wanted.pop("variables")
    assert got == wanted


def test_the_footer_form_works_without_javascript(new_context, live_server):
    page = new_context(color_scheme="light", java_script_enabled=False).new_page()
    page.goto("/explore")
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(f"{live_server}/explore")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    assert page_colour(page) == PAGE_DARK
    expect(page.get_by_label("Theme")).to_have_value("dark")


def test_a_signed_in_choice_follows_the_account(new_context, live_app, live_server):
    with live_app.app_context():
        make_user("alice", theme="dark")
    page = new_context(color_scheme="light").new_page()
    page.goto("/auth/login")
    page.locator("#username").fill("alice")
    page.locator("#password").fill("correct-horse")
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    assert page_colour(page) == PAGE_DARK
    page.get_by_label("Theme").select_option("auto")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "auto")
    assert page_colour(page) == PAGE_LIGHT


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_keyboard_focus_is_visible_on_every_kind_of_control(new_context, live_server, scheme):
    """Tabbing through the page: every element that takes focus shows a solid outline of 2px or more,
    in a colour other than the background behind it."""
    page = new_context(color_scheme=scheme, viewport={"width": 1280, "height": 800}).new_page()
    page.goto("/auth/login")
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        focus = page.evaluate("""() => {
          const element = document.activeElement, style = getComputedStyle(element);
          const text = (element.textContent || '').trim().slice(0, 20);
          const name = (element.id ? '#' + element.id : '') + ' ' + text;
          return {tag: element.tagName + name, outline: style.outlineStyle,
                  width: parseFloat(style.outlineWidth), colour: style.outlineColor,
                  background: getComputedStyle(document.body).backgroundColor, boxShadow: style.boxShadow};
        }""")
        if focus["tag"].startswith("BODY"):
            break
        seen.add(focus["tag"])
        visible = (focus["outline"] not in ("none", "") and focus["width"] >= 2
                   and focus["colour"] != focus["background"])
        assert visible, f"no visible focus on {focus['tag']} ({scheme}): {focus}"
    assert len(seen) >= 8, seen  # skip link, navbar, search, the form, the footer's forms
