"""A short "browser on system" name for a User-Agent header, for the sessions page and sign-in emails.

Deliberately small: the common browsers and systems by the tokens they send, in the order that tells
them apart (Edge and Opera also say "Chrome", Chrome also says "Safari", Android also says "Linux").
Anything else is named by what is known, or "Unknown browser".
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

# (name, pattern) pairs, first match wins.
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("Edge", r"\bEdg(?:e|A|iOS)?/"),
        ("Opera", r"\bOPR/|\bOpera\b"),
        ("Samsung Internet", r"\bSamsungBrowser/"),
        ("Vivaldi", r"\bVivaldi/"),
        ("Firefox", r"\b(?:Firefox|FxiOS)/"),
        ("Chrome", r"\b(?:Chrome|Chromium|CriOS|HeadlessChrome)/"),
        ("Safari", r"\bVersion/[\d.]+.*\bSafari/"),
        ("Internet Explorer", r"\bMSIE \d|\bTrident/"),
        ("curl", r"^curl/"),
    )
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("iPhone", r"\biPhone\b"),
        ("iPad", r"\biPad\b"),
        ("Android", r"\bAndroid\b"),
        ("ChromeOS", r"\bCrOS\b"),
        ("Windows", r"\bWindows\b"),
        ("macOS", r"\bMac OS X\b|\bMacintosh\b"),
        ("Linux", r"\bLinux\b|\bX11\b"),
    )
)
UNKNOWN_BROWSER = "Unknown browser"


def _first(table: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in table if pattern.search(text)), None)


def parse(user_agent: str | None) -> tuple[str | None, str | None]:
    """(browser, system) named in a User-Agent header, each None when not recognised."""
    text = (user_agent or "")[:512]
    return _first(_BROWSERS, text), _first(_SYSTEMS, text)


def describe(user_agent: str | None) -> str:
    """The stored label: "Firefox on Linux", "Chrome", "Unknown browser" (English, as the API gives it)."""
    browser, system = parse(user_agent)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN_BROWSER


def localized(user_agent: str | None) -> str:
    """The label in the reader's language (pages and emails); browser and system names stay as they are."""
    browser, system = parse(user_agent)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")
