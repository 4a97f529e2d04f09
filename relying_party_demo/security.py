"""Response headers: a strict CSP (no inline script or style), no caching of pay data."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app


def origin_of(url: str) -> str:
    """``http://127.0.0.1:5000/x`` → ``http://127.0.0.1:5000``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def add_security_headers(response: Response) -> Response:
    """Set CSP and friends on every response."""
    # form-action must allow Passport: Chrome applies it to the redirect after our logout POST.
    issuer = origin_of(current_app.config["ISSUER"])
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; form-action 'self' {issuer}; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not response.headers.get("Cache-Control") and response.mimetype != "text/css":
        # Pay slips and legajos are personal: keep them out of shared and browser caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Install the header hook."""
    app.after_request(add_security_headers)
