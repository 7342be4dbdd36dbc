"""Jinja filters and globals: linkified post text, relative times, avatars, page titles."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from html import unescape

from flask import Flask
from flask_babel import format_date, format_datetime, format_number, format_timedelta, get_locale
from markupsafe import Markup, escape

from microblog.avatars import avatar_url
from microblog.i18n import LANGUAGE_NAMES, current_language, current_language_tag, text_direction
from microblog.pagination import url_args
from microblog.search.query import WORD_RE
from microblog.timeutil import utcnow

# Runs on text that is already HTML-escaped, so a URL can never carry raw < > or quotes.
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'"


def linkify(text: str) -> Markup:
    """Escape ``text``, then turn http(s) URLs into links that do not pass on ranking or opener."""
    escaped = str(escape(text))

    def _link(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            tail = url[-1] + tail
            url = url[:-1]
        # An escaped entity such as &amp; ends with ';'; keep it whole if we cut it.
        if tail.startswith(";") and re.search(r"&[a-z#0-9]+$", url):
            url, tail = url + ";", tail[1:]
        return f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>{tail}'

    return Markup(_URL_RE.sub(_link, escaped))


# linkify's output holds only our own <a> tags; everything between them is escaped text.
_TAG_SPLIT_RE = re.compile(r"(<[^>]*>)")


def highlight(text: str, matches: Callable[[str], bool] | None) -> Markup:
    """``linkify(text)`` with every word that ``matches`` wrapped in ``<mark>``.

    Safe by construction: the text is escaped first; only the text between tags is searched, after
    un-escaping, and each piece is escaped again, so a search word can never form or split markup.
    """
    html = str(linkify(text))
    if matches is None:
        return Markup(html)
    parts = _TAG_SPLIT_RE.split(html)
    for i in range(0, len(parts), 2):  # even indexes are text, odd ones are tags
        parts[i] = _mark_words(unescape(parts[i]), matches)
    return Markup("".join(parts))


def _mark_words(text: str, matches: Callable[[str], bool]) -> str:
    out, last = [], 0
    for match in WORD_RE.finditer(text):
        if matches(match.group(0)):
            out.append(str(escape(text[last:match.start()])))
            out.append(f"<mark>{escape(match.group(0))}</mark>")
            last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


# Babel's units for relative times, largest first (babel.dates.TIMEDELTA_UNITS).
_UNITS = (("year", 31_536_000), ("month", 2_592_000), ("week", 604_800), ("day", 86_400), ("hour", 3_600),
          ("minute", 60), ("second", 1))
_TIMEAGO_THRESHOLD = 0.9
_timeago_texts: dict[tuple, str] = {}


def timeago(value: datetime) -> str:
    """'5 minutes ago', in the current locale.

    Babel's answer depends only on the locale, the direction, the unit it picks and the rounded
    count, so it is worked out once per such key (a timeline shows 25 of them per page).
    """
    delta = value - utcnow()
    seconds = delta.days * 86_400 + delta.seconds  # what Babel looks at
    key: tuple = (str(get_locale()), seconds >= 0)
    for unit, size in _UNITS:  # the same choice Babel makes (granularity "second")
        amount = abs(seconds) / size
        if amount >= _TIMEAGO_THRESHOLD or unit == "second":
            key += (unit, int(round(max(1, amount) if unit == "second" and amount > 0 else amount)))
            break
    text = _timeago_texts.get(key)
    if text is None:
        text = format_timedelta(delta, add_direction=True, threshold=_TIMEAGO_THRESHOLD)
        if len(_timeago_texts) < 100_000:  # bounded: a few thousand keys exist per locale
            _timeago_texts[key] = text
    return text


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(linkify)
    app.add_template_filter(highlight)
    app.add_template_filter(timeago)
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_global(avatar_url)
    app.add_template_global(url_args, "page_url_args")
    app.add_template_filter(format_number, "number")
    app.add_template_global(current_language)
    app.add_template_global(current_language_tag)
    app.add_template_global(text_direction)
    app.add_template_global(LANGUAGE_NAMES, "language_names")
