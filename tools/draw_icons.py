"""Draw the site's icons (web app manifest, apple-touch-icon, favicons) into microblog/static/icons/.

The mark: a white speech bubble with two lines of "text" on the brand indigo. One geometry, in units of
the icon's side, gives the PNGs (drawn 4x larger, then scaled down for smooth edges) and favicon.svg.
"Any" icons are a rounded square with transparent corners; maskable ones and the apple-touch-icon
fill the whole square and keep the mark inside the central 60 % (the safe zone is a circle of 80 %).
Run again after changing the mark, and commit the PNGs and the SVG:

    .venv/bin/python tools/draw_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "microblog" / "static" / "icons"
INDIGO = "#4f46e5"  # the accent of static/microblog.css
WHITE = "#ffffff"
SCALE = 4  # supersampling

# The mark in units of its box (0..1): the bubble, its tail, two lines of text.
BUBBLE = (0.14, 0.18, 0.86, 0.70)
BUBBLE_RADIUS = 0.14
TAIL = ((0.28, 0.66), (0.24, 0.88), (0.50, 0.66))
LINES = ((0.28, 0.34, 0.72, 0.42), (0.28, 0.48, 0.58, 0.56))
LINE_RADIUS = 0.04


def draw(size: int, *, full_bleed: bool, mark_share: float) -> Image.Image:
    """One icon of ``size`` pixels; the mark's box is ``mark_share`` of the side, centred."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if full_bleed:
        pen.rectangle((0, 0, big, big), fill=INDIGO)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=INDIGO)
    box = big * mark_share
    left = (big - box) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * box, left + y * box

    pen.rounded_rectangle((*at(*BUBBLE[:2]), *at(*BUBBLE[2:])), radius=BUBBLE_RADIUS * box, fill=WHITE)
    pen.polygon([at(x, y) for x, y in TAIL], fill=WHITE)
    for line in LINES:
        pen.rounded_rectangle((*at(*line[:2]), *at(*line[2:])), radius=LINE_RADIUS * box, fill=INDIGO)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def svg() -> str:
    """The same mark as an SVG favicon (a 64-unit square, rounded as the "any" icons are)."""
    def n(value: float) -> str:
        return f"{value * 64:g}"

    x0, y0, x1, y1 = BUBBLE
    tail = " ".join(f"{n(x)},{n(y)}" for x, y in TAIL)
    lines = "".join(
        f'<rect x="{n(a)}" y="{n(b)}" width="{n(c - a)}" height="{n(d - b)}" rx="{n(LINE_RADIUS)}" '
        f'fill="{INDIGO}"/>' for a, b, c, d in LINES)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
            f'<rect width="64" height="64" rx="{n(0.22)}" fill="{INDIGO}"/>'
            f'<rect x="{n(x0)}" y="{n(y0)}" width="{n(x1 - x0)}" height="{n(y1 - y0)}" '
            f'rx="{n(BUBBLE_RADIUS)}" fill="{WHITE}"/>'
            f'<polygon points="{tail}" fill="{WHITE}"/>{lines}</svg>\n')


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icons = {
        "icon-192.png": draw(192, full_bleed=False, mark_share=1.0),
        "icon-512.png": draw(512, full_bleed=False, mark_share=1.0),
        "icon-maskable-192.png": draw(192, full_bleed=True, mark_share=0.6),
        "icon-maskable-512.png": draw(512, full_bleed=True, mark_share=0.6),
        "apple-touch-icon.png": draw(180, full_bleed=True, mark_share=0.8).convert("RGB"),
        "favicon-32.png": draw(32, full_bleed=False, mark_share=1.0),
    }
    for name, image in icons.items():
        image.save(OUT / name, optimize=True)
    (OUT / "favicon.svg").write_text(svg())
    print("\n".join(sorted(str(path.relative_to(OUT.parent.parent.parent)) for path in OUT.iterdir())))


if __name__ == "__main__":
    main()
