"""Flask extensions of AYNI_SERVIDOR, created unbound and initialised in create_app.

The Authlib OAuth registry is per app (auth/client.py): tests build several apps.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from relying_party_demo.database import db

__all__ = ["babel", "csrf", "db", "migrate"]

migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
