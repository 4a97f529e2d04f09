"""How the login resumes an OpenID Connect authorization request (registered by oidc)."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app
from flask import request
from flask import url_for


class PendingAuthorization(Protocol):
    """An /authorize request waiting for the person to sign in.

    The oidc capability registers ``app.extensions["passport.pending_authorization"]``, a
    callable ``lookup(authz_id) -> PendingAuthorization | None``. An implementation may also
    expose ``redirect_uri`` (the client's): the login page then allows that origin in its CSP
    ``form-action`` (see ``passport/security/headers.py``).
    """

    client_name: str
    login_hint: str | None
    ui_locales: list[str]
    resume_url: str


MAX_AUTHZ_ID_LENGTH = 128


def find_pending_authorization(authz_id: str | None) -> PendingAuthorization | None:
    """The pending request named by ``authz`` in the URL, or None (absent, unknown, expired)."""
    if not authz_id or len(authz_id) > MAX_AUTHZ_ID_LENGTH:
        return None
    lookup = current_app.extensions.get("passport.pending_authorization")
    if lookup is None:
        return None
    pending: PendingAuthorization | None = lookup(authz_id)
    return pending


def is_local_url(url: str) -> bool:
    """True for a URL on this site: a path (not ``//host``) or our own origin."""
    if url.startswith("/"):
        return not url.startswith(("//", "/\\"))
    parts = urlsplit(url)
    own = {urlsplit(request.host_url)[:2], urlsplit(current_app.config["ISSUER"])[:2]}
    return parts.scheme in ("http", "https") and (parts.scheme, parts.netloc) in own


MAX_NEXT_LENGTH = 2000


def local_next(url: str | None) -> str | None:
    """``url`` when it may be followed after sign-in (a local URL of sane length), else None."""
    if not url or len(url) > MAX_NEXT_LENGTH or not is_local_url(url):
        return None
    return url


def sign_in_destination(pending: PendingAuthorization | None, next_url: str | None) -> str:
    """Where a completed sign-in goes: the OIDC request, else ``next``, else the welcome page."""
    if pending is not None and is_local_url(pending.resume_url):
        return pending.resume_url
    return local_next(next_url) or url_for("login.welcome")
