"""HTTP security headers on every response.

CSP: no inline script or style, images only from us or ``data:`` (the CAPTCHA image is
inline), no framing, and ``form-action`` limited to our own origin by default.

``form-action`` and redirects: CSP Level 3 checks ``form-action`` against every URL of the
redirect chain that follows a form submission (W3C CSP3 §6.3.2.1, enforced by Chromium). A
sign-in or consent form that resumes an authorization request ends in a redirect to the
client's ``redirect_uri``, so those pages must also allow that one origin. Views do that with
``allow_form_action(url)``; the login page adds the redirect origin of the authorization it
resumes. When such a page cannot know the origin it calls ``allow_any_form_action()``, which
drops the directive for that one response (forms still post only to our relative URLs, and
``frame-ancestors 'none'`` / X-Frame-Options keep the clickjacking protection). Pages of the
``oidc`` blueprint get that by default unless they name origins, so a client redirect is never
broken by a header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import request

BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Same-origin only: Flask-WTF checks the Referer of HTTPS form posts against our host.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

_SECURITY_HEADER_ITEMS = tuple(
    (name, name.lower(), value) for name, value in SECURITY_HEADERS.items()
)

_ANY = "*"
# Per-request state lives in the WSGI environ: ``g`` outlives a request in the tests.
_FORM_ACTION_KEY = "passport.form_action"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def allow_form_action(url: str) -> None:
    """Let this response's forms end in a redirect to ``url``'s origin (a client's)."""
    origin = origin_of(url)
    if origin is None:
        return
    allowed: set[str] = request.environ.setdefault(_FORM_ACTION_KEY, set())
    allowed.add(origin)


def allow_any_form_action() -> None:
    """Drop ``form-action`` from this response (the redirect target is not known here)."""
    allowed: set[str] = request.environ.setdefault(_FORM_ACTION_KEY, set())
    allowed.add(_ANY)


def content_security_policy() -> str:
    """The CSP for the current response."""
    allowed: set[str] | None = request.environ.get(_FORM_ACTION_KEY)
    if allowed is None and request.blueprint == "oidc":
        allowed = {_ANY}
    if allowed and _ANY in allowed:
        return BASE_POLICY
    sources = " ".join(["'self'", *sorted(allowed or ())])
    return f"{BASE_POLICY}; form-action {sources}"


def fixed_security_headers(*, secure: bool) -> tuple[tuple[str, str], ...]:
    """What ``add_security_headers`` adds to a GET answer without forms (``form-action`` not
    restricted), for responses precomputed outside Flask (passport/pipeline.py)."""
    headers = [("Content-Security-Policy", BASE_POLICY), *SECURITY_HEADERS.items()]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return tuple(headers)


def add_security_headers(response: Response) -> Response:
    """After-request hook: security headers; ``no-store`` on pages and form answers."""
    headers = response.headers
    # One pass over the headers a view set, rather than a scan per setdefault (every request).
    present = {name.lower() for name, _ in headers.items()}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", content_security_policy())
    for name, key, value in _SECURITY_HEADER_ITEMS:
        if key not in present:
            headers.add(name, value)
    # Pages carry forms (CSRF tokens, CAPTCHA) or personal data: never cache them anywhere.
    if response.mimetype == "text/html" or request.method == "POST":
        headers["Cache-Control"] = "no-store"
        if "pragma" not in present:
            headers.add("Pragma", "no-cache")
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", "max-age=31536000")
    return response


def init_headers(app: Flask) -> None:
    """Install the header hook."""
    app.after_request(add_security_headers)
