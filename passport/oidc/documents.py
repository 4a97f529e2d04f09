"""Discovery and JWKS as precomputed answers (passport/pipeline.py): bytes, headers, ETag.

The bodies are the ones the views serve (``provider_metadata_json``, the cached key ring's
``jwks_json``), read again on every request, so a key rotation or ``caches.clear_all`` shows at
once: the headers and the ETag are recomputed whenever the body changes. The headers are the
views' own (Cache-Control, CORS) plus what ``security.headers`` adds to every answer. A client
that sends the current ETag in ``If-None-Match`` gets ``304 Not Modified`` without the body.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask import current_app

from passport.oidc.discovery import provider_metadata_json
from passport.oidc.keys import key_ring
from passport.pipeline import Answer
from passport.pipeline import Document
from passport.pipeline import PassportFlask
from passport.security.headers import fixed_security_headers

_PREPARED = "passport.oidc.documents"
_MOST_PREPARED = 16  # bodies x schemes kept; a rotation adds one, so this is never reached


def etag_of(body: bytes) -> str:
    """A strong validator: the body's SHA-256, shortened (RFC 9110 §8.8.3)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag (weak comparison) is ``etag``."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def public_answer(
    environ: dict[str, Any],
    body: bytes,
    *,
    content_type: str,
    max_age: int,
    route: str,
    endpoint: str,
) -> Answer:
    """The 200 (or 304) answer of a public, cacheable JSON document."""
    secure = environ.get("wsgi.url_scheme") == "https"
    key = (body, content_type, max_age, secure)
    prepared: dict[tuple[bytes, str, int, bool], tuple[str, Answer, Answer]] = (
        current_app.extensions.setdefault(_PREPARED, {})
    )
    found = prepared.get(key)
    if found is None:
        etag = etag_of(body)
        common = (
            ("Cache-Control", f"public, max-age={max_age}"),
            ("Access-Control-Allow-Origin", "*"),
            ("ETag", etag),
            *fixed_security_headers(secure=secure),
        )
        full = Answer(
            "200 OK",
            (("Content-Type", content_type), ("Content-Length", str(len(body))), *common),
            body,
            route,
            endpoint,
        )
        unchanged = Answer("304 Not Modified", common, b"", route, endpoint)
        found = (etag, full, unchanged)
        if len(prepared) >= _MOST_PREPARED:
            prepared.clear()
        prepared[key] = found
    etag, full, unchanged = found
    return unchanged if matches(environ.get("HTTP_IF_NONE_MATCH"), etag) else full


def discovery_document(route: str) -> Document:
    def answer(environ: dict[str, Any]) -> Answer:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return public_answer(
            environ,
            provider_metadata_json(app),
            content_type="application/json",
            max_age=int(app.config["DISCOVERY_CACHE_SECONDS"]),
            route=route,
            endpoint="oidc.discovery",
        )

    return answer


def jwks_document(route: str) -> Document:
    def answer(environ: dict[str, Any]) -> Answer:
        return public_answer(
            environ,
            key_ring().jwks_json,
            content_type="application/jwk-set+json",
            max_age=int(current_app.config["JWKS_CACHE_SECONDS"]),
            route=route,
            endpoint="oidc.jwks",
        )

    return answer


def register_documents(app: Flask) -> None:
    """Answer the discovery and JWKS routes from their precomputed documents."""
    if not isinstance(app, PassportFlask):
        return
    makers = {"oidc.discovery": discovery_document, "oidc.jwks": jwks_document}
    for rule in app.url_map.iter_rules():
        make = makers.get(rule.endpoint)
        if make is not None and not rule.arguments:
            app.documents[rule.rule] = make(rule.rule)
