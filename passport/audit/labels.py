"""Spanish names of the audit log's event codes, for the people who read the console.

The log stores stable codes (``user.disabled``); the console shows the name and keeps the code
beside it, as exports and scripts filter by code. A test scans every ``record*`` call so that a
new event cannot reach the console without a name.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

EVENT_LABELS: dict[str, LazyString] = {
    # Sign-in and sessions
    "login_succeeded": _l("Ingreso correcto"),
    "login_password_accepted": _l("Contraseña correcta; falta el segundo paso"),
    "login_failed": _l("Intento de ingreso fallido"),
    "captcha_failed": _l("Captcha incorrecto"),
    "account_locked": _l("Cuenta bloqueada por intentos fallidos"),
    "logout": _l("Cierre de sesión"),
    "session.revoked": _l("Sesión cerrada por un administrador"),
    "sessions.ended_by_user": _l("Otras sesiones cerradas por la persona"),
    # Passwords and links
    "password.set": _l("Contraseña generada"),
    "password.reset": _l("Contraseña restablecida"),
    "password.change": _l("Contraseña cambiada"),
    "password_link.requested": _l("Enlace de contraseña solicitado"),
    "password_link.processed": _l("Solicitud de enlace de contraseña atendida"),
    "password_link.rejected": _l("Enlace de contraseña rechazado"),
    "mail.sent": _l("Correo enviado"),
    "mail.requeued": _l("Correos fallidos puestos de nuevo en cola"),
    # Second factor
    "mfa.totp_enabled": _l("Verificación en dos pasos activada"),
    "mfa.totp_disabled": _l("Verificación en dos pasos desactivada"),
    "mfa.step_up": _l("Segundo paso verificado"),
    "mfa.recovery_code_used": _l("Código de recuperación usado"),
    "passkey.registered": _l("Llave de acceso agregada"),
    "passkey.used": _l("Ingreso con llave de acceso"),
    "passkey.failed": _l("Llave de acceso rechazada"),
    "passkey.renamed": _l("Llave de acceso renombrada"),
    "passkey.removed": _l("Llave de acceso quitada"),
    "passkey.counter_regression": _l("Llave de acceso posiblemente clonada (contador)"),
    "passkey.reauthenticated": _l("Contraseña confirmada para agregar una llave de acceso"),
    "mfa.recovery_codes_regenerated": _l("Códigos de recuperación renovados"),
    "mfa.enrolment_link_sent": _l("Enlace para activar el segundo paso enviado"),
    "admin.second_factor_expired": _l("Segundo paso de administración vencido"),
    # Accounts
    "user.created": _l("Usuario creado"),
    "user.updated": _l("Usuario modificado"),
    "user.change_held": _l("Solicitud fuera del ámbito retenida para revisión nacional"),
    "user.held_request_resolved": _l("Solicitud retenida resuelta por un administrador nacional"),
    "user.disabled": _l("Usuario deshabilitado"),
    "user.enabled": _l("Usuario habilitado"),
    "user.unlocked": _l("Usuario desbloqueado"),
    "user.activation_resent": _l("Correo de activación reenviado"),
    "user.password_reset_forced": _l("Restablecimiento de contraseña forzado"),
    "users.imported": _l("Usuarios importados (CSV)"),
    "users.import_confirmed": _l("Importación de usuarios confirmada"),
    "admin.granted": _l("Permiso de administración otorgado"),
    "admin.revoked": _l("Permiso de administración retirado"),
    # Applications and consent
    "consent.granted": _l("Autorización a aplicación otorgada"),
    "consent.denied": _l("Autorización a aplicación denegada"),
    "consent.revoked": _l("Autorización a aplicación retirada"),
    "client.created": _l("Aplicación registrada"),
    "client.registered": _l("Aplicación autorregistrada"),
    "client.updated": _l("Aplicación modificada"),
    "client.disabled": _l("Aplicación deshabilitada"),
    "client.enabled": _l("Aplicación habilitada"),
    "client.deleted": _l("Aplicación eliminada"),
    "client.secret_rotated": _l("Secreto de aplicación renovado"),
    "client.scopes_approved": _l("Permisos de aplicación aprobados"),
    "client.scopes_rejected": _l("Permisos de aplicación rechazados"),
    "client.initial_token_created": _l("Token de registro creado"),
    "client.initial_token_revoked": _l("Token de registro revocado"),
    "resource.created": _l("Recurso (API) registrado"),
    "resource.updated": _l("Recurso (API) modificado"),
    "resource.disabled": _l("Recurso (API) deshabilitado"),
    "resource.enabled": _l("Recurso (API) habilitado"),
    # Tokens and keys
    "authorization_code.reused": _l("Código de autorización reutilizado"),
    "refresh_token.reused": _l("Token de actualización reutilizado"),
    "signing_keys.rotated": _l("Claves de firma rotadas"),
    "signing_keys.pruned": _l("Claves de firma depuradas"),
    "backchannel_logout.requeued": _l(
        "Avisos de cierre de sesión fallidos puestos de nuevo en cola"
    ),
    # The audit log itself
    "admin.audit_exported": _l("Auditoría exportada"),
    "admin.audit_verified": _l("Integridad de la auditoría verificada"),
    "audit.archived": _l("Eventos antiguos de auditoría archivados"),
}

OUTCOME_LABELS: dict[str, LazyString] = {
    "success": _l("correcto"),
    "failure": _l("fallido"),
}


def event_label(code: str) -> str:
    """The event's Spanish name (or English, per the page), or the code for an unknown one."""
    label = EVENT_LABELS.get(code)
    return str(label) if label is not None else code


def outcome_label(code: str) -> str:
    """``correcto`` / ``fallido``, or the stored value when it is neither."""
    label = OUTCOME_LABELS.get(code)
    return str(label) if label is not None else code
