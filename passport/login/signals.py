"""What happens to SSO sessions, announced to the capabilities above (blinker signals).

``session_ended`` is sent, with the Flask app as sender, for every session that ends
(logout, replacement, expiry, an admin, a password reset...), inside the transaction that
ends it and before its commit: receivers add their work to that transaction and never
commit. The oidc capability subscribes to withdraw the session's grants and queue the
back-channel logouts (passport.oidc.revocation.end_session).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Keyword arguments: ``session`` (the SSOSession, already marked ended), ``reason``.
session_ended = _signals.signal("passport.login.session-ended")
