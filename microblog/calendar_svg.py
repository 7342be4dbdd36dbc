"""The profile's activity calendar drawn on the server, as SVG: what the profile shows before
JavaScript (charts.js) draws the interactive chart, and all it shows without JavaScript.

It draws the same payload as the chart (``charts.posting_calendar``): one column per week, one row per
weekday (Monday first), month names above and weekday names beside, right-to-left for Arabic and
the like (the newest week then on the left). The page shows it with an ``<img>``: the profile itself
gains no SQL statement, and the picture caches like the JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.sax.saxutils import escape

CELL = 11  # a day's square, in SVG units
GAP = 2
TOP = 16  # the row of month names
SIDE = 30  # the column of weekday names
END = 24  # room for the last month's name past the last week (Arabic names are long)
STEP = CELL + GAP
# Opacities of the five shades: no post, then four quarters of the busiest day.
SHADES = (0.08, 0.35, 0.55, 0.75, 1.0)
# The size of a year's picture (53 weeks), for the page's <img> before the picture arrives.
SIZE = (SIDE + 53 * STEP + END, TOP + 7 * STEP)


def _shade(value: int, peak: int) -> float:
    if value <= 0 or peak <= 0:
        return SHADES[0]
    return SHADES[min(4, 1 + (4 * value - 1) // peak)]


# The site's colours (static/microblog.css): the secondary text and the accent, light and dark.
LIGHT = "text{fill:#5e6470}rect{fill:#4f46e5}"
DARK = "text{fill:#a3abb8}rect{fill:#a5b4fc}"
PALETTES = {"light": LIGHT, "dark": DARK, "auto": f"{LIGHT}@media (prefers-color-scheme:dark){{{DARK}}}"}


def calendar_svg(payload: dict[str, Any], rtl: bool = False, theme: str = "auto") -> str:
    """The SVG text of a ``posting_calendar`` payload; ``rtl`` mirrors it (the newest week on the left).
    ``theme`` is the page's: "light" or "dark" when the person chose one, else "auto", which follows
    the device as the page does (a picture in an ``<img>`` cannot see the page's own setting)."""
    keys: list[str] = payload["keys"]
    values: list[int] = payload["values"]
    offset = date.fromisoformat(keys[0]).weekday() if keys else 0  # Monday is 0
    weeks = (len(values) + offset + 6) // 7 or 1
    width = SIDE + weeks * STEP + END
    height = TOP + 7 * STEP
    peak = max(values, default=0)

    def x_of(week: int) -> int:
        x = SIDE + week * STEP
        return width - x - CELL if rtl else x

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="t d">',
        f'<title id="t">{escape(payload["title"])}</title><desc id="d">{escape(payload["summary"])}</desc>',
        f"<style>text{{font:10px system-ui,sans-serif}}{PALETTES.get(theme, PALETTES['auto'])}</style>",
    ]
    anchor = "end" if rtl else "start"
    for index, label in payload.get("months", []):
        week = (index + offset) // 7
        x = x_of(week) + (CELL if rtl else 0)
        parts.append(f'<text x="{x}" y="{TOP - 5}" text-anchor="{anchor}">{escape(label)}</text>')
    for row in (0, 2, 4, 6):
        label = payload["weekdays"][row]
        x = width - 2 if rtl else 0
        parts.append(f'<text x="{x}" y="{TOP + row * STEP + CELL - 2}" text-anchor="{anchor}">'
                     f"{escape(label)}</text>")
    for i, value in enumerate(values):
        week, row = divmod(i + offset, 7)
        tip = payload["tooltips"][i] if "tooltips" in payload else ""
        parts.append(f'<rect x="{x_of(week)}" y="{TOP + row * STEP}" width="{CELL}" height="{CELL}" rx="2" '
                     f'fill-opacity="{_shade(value, peak)}"><title>{escape(tip)}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)
