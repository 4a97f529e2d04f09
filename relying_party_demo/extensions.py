"""Flask extensions of AYNI_SERVIDOR, created unbound and initialised in create_app."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from relying_party_demo.database import db

__all__ = ["babel", "csrf", "db", "migrate", "oauth"]

migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
oauth = OAuth()
