"""What happens to accounts, announced to whoever must react (blinker signals).

Accounts is a leaf of the domain: it never calls sessions, tokens or second factors. It
sends one of these signals after it has changed the row (inside the same transaction, before
the commit), and the capabilities above subscribe in their ``init_app``:

- ``passport.oidc`` routes the cut-off events to ``passport.oidc.revocation`` (the one
  revocation policy), which ends the sessions and revokes the tokens and commits;
- ``passport.mfa`` mails an admin without TOTP the enrolment link;
- ``passport.passkeys`` removes the passkeys of an account whose reset an admin forced.

Every signal is sent with ``passport.signals.announce`` (the Flask app as sender), so
receivers connect per app (``signal.connect(receiver, sender=app)``). A receiver's exception
reaches the sender.

Changes made by the capabilities above accounts (Mi cuenta's password change, "Revocar
acceso", a client disabled or deleted) call ``passport.oidc.revocation`` directly: that
direction is allowed, so they need no signal.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A password stopped working: set or reset through a link, or forced to reset by an admin.
#: Keyword arguments: ``user_id``, ``reason`` (the session end reason, e.g. "password_reset").
password_reset = _signals.signal("passport.accounts.password-reset")

#: An admin forced a password reset (a suspected compromise), before the reset mail is sent:
#: every other first factor must go with the password. ``user`` (the User), ``actor`` (the
#: audit Actor forcing it). Each receiver removes what it keeps without committing and returns
#: how many it removed (an ``int``); the reset's audit event and mail report the sum. If the
#: mail then fails, the sender rolls back and everything stays.
password_reset_forced = _signals.signal("passport.accounts.password-reset-forced")

#: The account was disabled. ``user_id``.
user_disabled = _signals.signal("passport.accounts.user-disabled")

#: Admin rights were granted (a new admin, or a new territory). ``user`` (the User),
#: ``actor`` (the audit Actor who granted them). A receiver's
#: MailDeliveryError or UnverifiedEmailError reaches the sender, which writes nothing then.
admin_granted = _signals.signal("passport.accounts.admin-granted")
