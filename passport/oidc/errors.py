"""Domain errors of the oidc capability (protocol errors are Authlib's OAuth2Error)."""

from __future__ import annotations


class OIDCError(Exception):
    """Base for failures the oidc views and commands handle."""


class InvalidField(OIDCError):  # noqa: N818 - STYLE.md names errors by what happened
    """A field of something being registered fails validation; which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidClientMetadata(InvalidField):
    """Client metadata fails validation (CLI, dynamic registration, admin console)."""


class UnknownClient(OIDCError):  # noqa: N818 - STYLE.md names errors by what happened
    """No client with this client_id."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"unknown client {client_id!r}")
        self.client_id = client_id


class KeyDecryptionError(OIDCError):
    """A stored private key cannot be decrypted (the key-encryption key changed)."""


class ClientHasNoSecret(OIDCError):  # noqa: N818 - STYLE.md names errors by what happened
    """The client authenticates without a shared secret (none or private_key_jwt)."""

    def __init__(self, client_id: str) -> None:
        super().__init__(f"client {client_id!r} has no client secret")
        self.client_id = client_id


class InvalidResource(InvalidField):
    """A resource (RFC 8707) fails validation (CLI, admin console)."""


class UnknownResource(OIDCError):  # noqa: N818 - STYLE.md names errors by what happened
    """No resource with this identifier."""

    def __init__(self, identifier: str) -> None:
        super().__init__(f"unknown resource {identifier!r}")
        self.identifier = identifier
