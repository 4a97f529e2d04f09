"""The enrolment QR code, drawn by Passport itself (no external service sees the secret)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(uri: str, title: str) -> Markup:
    """An inline SVG of ``uri``, black on white (dark page themes must not invert it)."""
    code = segno.make(uri, error="m")
    # segno escapes the title; the path data is its own output, never the person's input.
    return Markup(code.svg_inline(scale=5, dark="#000", light="#fff", title=title))  # noqa: S704
