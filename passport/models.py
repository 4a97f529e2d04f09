"""Every model module, imported so the metadata (and Alembic) sees every table."""

from passport.accounts import models as accounts_models
from passport.audit import models as audit_models

__all__ = ["accounts_models", "audit_models"]
