"""Colour themes: which one a page is drawn in (the account's choice, else the footer's cookie, else
the device's, through CSS media queries)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from microblog.models import THEMES

THEME_COOKIE = "theme"
DEFAULT_THEME = "auto"


def valid_theme(value: str | None) -> str | None:
    """``value`` if it names a theme, else None."""
    return value if value in THEMES else None


def current_theme() -> str:
    """The theme of this request's page: "auto", "light" or "dark".

    A signed-in person's setting, else the cookie the footer's form sets, else "auto". Reading it costs
    no query: the signed-in user is loaded for every request anyway.
    """
    if not has_request_context():
        return DEFAULT_THEME
    if current_user.is_authenticated:
        return valid_theme(current_user.theme) or DEFAULT_THEME
    return valid_theme(request.cookies.get(THEME_COOKIE)) or DEFAULT_THEME


def theme_choices() -> list[tuple[str, str]]:
    """(value, label) of every theme, for the footer's form and the profile settings."""
    labels = {"auto": _l("Automatic (as your device)"), "light": _l("Light"), "dark": _l("Dark")}
    return [(theme, str(labels[theme])) for theme in THEMES]
