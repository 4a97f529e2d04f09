"""The person who signs in: a teacher or staff member identified by DNI."""

from __future__ import annotations

import enum
import functools
import secrets
import unicodedata
from datetime import datetime
from typing import Any
from typing import Protocol

from sqlalchemy import JSON
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow
from passport.outbox import OutboxMixin


class UserStatus(enum.StrEnum):
    """Lifecycle: pending until the person generates a password, then active."""

    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


class Person(Protocol):
    """What the rules below read: a User, or a Core twin of one (passport.oidc.claims.Subject)."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def status(self) -> UserStatus: ...


def full_name(person: Person) -> str:
    """Full name as printed in Peru: given names, then surnames."""
    return f"{person.given_name} {person.family_name}"


def is_active(person: Person) -> bool:
    """Only an active account signs in, gets tokens and releases claims."""
    return person.status is UserStatus.ACTIVE


def new_subject() -> str:
    """A random, stable public identifier: the OIDC ``sub``, never derived from the DNI."""
    return secrets.token_urlsafe(24)


class User(Base):
    """An account. The DNI is the username; ``sub`` is what relying parties see."""

    __tablename__ = "users"
    __table_args__ = (
        # The user list's order, so a page is read from an index rather than sorted.
        Index("ix_users_family_given_id", "family_name", "given_name", "id"),
        # On PostgreSQL: LIKE 'digits%' on the DNI by index (the name: UserNameWord).
        Index("ix_users_dni_prefix", "dni", postgresql_ops={"dni": "varchar_pattern_ops"}),
        # The console's counts per status of a territory, read from an index only.
        Index("ix_users_dre_status", "dre", "status"),
        Index("ix_users_ugel_status", "ugel", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), unique=True, default=new_subject)
    dni: Mapped[str] = mapped_column(String(8), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_verified: Mapped[bool] = mapped_column(default=False)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    phone_number: Mapped[str | None] = mapped_column(String(20))
    phone_number_verified: Mapped[bool] = mapped_column(default=False)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(10), default="es-PE")
    # Territory, for scoped administration (DRE / UGEL names as in the payroll).
    dre: Mapped[str | None] = mapped_column(String(120))
    ugel: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[UserStatus] = mapped_column(
        Enum(
            UserStatus,
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda members: [m.value for m in members],
        ),
        default=UserStatus.PENDING,
    )
    is_admin: Mapped[bool] = mapped_column(default=False)
    # An admin's territory (passport/accounts/administration.py): none = national, else
    # the users of this DRE, or of this UGEL (names compared as stored in dre / ugel).
    admin_dre: Mapped[str | None] = mapped_column(String(120))
    admin_ugel: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    # Bumped whenever a password link is issued or used: a link carries the value it was
    # issued with, so a newer link or a set password makes every older link dead.
    link_generation: Mapped[int] = mapped_column(default=0)
    # Brute-force state (see passport/accounts/lockout.py).
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_failed_login_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    lockouts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The full name without accents, case-folded (``search_name_of``), set on every flush:
    # the console's name search reads it through an index (migration 0011).
    search_name: Mapped[str | None] = mapped_column(String(202))

    @property
    def name(self) -> str:
        """Full name as printed in Peru: given names, then surnames."""
        return full_name(self)

    @property
    def is_active(self) -> bool:
        """Whether the account is active."""
        return is_active(self)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.status.value}>"


@functools.lru_cache(maxsize=4096)  # names repeat (a bulk import computes 50,000)
def search_name_of(text: str) -> str:
    """Text as the name search compares it: accents dropped, case folded ("Ñuñez" → "nunez")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_search_name(mapper: Any, connection: Any, user: User) -> None:
    user.search_name = search_name_of(f"{user.given_name} {user.family_name}")


# Byte order on PostgreSQL, so a plain btree serves ``LIKE 'prefix%'`` whatever the locale.
_WORD = String(100).with_variant(String(100, collation="C"), "postgresql")


class UserNameWord(Base):
    """One word of a person's name (``search_name_of``) or the DNI, with the name to sort by.

    The console's name search (passport/accounts/directory.py) reads, for each word that
    starts with what was typed, the first matches in list order straight from
    ``ix_user_name_words_order``: its cost follows the page size, not how common a surname
    is. Kept by the listeners below on every insert and name change.
    """

    __tablename__ = "user_name_words"
    __table_args__ = (
        Index("ix_user_name_words_order", "word", "family_name", "given_name", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    word: Mapped[str] = mapped_column(_WORD, primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))


def name_words_of(given_name: str, family_name: str, dni: str) -> set[str]:
    """The words a person is found by: each word of the name, normalised, and the DNI."""
    words = set(search_name_of(f"{given_name} {family_name}").split())
    return {word[:100] for word in words} | {dni}


def name_word_rows(
    user_id: int, given_name: str, family_name: str, dni: str
) -> list[dict[str, Any]]:
    """The ``user_name_words`` rows of a person (the listeners below; a bulk import)."""
    return [
        {"user_id": user_id, "word": word, "family_name": family_name, "given_name": given_name}
        for word in sorted(name_words_of(given_name, family_name, dni))
    ]


def _write_name_words(connection: Any, user: User) -> None:
    connection.execute(delete(UserNameWord).where(UserNameWord.user_id == user.id))
    connection.execute(
        insert(UserNameWord),
        name_word_rows(user.id, user.given_name, user.family_name, user.dni),
    )


@event.listens_for(User, "after_insert")
def _add_name_words(mapper: Any, connection: Any, user: User) -> None:
    _write_name_words(connection, user)


@event.listens_for(User, "after_update")
def _follow_name_words(mapper: Any, connection: Any, user: User) -> None:
    state = inspect(user)
    if any(
        state.attrs[name].history.has_changes() for name in ("given_name", "family_name", "dni")
    ):
        _write_name_words(connection, user)


@event.listens_for(User, "before_delete")
def _drop_name_words(mapper: Any, connection: Any, user: User) -> None:
    connection.execute(delete(UserNameWord).where(UserNameWord.user_id == user.id))


class OutgoingMail(OutboxMixin, Base):
    """A link mail waiting to be sent (passport/accounts/mail_queue.py, through passport/outbox.py).

    It names the person and the kind of mail, never a link: the link is issued when the mail
    is sent, so the table holds no secret and a retried mail carries a fresh link. A
    self-service request names only the DNI that was typed (``kind`` ``self_service``, no
    ``user_id`` yet): the sender decides whether an account exists and which mail it gets.
    """

    __tablename__ = "outgoing_mails"
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The DNI typed in "Generar contraseña" / "¿Olvidaste la contraseña?" (self_service rows).
    dni: Mapped[str | None] = mapped_column(String(8))
    # A LinkPurpose value (activation | reset), or self_service.
    kind: Mapped[str] = mapped_column(String(16))
    # Groups the mails of one bulk import, for its progress page.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class HeldUserRequest(Base):
    """A scoped admin's create or import row for a DNI that exists outside its territory.

    The scoped admin got the answer of a new DNI (so it cannot learn where else a DNI
    exists); a national admin reads these in the console and applies or dismisses them.
    ``data`` is the row as validated (``UserData`` members).
    """

    __tablename__ = "held_user_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dni: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))  # create | import
    batch: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None]
    resolved_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolution: Mapped[str | None] = mapped_column(String(16))  # applied | dismissed
