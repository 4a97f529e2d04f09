"""Folders shipped inside the packages (templates, migrations), found the same way everywhere.

In the checkout they are the top-level ``templates/`` and ``migrations/`` folders; in a wheel
they are package data (setup.py maps them). ``importlib.resources`` finds either, so nothing
depends on where the source tree is.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource_dir(package: str) -> str:
    """The filesystem folder of ``package`` (Jinja and Alembic need a real directory)."""
    folder = files(package)
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(
            f"{package} is not installed as a folder (zipped installs are not supported)"
        )
    return str(folder)
