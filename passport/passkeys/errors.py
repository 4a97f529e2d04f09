"""Domain errors of passkeys: what happened, not wording (views choose the Spanish)."""

from __future__ import annotations


class PasskeyError(Exception):
    """Base for passkey failures a view is expected to handle."""


class ChallengeUnusable(PasskeyError):  # noqa: N818 - named after what happened
    """The challenge is unknown, used already (a replay), expired or for another purpose."""


class UnknownCredential(PasskeyError):  # noqa: N818
    """No passkey with this id (never registered, or removed): the browser offered a stale one."""


class CeremonyFailed(PasskeyError):  # noqa: N818
    """The browser's answer does not verify (origin, rp id, signature, user verification...)."""


class CounterRegressed(CeremonyFailed):
    """The signature counter went backwards: possibly a cloned authenticator."""


class NotFresh(PasskeyError):  # noqa: N818
    """Adding a passkey needs a sign-in within the last few minutes."""


class UnknownPasskey(PasskeyError):  # noqa: N818
    """No passkey of this person has that id (rename/remove)."""
