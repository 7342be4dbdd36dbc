"""QR codes drawn by the app itself (segno, pure Python): no outside service ever sees what they hold."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def svg(data: str, title: str) -> Markup:
    """``data`` as an inline SVG QR code, black on white with its quiet zone, titled for screen readers.

    Colours are presentation attributes, never a ``style`` attribute, which the Content-Security-Policy
    would block. segno escapes the title.
    """
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, scale=5, border=4, dark="#000", light="#fff",
              title=title, svgclass="qr-code", lineclass=None, omitsize=False)
    return Markup(out.getvalue().decode("utf-8"))
