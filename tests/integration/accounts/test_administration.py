"""Administering people: territorial scope, reasons, and each action's effects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from passport.accounts import administration as admin
from passport.accounts.errors import AccountStateError
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.services import NewUser
from passport.admin import access
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.oidc.models import Consent
from passport.oidc.models import OAuthToken
from passport.security.passwords import verify_password
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.integration.oidc.conftest import register_client

DRE_LIMA = "DRE Lima Metropolitana"
UGEL_01 = "UGEL 01 San Juan de Miraflores"
UGEL_02 = "UGEL 02 Rímac"


@pytest.fixture
def national(app: Any) -> User:
    return make_user(is_admin=True, given_name="Jorge", family_name="Salas")


@pytest.fixture
def ugel_admin(app: Any) -> User:
    return make_user(
        is_admin=True, admin_dre=DRE_LIMA, admin_ugel=UGEL_01, given_name="Elsa", family_name="Ríos"
    )


@pytest.fixture
def teacher(app: Any) -> User:
    return make_user(dre=DRE_LIMA, ugel=UGEL_01, given_name="Rosa", family_name="Quispe")


@pytest.fixture
def outsider(app: Any) -> User:
    return make_user(dre=DRE_LIMA, ugel=UGEL_02, given_name="Rosa", family_name="Mamani")


def last_event(name: str) -> AuditEvent:
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id.desc())
    )
    assert event is not None, f"no {name} event"
    return event


def start_session(user: User) -> SSOSession:
    session = SSOSession(
        token_hash=f"{user.id:064d}",
        user=user,
        amr=["pwd"],
        expires_at=utcnow() + timedelta(hours=1),
    )
    db.session.add(session)
    db.session.commit()
    return session


def issue_token(user: User, client_pk: int, *, offline: bool, sid: str | None = None) -> OAuthToken:
    token = OAuthToken(
        client_pk=client_pk,
        user_id=user.id,
        access_token_hash=f"a{user.id}{client_pk}{offline}".ljust(64, "0"),
        refresh_token_hash=f"r{user.id}{client_pk}{offline}".ljust(64, "0"),
        scope="openid",
        family_id=f"f{user.id}{offline}",
        sid=sid,
        is_offline=offline,
        access_expires_at=utcnow() + timedelta(minutes=10),
        refresh_expires_at=utcnow() + timedelta(days=1),
    )
    db.session.add(token)
    db.session.commit()
    return token


def client_pk(client_id: str) -> int:
    from passport.oidc.models import OAuthClient

    pk = db.session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == client_id))
    assert pk is not None
    return pk


# --- scope ---------------------------------------------------------------------------------


def test_a_ugel_admin_searches_only_its_ugel(
    ugel_admin: User, teacher: User, outsider: User
) -> None:
    found = admin.search_users("Rosa", actor=ugel_admin)
    assert [user.dni for user in found.items] == [teacher.dni]
    assert admin.search_users(outsider.dni, actor=ugel_admin).items == []


def test_a_national_admin_searches_everyone_by_dni_name_or_email(
    national: User, teacher: User, outsider: User
) -> None:
    assert {u.dni for u in admin.search_users("rosa", actor=national).items} == {
        teacher.dni,
        outsider.dni,
    }
    assert [u.dni for u in admin.search_users(teacher.dni[:5], actor=national).items] != []
    assert [u.dni for u in admin.search_users(teacher.email.upper(), actor=national).items] == [
        teacher.dni
    ]
    assert admin.search_users("rosa mamani", actor=national).items == [outsider]


def test_search_treats_like_wildcards_as_text(national: User, teacher: User) -> None:
    assert admin.search_users("%", actor=national).items == []
    assert admin.search_users("_", actor=national).items == []


def test_search_pages(national: User) -> None:
    for _ in range(3):
        make_user(family_name="Zapata")
    first = admin.search_users("Zapata", actor=national, per_page=2)
    second = admin.search_users("Zapata", actor=national, page=2, per_page=2)
    assert (len(first.items), first.has_next, first.has_previous) == (2, True, False)
    assert (len(second.items), second.has_next, second.has_previous) == (1, False, True)


def test_a_ugel_admin_cannot_find_or_change_a_user_of_another_ugel(
    ugel_admin: User, outsider: User
) -> None:
    with pytest.raises(UserNotFoundError):
        admin.find_user(outsider.dni, actor=ugel_admin)
    for action in (admin.disable_user, admin.unlock_user, admin.force_password_reset):
        with pytest.raises(UserNotFoundError):
            action(outsider.dni, actor=Actor(user_id=ugel_admin.id, reason="ticket 1"))
    db.session.refresh(outsider)
    assert outsider.status is UserStatus.ACTIVE


def test_an_unknown_and_an_out_of_scope_dni_raise_the_same_error(
    ugel_admin: User, outsider: User
) -> None:
    errors = []
    for dni in (outsider.dni, "99999999"):
        with pytest.raises(UserNotFoundError) as caught:
            admin.find_user(dni, actor=ugel_admin)
        errors.append(type(caught.value))
    assert errors[0] is errors[1]


def test_a_plain_user_cannot_administer(teacher: User, outsider: User) -> None:
    with pytest.raises(NotPermittedError):
        admin.search_users("", actor=teacher)


def test_a_dre_admin_sees_every_ugel_of_its_dre(teacher: User, outsider: User) -> None:
    dre_admin = make_user(is_admin=True, admin_dre=DRE_LIMA)
    other = make_user(dre="DRE Cusco", ugel="UGEL Cusco")
    found = {u.dni for u in admin.search_users("", actor=dre_admin).items}
    assert {teacher.dni, outsider.dni} <= found
    assert other.dni not in found


def test_counts_are_scoped(ugel_admin: User, teacher: User, outsider: User) -> None:
    counts = admin.count_users(actor=ugel_admin)
    assert counts == {"pending": 0, "active": 1, "disabled": 0}


# --- reasons -------------------------------------------------------------------------------


def test_a_scoped_admin_must_give_a_reason_for_every_action(
    ugel_admin: User, teacher: User
) -> None:
    with pytest.raises(ReasonRequiredError):
        admin.unlock_user(teacher.dni, actor=Actor(user_id=ugel_admin.id, reason="   "))
    admin.unlock_user(teacher.dni, actor=Actor(user_id=ugel_admin.id, reason="Ticket  4711 "))
    event = last_event("user.unlocked")
    assert event.details is not None
    assert event.details["reason"] == "Ticket 4711"
    assert event.actor_user_id == ugel_admin.id


def test_a_national_admin_must_justify_a_disable_but_not_an_unlock(
    national: User, teacher: User
) -> None:
    with pytest.raises(ReasonRequiredError):
        admin.disable_user(teacher.dni, actor=Actor(user_id=national.id))
    assert admin.unlock_user(teacher.dni, actor=Actor(user_id=national.id)) is False
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE


def test_the_system_needs_no_reason(teacher: User) -> None:
    assert admin.disable_user(teacher.dni, actor=Actor(client_id="ministry-hr")) is True
    event = last_event("user.disabled")
    assert event.client_id == "ministry-hr"
    assert event.actor_user_id is None


def test_the_accounts_service_itself_applies_the_territory_rule(
    ugel_admin: User, outsider: User
) -> None:
    # No layer above it to forget: the service called directly refuses outside the territory.
    from passport.accounts import services

    with pytest.raises(UserNotFoundError):
        services.disable_user(outsider.dni, actor=Actor(user_id=ugel_admin.id, reason="x"))
    db.session.refresh(outsider)
    assert outsider.status is UserStatus.ACTIVE


def test_the_accounts_service_creates_only_in_the_admin_territory(ugel_admin: User) -> None:
    from passport.accounts import services

    as_ugel = Actor(user_id=ugel_admin.id, reason="x")
    with pytest.raises(NotPermittedError):
        services.create_user(
            NewUser("45678914", "a@example.edu.pe", "Ana", "Rojas", ugel=UGEL_02), actor=as_ugel
        )
    with pytest.raises(NotPermittedError):  # admin rights are for national admins to give
        services.create_user(
            NewUser(
                "45678915", "b@example.edu.pe", "Ana", "Rojas", email_verified=True, is_admin=True
            ),
            actor=as_ugel,
        )
    assert db.session.scalar(select(User).where(User.dni.in_(["45678914", "45678915"]))) is None


def test_an_actor_naming_a_removed_person_is_refused_not_taken_for_the_system(
    teacher: User,
) -> None:
    with pytest.raises(NotPermittedError):
        admin.disable_user(teacher, actor=Actor(user_id=2_000_000_000, reason="x"))
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE


# --- actions -------------------------------------------------------------------------------


def test_disabling_ends_sessions_and_revokes_every_token_at_once(
    national: User, teacher: User
) -> None:
    rp = register_client()
    session = start_session(teacher)
    online = issue_token(teacher, client_pk(rp.client_id), offline=False, sid=session.sid)
    offline = issue_token(teacher, client_pk(rp.client_id), offline=True)

    assert admin.disable_user(
        teacher, actor=Actor(user_id=national.id, ip_address="10.0.0.9", reason="Cese")
    )

    for row in (session, online, offline, teacher):
        db.session.refresh(row)
    assert session.ended_at is not None
    assert online.revoked_at is not None
    assert offline.revoked_at is not None
    assert teacher.status is UserStatus.DISABLED
    event = last_event("user.disabled")
    assert event.ip_address == "10.0.0.9"
    assert event.details is not None
    assert event.details["reason"] == "Cese"


def test_enable_after_disable(national: User, teacher: User) -> None:
    admin.disable_user(teacher, actor=Actor(user_id=national.id, reason="x"))
    assert admin.enable_user(teacher, actor=Actor(user_id=national.id)) is True
    assert admin.enable_user(teacher, actor=Actor(user_id=national.id)) is False
    db.session.refresh(teacher)
    assert teacher.status is UserStatus.ACTIVE


def test_editing_the_email_makes_it_unverified_and_audits_field_names_only(
    national: User, teacher: User
) -> None:
    teacher.email_verified = True
    db.session.commit()
    changed = admin.update_user(
        teacher,
        email="rosa.nueva@example.edu.pe",
        given_name=teacher.given_name,
        family_name=teacher.family_name,
        phone="+51 987 654 321",
        actor=Actor(user_id=national.id),
    )
    assert changed == ["email", "phone_number"]
    db.session.refresh(teacher)
    assert teacher.email == "rosa.nueva@example.edu.pe"
    assert teacher.email_verified is False
    assert teacher.phone_number == "+51987654321"
    event = last_event("user.updated")
    assert event.details == {"fields": ["email", "phone_number"]}
    assert "rosa.nueva" not in str(event.details)


def test_an_edit_that_changes_nothing_writes_nothing(national: User, teacher: User) -> None:
    same = {
        "email": teacher.email,
        "given_name": teacher.given_name,
        "family_name": teacher.family_name,
        "phone": None,
    }
    assert admin.update_user(teacher, **same, actor=Actor(user_id=national.id)) == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "user.updated")) is None


def test_an_invalid_edit_is_refused_whole(national: User, teacher: User) -> None:
    from passport.accounts.errors import InvalidUserDataError

    with pytest.raises(InvalidUserDataError):
        admin.update_user(
            teacher,
            email="no-es-correo",
            given_name="Nuevo",
            family_name=teacher.family_name,
            phone=None,
            actor=Actor(user_id=national.id),
        )
    db.session.refresh(teacher)
    assert teacher.given_name == "Rosa"


def test_forcing_a_reset_kills_the_password_sessions_and_tokens_and_mails_a_link(
    national: User, teacher: User, outbox: Any
) -> None:
    session = start_session(teacher)
    admin.force_password_reset(
        teacher, actor=Actor(user_id=national.id, reason="Cuenta comprometida")
    )
    db.session.refresh(teacher)
    db.session.refresh(session)
    assert teacher.status is UserStatus.ACTIVE
    assert not verify_password(teacher.password_hash, DEFAULT_PASSWORD)
    assert session.ended_at is not None
    assert "Restablecer" in str(outbox.last()["Subject"])
    assert last_event("user.password_reset_forced").details == {
        "passkeys_removed": 0,
        "reason": "Cuenta comprometida",
    }


def test_a_reset_is_refused_for_a_pending_account(national: User) -> None:
    pending = make_user(password=None)
    with pytest.raises(AccountStateError):
        admin.force_password_reset(pending, actor=Actor(user_id=national.id, reason="x"))


def test_resending_the_activation_mail(national: User, outbox: Any) -> None:
    pending = make_user(password=None)
    admin.resend_activation(pending.dni, actor=Actor(user_id=national.id))
    assert "Generar tu contraseña" in str(outbox.last()["Subject"])
    assert last_event("user.activation_resent").actor_user_id == national.id


def test_the_activation_mail_is_not_resent_to_an_active_account(
    national: User, teacher: User
) -> None:
    with pytest.raises(AccountStateError):
        admin.resend_activation(teacher, actor=Actor(user_id=national.id))


def test_a_scoped_admin_creates_users_only_in_its_territory(ugel_admin: User, outbox: Any) -> None:
    created = admin.create_user(
        NewUser("45678912", "nuevo@example.edu.pe", "Luis", "Paredes"),
        actor=Actor(user_id=ugel_admin.id, reason="Alta por resolución 12"),
    )
    assert (created.dre, created.ugel) == (DRE_LIMA, UGEL_01)
    assert created.status is UserStatus.PENDING
    assert "Generar tu contraseña" in str(outbox.last()["Subject"])
    with pytest.raises(NotPermittedError):
        admin.create_user(
            NewUser("45678913", "otro@example.edu.pe", "Ana", "Rojas", ugel=UGEL_02),
            actor=Actor(user_id=ugel_admin.id, reason="x"),
        )
    with pytest.raises(UserNotFoundError):
        admin.find_user("45678913", actor=None)


def test_a_scoped_admin_cannot_change_an_admin_account(ugel_admin: User) -> None:
    colleague = make_user(is_admin=True, admin_dre=DRE_LIMA, admin_ugel=UGEL_01, ugel=UGEL_01)
    colleague.dre = DRE_LIMA
    db.session.commit()
    with pytest.raises(NotPermittedError):
        admin.disable_user(colleague, actor=Actor(user_id=ugel_admin.id, reason="x"))


def test_nobody_disables_their_own_account_from_the_console(national: User) -> None:
    with pytest.raises(NotPermittedError):
        admin.disable_user(national, actor=Actor(user_id=national.id, reason="x"))


def test_ending_one_session(national: User, teacher: User) -> None:
    session = start_session(teacher)
    assert access.user_sessions(teacher) == [session]
    assert access.end_session(teacher, session.id, actor=Actor(user_id=national.id)) is True
    assert access.end_session(teacher, session.id, actor=Actor(user_id=national.id)) is False
    assert access.user_sessions(teacher) == []
    assert last_event("session.revoked").details == {"sid": session.sid}


def test_a_session_of_someone_else_is_not_ended(national: User, teacher: User) -> None:
    other = start_session(make_user())
    assert access.end_session(teacher, other.id, actor=Actor(user_id=national.id)) is False
    db.session.refresh(other)
    assert other.ended_at is None


def test_revoking_an_app_drops_the_consent_and_that_apps_tokens(
    national: User, teacher: User
) -> None:
    first, second = register_client(), register_client(name="SIAGIE")
    for rp in (first, second):
        db.session.add(
            Consent(user_id=teacher.id, client_pk=client_pk(rp.client_id), scopes=["openid"])
        )
    db.session.commit()
    kept = issue_token(teacher, client_pk(second.client_id), offline=True)
    gone = issue_token(teacher, client_pk(first.client_id), offline=False)
    assert {a.client_id for a in access.user_apps(teacher)} == {first.client_id, second.client_id}

    assert (
        access.revoke_app(
            teacher, first.client_id, actor=Actor(user_id=national.id, reason="Pedido")
        )
        is True
    )

    assert [a.client_id for a in access.user_apps(teacher)] == [second.client_id]
    db.session.refresh(kept)
    db.session.refresh(gone)
    assert gone.revoked_at is not None
    assert kept.revoked_at is None
    assert access.revoke_app(teacher, first.client_id, actor=Actor(user_id=national.id)) is False
    assert access.revoke_app(teacher, "no-such-client", actor=Actor(user_id=national.id)) is False


def test_recent_events_are_the_users_newest_first(national: User, teacher: User) -> None:
    admin.unlock_user(teacher, actor=Actor(user_id=national.id))
    admin.disable_user(teacher, actor=Actor(user_id=national.id, reason="x"))
    assert [e.event for e in admin.recent_events(teacher)][:2] == ["user.disabled", "user.unlocked"]


def test_granting_and_revoking_admin(national: User, teacher: User) -> None:
    teacher.email_verified = True
    db.session.commit()
    admin.grant_admin(
        teacher.dni, ugel=f"  {UGEL_01} ", actor=Actor(user_id=national.id, reason="Designación")
    )
    db.session.refresh(teacher)
    assert (teacher.is_admin, teacher.admin_dre, teacher.admin_ugel) == (True, None, UGEL_01)
    assert admin.revoke_admin(teacher.dni, actor=Actor(user_id=national.id)) is True
    db.session.refresh(teacher)
    assert (teacher.is_admin, teacher.admin_ugel) == (False, None)
    assert admin.revoke_admin(teacher.dni, actor=Actor()) is False


def test_only_national_admins_grant_admin(ugel_admin: User, teacher: User) -> None:
    with pytest.raises(NotPermittedError):
        admin.grant_admin(teacher.dni, actor=Actor(user_id=ugel_admin.id, reason="x"))
