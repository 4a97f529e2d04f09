"""Who may enter the console: checked on the server before every ``/admin`` request.

In order: a live SSO session (else the sign-in page, coming back here), the admin flag (else
404: the console does not reveal itself to others), TOTP or a passkey enrolled (else
enrolment), the second factor (TOTP or a passkey) proven in this session (else step-up, with
the passkey when the admin has one), and console activity within
``ADMIN_IDLE_TIMEOUT_MINUTES`` (else the session loses its second factor and steps up again).
The first console request of a session counts as activity only if the session was signed in
(with the second factor, which sets ``auth_time``) within that limit; otherwise it steps up
first.
Every admin response is ``Cache-Control: no-store``. CSRF is checked app-wide by Flask-WTF.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from passport.accounts.models import User
from passport.admin.blueprint import bp
from passport.admin.models import AdminActivity
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.resume import return_path
from passport.login.sessions import current_sso_session
from passport.mfa.assurance import acr_for
from passport.mfa.assurance import without_second_factor
from passport.mfa.services import session_has_second_factor
from passport.mfa.services import user_has_passkey
from passport.mfa.services import user_has_totp

_ADMIN_KEY = "passport.admin.user"
# Console activity is written at most this often (each write is a commit).
_TOUCH_INTERVAL = timedelta(seconds=15)


def admin_idle_timeout() -> timedelta:
    """How long an admin session may stay unused before it must step up again."""
    return timedelta(minutes=current_app.config["ADMIN_IDLE_TIMEOUT_MINUTES"])


def _drop_second_factor(session: SSOSession, why: str, idle: timedelta) -> bool:
    """The session no longer counts as having proven its second factor; commits; False."""
    session.amr = without_second_factor(session.amr)
    session.acr = acr_for(session.amr)
    record_event(
        "admin.second_factor_expired",
        actor_user_id=session.user_id,
        subject_user_id=session.user_id,
        details={"why": why, "idle_seconds": int(idle.total_seconds())},
    )
    db.session.commit()
    return False


def _is_fresh(session: SSOSession) -> bool:
    """Record console activity for a session with the second factor; False when it must be
    proven again (the factor is then dropped from the session, see the module docstring).

    ``AdminActivity.last_seen_at`` is None after a drop: the factor is back only through a
    new proof (step-up), so finding it then means "just proven".
    """
    now = utcnow()
    activity = db.session.get(AdminActivity, session.id)
    if activity is None:
        activity = AdminActivity(sso_session_id=session.id, last_seen_at=None)
        db.session.add(activity)
        try:
            db.session.flush()
        except IntegrityError:  # two first requests of one session at once: one row wins
            db.session.rollback()
            return _is_fresh(session)
        # The first console visit of a session signed in (with TOTP) long ago proves again.
        stale = now - session.auth_time
        if stale > admin_idle_timeout():
            return _drop_second_factor(session, "stale_sign_in", stale)
    elif activity.last_seen_at is not None:
        idle = now - activity.last_seen_at
        if idle > admin_idle_timeout():
            activity.last_seen_at = None
            return _drop_second_factor(session, "idle", idle)
        if idle < _TOUCH_INTERVAL:
            return True
    activity.last_seen_at = now
    db.session.commit()
    return True


@bp.before_request
def require_admin() -> ResponseReturnValue | None:
    """Refuse the request unless an admin with a recent second factor sends it."""
    session = current_sso_session()
    if session is None:
        return redirect(url_for("login.sign_in", next=return_path()))
    user = session.user
    if not user.is_admin:
        abort(404)
    has_passkey = user_has_passkey(user.id)
    if not user_has_totp(user.id) and not has_passkey:
        return redirect(url_for("mfa.setup", next=return_path()))
    if not session_has_second_factor(session) or not _is_fresh(session):
        # A passkey is the phishing-resistant factor: offered first when the admin has one.
        step_up = "passkeys.step_up" if has_passkey else "mfa.step_up"
        return redirect(url_for(step_up, next=return_path()))
    request.environ[_ADMIN_KEY] = user
    return None


@bp.after_request
def never_cache(response: Response) -> Response:
    """No admin answer (page, redirect, export) may be stored by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.context_processor
def console_context() -> dict[str, Any]:
    """What every console page needs: is the admin national (whole-ministry sections)?"""
    admin: User | None = request.environ.get(_ADMIN_KEY)
    national = admin is not None and admin.admin_dre is None and admin.admin_ugel is None
    return {"console_is_national": national}


def current_admin() -> User:
    """The admin making this request (only valid inside an ``/admin`` view)."""
    user: User | None = request.environ.get(_ADMIN_KEY)
    if user is None:  # a view outside the guard: a programming error, never a person's
        abort(404)
    return user
