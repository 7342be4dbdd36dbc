"""Jinja filters and globals: linkified post text, relative times, avatars, page titles."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import quote

from flask import Flask
from flask_babel import format_date, format_datetime, format_number, format_timedelta, get_locale
from markupsafe import Markup, escape

from microblog import user_agents
from microblog.avatars import avatar_url, header_url
from microblog.external_urls import external_url
from microblog.i18n import LANGUAGE_NAMES, current_language, current_language_tag, text_direction
from microblog.media_storage import media_url
from microblog.pagination import url_args
from microblog.post_forms import compose_media
from microblog.post_text import iter_tokens, normalize_tag
from microblog.search.query import WORD_RE
from microblog.themes import current_theme, theme_choices
from microblog.timeutil import utcnow

# Runs on the text as written, before escaping. A URL ends at whitespace and at characters that
# cannot end one in running text: quotes and angle brackets (as Django's urlize splits words).
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)
# Punctuation after a URL belongs to the sentence ("see https://example.com.").
_TRAILING = ".,;:!?"
# A closing bracket at the end belongs to the URL only when the URL opened it
# ("https://en.wikipedia.org/wiki/Foo_(bar)" keeps its ")", "(see https://example.com)" does not).
_CLOSING = {")": "(", "]": "[", "}": "{"}


def _url_end(url: str) -> int:
    """How much of a matched URL is the link: without trailing punctuation or unmatched closers."""
    end = len(url)
    while end:
        last = url[end - 1]
        opener = _CLOSING.get(last)
        if last in _TRAILING or (opener and url.count(last, 0, end) > url.count(opener, 0, end)):
            end -= 1
        else:
            break
    return end


def linkify(text: str, known_names: Collection[str] | None = None) -> Markup:
    """Escape ``text`` and turn its http(s) URLs, ``@mentions`` and ``#tags`` into links.

    URLs pass on neither ranking nor opener. A mention links to the profile only when its name,
    lower-cased, is in ``known_names`` (the accounts that exist; None links no mention); every hashtag
    that ``post_text`` finds links to its tag page. URLs are found in the text as written and each
    piece is escaped on its own, so link texts and ``href``s are escaped like everything else and a
    quote always ends a link.
    """
    out, last = [], 0
    for match in _URL_RE.finditer(text):
        url = match.group(0)
        url = url[:_url_end(url)]
        if _SCHEME_RE.fullmatch(url):
            continue  # nothing after the scheme
        start = match.start()
        safe = escape(url)
        out.append(_link_tokens(text[last:start], known_names))
        out.append(f'<a href="{safe}" rel="nofollow noopener noreferrer" target="_blank">{safe}</a>')
        last = start + len(url)
    out.append(_link_tokens(text[last:], known_names))
    return Markup("".join(out))


def _link_tokens(text: str, known_names: Collection[str] | None) -> str:
    """``text`` (no URLs in it) escaped, with its known mentions and its hashtags as links."""
    if "@" not in text and "#" not in text:
        return str(escape(text))
    out, last = [], 0
    for start, end, kind, name in iter_tokens(text):
        if kind == "@":
            if known_names is None or name.lower() not in known_names:
                continue
            href = f"/user/{escape(name)}"
            link = f'<a href="{href}" class="mention">@{escape(name)}</a>'
        else:
            href = f"/tags/{escape(quote(normalize_tag(name), safe=''))}"
            link = f'<a href="{href}" class="hashtag" rel="tag">{escape(text[start:end])}</a>'
        out.append(str(escape(text[last:start])))
        out.append(link)
        last = end
    out.append(str(escape(text[last:])))
    return "".join(out)


# linkify's output holds only our own <a> tags; everything between them is escaped text.
_TAG_SPLIT_RE = re.compile(r"(<[^>]*>)")


def highlight(text: str, matches: Callable[[str], bool] | None,
              known_names: Collection[str] | None = None) -> Markup:
    """``linkify(text, known_names)`` with every word that ``matches`` wrapped in ``<mark>``.

    Safe by construction: the text is escaped first; only the text between tags is searched, after
    un-escaping, and each piece is escaped again, so a search word can never form or split markup.
    """
    html = str(linkify(text, known_names))
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
_UNIT_SECONDS = dict(_UNITS)
_TIMEAGO_THRESHOLD = 0.9
_timeago_texts: dict[tuple[str, bool, str, int], str] = {}


def relative_amount(delta: timedelta) -> tuple[bool, str, int]:
    """Which way ``delta`` points (True: the future), in which unit, and how many of them.

    The rule of Babel's ``format_timedelta`` with threshold 0.9 and granularity "second", as of
    Babel 2.19: the largest unit of which there are at least 0.9, counted to the nearest whole one
    from the exact delta (microseconds included), and never less than one second unless the delta
    is zero. Babel before 2.19 dropped the microseconds first, so 1.4 seconds ago read "2 seconds
    ago"; owning the rule keeps the wording from changing with the installed Babel.
    """
    seconds = delta.total_seconds()
    for unit, size in _UNITS:
        amount = abs(seconds) / size
        if amount >= _TIMEAGO_THRESHOLD or unit == "second":
            if unit == "second" and amount > 0:
                amount = max(1.0, amount)
            return seconds >= 0, unit, int(round(amount))
    raise AssertionError("unreachable: the last unit always answers")


def timeago(value: datetime) -> str:
    """'5 minutes ago', in the current locale.

    ``relative_amount`` picks the unit and the count; Babel only words them. The text depends on
    nothing else, so it is worked out once per locale, direction, unit and count (a timeline shows
    25 of them per page).
    """
    future, unit, count = relative_amount(value - utcnow())
    key = (str(get_locale()), future, unit, count)
    text = _timeago_texts.get(key)
    if text is None:
        span = count * _UNIT_SECONDS[unit]
        exact = timedelta(seconds=span if future else -span)
        # With the threshold at the count, no larger unit qualifies (each holds fewer than `count`)
        # and this one does, so Babel words exactly `count` units whatever its own rounding rule.
        text = format_timedelta(exact, add_direction=True, threshold=max(count, 1))
        if len(_timeago_texts) < 100_000:  # bounded: a few thousand keys exist per locale
            _timeago_texts[key] = text
    return text


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(linkify)
    app.add_template_filter(highlight)
    app.add_template_filter(timeago)
    app.add_template_global(user_agents.localized, "session_label")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_global(avatar_url)
    app.add_template_global(header_url)
    app.add_template_global(media_url)
    app.add_template_global(compose_media)
    # Absolute links (OpenGraph, feeds) name the configured site, not the Host a request claimed.
    app.add_template_global(external_url)
    app.add_template_global(url_args, "page_url_args")
    app.add_template_filter(format_number, "number")
    app.add_template_global(current_language)
    app.add_template_global(current_language_tag)
    app.add_template_global(text_direction)
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES  # a mapping, not a function
    app.add_template_global(current_theme)
    app.add_template_global(theme_choices)
