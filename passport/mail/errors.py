"""Mail failures a caller is expected to handle."""

from __future__ import annotations


class MailDeliveryError(Exception):
    """The transport could not take the message (SMTP down, outbox not writable...)."""
