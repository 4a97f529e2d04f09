"""What the OpenID Provider announces to the capabilities above it (blinker signals).

Sent with the Flask app as sender. The operations capability subscribes to count them, so
the provider does not import the metrics (operations sits above oidc).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A token response was issued and committed. ``grant_type``, ``client_id``.
tokens_issued = _signals.signal("passport.oidc.tokens-issued")
