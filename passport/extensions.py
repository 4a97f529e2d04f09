"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from passport.database import db

__all__ = ["babel", "csrf", "db", "limiter", "mail", "migrate"]

migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
mail = Mail()
# Storage is chosen in create_app: in-process by default, Redis when PASSPORT_REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
