"""Every model module, imported so the metadata (and Alembic) sees every table."""

from passport.accounts import models as accounts_models
from passport.admin import models as admin_models
from passport.audit import models as audit_models
from passport.captcha import models as captcha_models
from passport.login import models as login_models
from passport.mfa import models as mfa_models
from passport.oidc import models as oidc_models
from passport.passkeys import models as passkeys_models

__all__ = [
    "accounts_models",
    "admin_models",
    "audit_models",
    "captcha_models",
    "login_models",
    "mfa_models",
    "oidc_models",
    "passkeys_models",
]
