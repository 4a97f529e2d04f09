"""How the login resumes an OpenID Connect authorization request (registered by oidc)."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import current_app
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue


class PendingAuthorization(Protocol):
    """An /authorize request waiting for the person to sign in.

    The oidc capability registers ``app.extensions["passport.pending_authorization"]``, a
    callable ``lookup(authz_id) -> PendingAuthorization | None``, and
    ``app.extensions["passport.complete_authorization"]``, a callable
    ``complete(authz_id) -> Response | None`` (see ``finish_sign_in``). An implementation may also
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


MAX_NEXT_LENGTH = 2000
# Percent-decoding rounds applied to a path before it is judged (a proxy may decode again).
_DECODE_ROUNDS = 3


def _is_plain(text: str) -> bool:
    """Printable ASCII without a backslash.

    Browsers drop tabs and line breaks inside a URL and read ``\\`` as ``/``, and Werkzeug
    strips or refuses such characters when it writes ``Location``: ``/<tab>/evil.com``
    would leave as ``//evil.com``. Our own return paths are ASCII (url_for encodes them).
    """
    return all("!" <= character <= "~" and character != "\\" for character in text)


def _own_origins() -> set[tuple[str, str]]:
    """(scheme, host) of this site: the issuer and the host this request came to."""
    return {urlsplit(request.host_url)[:2], urlsplit(current_app.config["ISSUER"])[:2]}


def local_next(url: str | None) -> str | None:
    """``url`` when a redirect may follow it (a URL of this site), else None.

    The one decision for every user-supplied target (``next``, a stored resume URL): a path
    that starts with a single ``/``, or an absolute URL of our own origin; printable ASCII
    (no control character, no whitespace of any kind, no backslash); a path that still
    starts with a single ``/`` after percent-decoding; at most ``MAX_NEXT_LENGTH`` long.
    """
    if not url or len(url) > MAX_NEXT_LENGTH or not _is_plain(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme or parts.netloc:
        if (parts.scheme, parts.netloc) not in _own_origins():  # "http:/x" has no netloc
            return None
    elif not url.startswith("/") or url.startswith("//"):
        return None
    path = parts.path
    for _ in range(_DECODE_ROUNDS):
        if path.startswith("//") or not _is_plain(path):
            return None
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    else:
        return None  # still encoded after every round: nobody links like that
    return url


def is_local_url(url: str) -> bool:
    """True when ``url`` is a URL of this site that a redirect may follow (``local_next``)."""
    return local_next(url) is not None


def return_path() -> str:
    """This request's path and query: the ``next`` that brings the person back here."""
    return request.full_path.rstrip("?")


def sign_in_destination(pending: PendingAuthorization | None, next_url: str | None) -> str:
    """Where a completed sign-in goes: the OIDC request, else ``next``, else the welcome page."""
    if pending is not None and is_local_url(pending.resume_url):
        return pending.resume_url
    return local_next(next_url) or url_for("login.welcome")


def finish_sign_in(
    authz_id: str | None, pending: PendingAuthorization | None, next_url: str | None
) -> ResponseReturnValue:
    """The answer to a form that just started the SSO session.

    When it resumes an authorization request that needs no other page, the client's own answer
    (one redirect fewer on a slow link); otherwise a redirect to ``sign_in_destination``.
    """
    complete = current_app.extensions.get("passport.complete_authorization")
    if pending is not None and authz_id and complete is not None:
        answer: ResponseReturnValue | None = complete(authz_id)
        if answer is not None:
            return answer
    return redirect(sign_in_destination(pending, next_url))
