"""Looking people up as an admin: search, counts, and what a person's page shows.

Every query is limited to the actor's territory (passport/accounts/territory.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.models import search_name_of
from passport.accounts.territory import scope_of
from passport.audit.models import AuditEvent
from passport.database import page_number
from passport.extensions import db

SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class UserPage:
    """One page of a search: the users, the page number (from 1) and whether more exist."""

    items: list[User]
    number: int
    has_previous: bool
    has_next: bool


def search_users(
    text: str | None, *, actor: User | None, page: int = 1, per_page: int = 25
) -> UserPage:
    """Users of the actor's territory matching a DNI (prefix), an e-mail or name words.

    Digits search the DNI from its start; text with ``@`` searches e-mails; anything else
    must match every word somewhere in the full name (ignoring case and accents). Empty:
    everyone.
    Ordered by surnames, names.
    """
    page = page_number(page)
    query = scope_of(actor).filter(select(User))
    words = (text or "").strip()[:SEARCH_MAX_LENGTH].split()
    if len(words) == 1 and words[0].isdigit():
        query = query.where(User.dni.startswith(words[0], autoescape=True))
    elif len(words) == 1 and "@" in words[0]:
        query = query.where(User.email.icontains(words[0], autoescape=True))
    else:
        # search_name is the full name without accents, case-folded (indexed on PostgreSQL).
        for word in words:
            query = query.where(
                or_(
                    User.search_name.contains(search_name_of(word), autoescape=True),
                    User.dni == word,
                )
            )
    query = query.order_by(User.family_name, User.given_name, User.id)
    rows = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return UserPage(
        items=rows[:per_page], number=page, has_previous=page > 1, has_next=len(rows) > per_page
    )


def count_users(*, actor: User | None) -> dict[str, int]:
    """How many users of the actor's territory are in each status."""
    query = scope_of(actor).filter(select(User.status, func.count()).select_from(User))
    counts = {status.value: 0 for status in UserStatus}
    for status, number in db.session.execute(query.group_by(User.status)):
        counts[UserStatus(status).value] = number
    return counts


def recent_events(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest audit events about the user (as subject), newest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.subject_user_id == user.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
