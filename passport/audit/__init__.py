"""The security audit log."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Chain every audit event to the previous one (tamper evidence)."""
    from passport.audit.chain import install_chain_hook

    install_chain_hook()
