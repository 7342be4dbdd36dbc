"""Chart data as JSON for static/charts.js: the numbers from services.stats, with titles, labels and
text alternatives already translated and formatted for the reader's language.

Every payload has the same shape, so one script draws them all and builds their data tables:
``type`` (line, bar or calendar), ``title``, ``summary`` (the chart's text alternative), ``columns``
(the table's headings), ``keys`` (machine-readable: ISO dates, usernames, bucket bounds), ``labels``
(the same, for people), ``values`` and ``series`` (what the values count).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import get_day_names
from babel.lists import format_list
from flask_babel import format_date, format_number, get_locale, ngettext
from flask_babel import gettext as _

from microblog.models import User
from microblog.services import stats


def _list(items: list[str]) -> str:
    return format_list(items, locale=get_locale()) if items else ""


def _daily(kind: str, title: str, series: str, rows: list[tuple[date, int]]) -> dict[str, Any]:
    total = sum(count for _day, count in rows)
    if total:
        peak_day, peak = max(rows, key=lambda row: (row[1], row[0]))
        summary = _("%(title)s: %(total)s in the last %(days)s days; the most in one day: %(peak)s, "
                    "on %(day)s.", title=title, total=format_number(total), days=format_number(len(rows)),
                    peak=format_number(peak), day=format_date(peak_day, "long"))
    else:
        summary = _("%(title)s: none in the last %(days)s days.", title=title, days=format_number(len(rows)))
    return {
        "type": kind, "title": title, "summary": summary, "series": series,
        "columns": [_("Day (UTC)"), series],
        "keys": [day.isoformat() for day, _count in rows],
        "labels": [format_date(day, "medium") for day, _count in rows],
        "values": [count for _day, count in rows],
    }


def signups() -> dict[str, Any]:
    return _daily("line", _("Sign-ups per day"), _("Sign-ups"), stats.signups_per_day())


def posts() -> dict[str, Any]:
    return _daily("line", _("Posts per day"), _("Posts"), stats.posts_per_day())


def active_users() -> dict[str, Any]:
    return _daily("line", _("Active users per day"), _("Active users"), stats.active_users_per_day())


def top_posters() -> dict[str, Any]:
    rows = stats.top_posters()
    title = _("Top posters")
    items = [_("%(username)s (%(count)s)", username=name, count=format_number(count)) for name, count in rows]
    summary = _("%(title)s: %(list)s.", title=title, list=_list(items))
    if not rows:
        summary = _("Nobody has posted yet.")
    return {
        "type": "bar", "title": title, "summary": summary, "series": _("Posts"), "horizontal": True,
        "columns": [_("Account"), _("Posts")],
        "keys": [name for name, _count in rows], "labels": [name for name, _count in rows],
        "values": [count for _name, count in rows],
    }


def _bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)s or more", low=format_number(low))
    if low == high:
        return format_number(low)
    return _("%(low)s–%(high)s", low=format_number(low), high=format_number(high))


def follower_distribution() -> dict[str, Any]:
    rows = stats.follower_distribution()
    title = _("Accounts by number of followers")
    labels = [_bucket_label(low, high) for (low, high), _count in rows]
    items = [_("%(followers)s followers: %(count)s", followers=label, count=format_number(count))
             for label, (_bucket, count) in zip(labels, rows, strict=True)]
    return {
        "type": "bar", "title": title, "summary": _("%(title)s: %(list)s.", title=title, list=_list(items)),
        "series": _("Accounts"), "columns": [_("Followers"), _("Accounts")],
        "keys": [f"{low}-{high if high is not None else ''}" for (low, high), _count in rows],
        "labels": labels, "values": [count for _bucket, count in rows],
    }


def posting_calendar(user: User) -> dict[str, Any]:
    """The profile's contribution calendar: posts per day over the last year."""
    rows = stats.posting_calendar(user)
    total = sum(count for _day, count in rows)
    title = _("Posts per day over the last year")
    if total:
        peak_day, peak = max(rows, key=lambda row: (row[1], row[0]))
        summary = ngettext(
            "%(username)s wrote %(count)s post in the last year; the most in one day: %(peak)s, on %(day)s.",
            "%(username)s wrote %(count)s posts in the last year; the most in one day: %(peak)s, on %(day)s.",
            total, count=format_number(total), username=user.username, peak=format_number(peak),
            day=format_date(peak_day, "long"))
    else:
        summary = _("%(username)s has not posted in the last year.", username=user.username)
    names = get_day_names("abbreviated", locale=get_locale())
    return {
        "type": "calendar", "title": title, "summary": summary, "series": _("Posts"),
        "columns": [_("Day (UTC)"), _("Posts")],
        "keys": [day.isoformat() for day, _count in rows],
        "labels": [format_date(day, "medium") for day, _count in rows],
        "values": [count for _day, count in rows],
        # Monday first, as ISO weeks are; the script lays the days out in weeks.
        "weekdays": [names[i] for i in range(7)],
        "months": month_starts([day for day, _count in rows]),
        "tooltips": [ngettext("%(count)s post on %(day)s", "%(count)s posts on %(day)s", count,
                              count=format_number(count), day=format_date(day, "medium"))
                     for day, count in rows],
    }


def month_starts(days: list[date]) -> list[tuple[int, str]]:
    """Where the calendar's month labels go: (index in ``days``, abbreviated month name) for each first
    of a month, and for the first day shown when its month has at least two weeks left."""
    starts = [(i, day) for i, day in enumerate(days) if day.day == 1]
    if days and days[0].day != 1 and days[0].day <= 14:
        starts.insert(0, (0, days[0]))
    return [(i, format_date(day, "LLL")) for i, day in starts]


DASHBOARD = {
    "signups": signups,
    "posts": posts,
    "active": active_users,
    "top-posters": top_posters,
    "followers": follower_distribution,
}
