"""Language and time zone: who sees which language, in which zone, and which way the text runs."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import available_timezones

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

LOCALE_COOKIE = "locale"
TIMEZONE_COOKIE = "tz"
RTL_LANGUAGES = {"ar", "he", "fa", "ur"}

# Each language is named in itself, so people find their own whatever the page's language is.
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt_BR": "Português (Brasil)",
    "ja": "日本語",
    "zh_CN": "简体中文",
    "ar": "العربية",
}


def supported(locale: str | None) -> str | None:
    """``locale`` if the site ships it, else None."""
    return locale if locale in current_app.config["LANGUAGES"] else None


def select_locale() -> str | None:
    """The user's setting, then the switcher's cookie, then Accept-Language, then the default."""
    if not has_request_context():  # CLI and jobs pass a locale explicitly (force_locale)
        return None
    if current_user.is_authenticated and supported(current_user.locale):
        return current_user.locale
    cookie = supported(request.cookies.get(LOCALE_COOKIE))
    if cookie:
        return cookie
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def valid_timezone(name: str | None) -> str | None:
    return name if name and name in timezone_names() else None


def select_timezone() -> str | None:
    """The user's setting, then the zone the browser reported (cookie), then UTC."""
    if not has_request_context():
        return None
    if current_user.is_authenticated and valid_timezone(current_user.timezone):
        return current_user.timezone
    return valid_timezone(unquote(request.cookies.get(TIMEZONE_COOKIE, "")))


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def sorted_timezones() -> list[str]:
    return sorted(timezone_names())


def current_language() -> str:
    """The code from LANGUAGES the page is shown in (Babel may expand ``zh_CN`` to ``zh_Hans_CN``)."""
    locale = get_locale()
    if locale is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    for code in (str(locale), f"{locale.language}_{locale.territory}", locale.language):
        if supported(code):
            return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language_tag() -> str:
    """The BCP 47 tag for the page (``pt-BR``), for ``<html lang>``."""
    return current_language().replace("_", "-")


def text_direction() -> str:
    locale = get_locale()
    return "rtl" if locale is not None and locale.language in RTL_LANGUAGES else "ltr"
