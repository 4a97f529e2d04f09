"""One error handler for the app: Spanish HTML pages for people, JSON for protocol clients."""

from __future__ import annotations

from flask import Flask


def register_error_pages(app: Flask) -> None:
    """Install the error handlers."""
