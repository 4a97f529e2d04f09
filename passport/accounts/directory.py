"""Looking people up as an admin: search, counts, and what a person's page shows.

Every query is limited to the actor's territory (passport/accounts/territory.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import aliased

from passport.accounts.models import User
from passport.accounts.models import UserNameWord
from passport.accounts.models import UserStatus
from passport.accounts.models import search_name_of
from passport.accounts.territory import Scope
from passport.accounts.territory import scope_of
from passport.audit.models import AuditEvent
from passport.caches import Cache
from passport.caches import app_cache
from passport.database import page_number
from passport.extensions import db

SEARCH_MAX_LENGTH = 100
DRIVER_CAP = 1000  # enough to tell a common word from a rare one
# Beyond this many distinct words for a prefix, matches are dense: walking the name-ordered
# users index finds a page sooner than one probe per word.
MAX_DRIVER_WORDS = 200
COUNTS_CACHE = "passport.accounts.directory.counts"
COUNTS_SECONDS = 60.0
MAX_CACHED_COUNTS = 512  # territories: national, DREs and UGELs


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

    Digits search the DNI from its start; text with ``@`` searches e-mails; otherwise each
    typed word must start a word of the name (ignoring case and accents) or the DNI. Empty:
    everyone.
    Ordered by surnames, names.
    """
    page = page_number(page)
    scope = scope_of(actor)
    query = scope.filter(select(User))
    words = (text or "").strip()[:SEARCH_MAX_LENGTH].split()
    offset, limit = (page - 1) * per_page, per_page + 1
    if len(words) == 1 and words[0].isascii() and words[0].isdigit():
        # A long DNI prefix is a handful of words of user_name_words (the DNI is one).
        found = _by_word_in_list_order(words, scope, offset, limit)
        if found is not None:
            return _page(found, page, per_page)
        query = query.where(User.dni.startswith(words[0], autoescape=True))
    elif len(words) == 1 and "@" in words[0]:
        query = query.where(User.email.icontains(words[0], autoescape=True))
    elif words:
        prefixes = [search_name_of(word) for word in words]
        found = _by_word_in_list_order(prefixes, scope, offset, limit)
        if found is not None:
            return _page(found, page, per_page)
        for prefix in prefixes:
            query = query.where(User.id.in_(_users_with_word(prefix)))
    query = query.order_by(User.family_name, User.given_name, User.id)
    return _page(list(db.session.scalars(query.offset(offset).limit(limit))), page, per_page)


def _page(rows: list[User], page: int, per_page: int) -> UserPage:
    return UserPage(
        items=rows[:per_page], number=page, has_previous=page > 1, has_next=len(rows) > per_page
    )


def _by_word_in_list_order(
    prefixes: list[str], scope: Scope, offset: int, limit: int
) -> list[User] | None:
    """Users with, for every prefix, a name word (or the DNI) starting with it; None when
    this plan does not fit (not PostgreSQL, or the prefix is too short to be selective).

    The prefix with the fewest matches drives: a recursive CTE lists the distinct words
    starting with it (one index probe each, at most MAX_DRIVER_WORDS), and for each of them a
    LATERAL reads its first ``offset + limit`` people in list order (the other prefixes as
    filters) from ``ix_user_name_words_order``: the cost follows the page and the number of
    distinct matching words, never the number of people called Quispe. Otherwise the caller
    filters users and lets the planner walk the name-ordered users index (what a prefix as
    broad as "a" or "4" wants: matches are dense), and SQLite (small) does the same.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    driver = min(prefixes, key=_matches_up_to_cap) if len(prefixes) > 1 else prefixes[0]
    rest = list(prefixes)
    rest.remove(driver)
    first = aliased(UserNameWord)
    anchor = (
        select(first.word)
        .where(first.word.startswith(driver, autoescape=True))
        .order_by(first.word)
        .limit(1)
    )
    vocab = anchor.cte("vocab", recursive=True)
    following = aliased(UserNameWord)
    after = (
        select(following.word)
        .where(following.word > vocab.c.word, following.word.startswith(driver, autoescape=True))
        .order_by(following.word)
        .limit(1)
        .scalar_subquery()
    )
    vocab = vocab.union_all(select(after).where(vocab.c.word.is_not(None)))
    listed = select(vocab.c.word).where(vocab.c.word.is_not(None)).limit(MAX_DRIVER_WORDS + 1)
    if (
        db.session.scalar(select(func.count()).select_from(listed.subquery())) or 0
    ) > MAX_DRIVER_WORDS:
        return None
    matching = listed.subquery("matching")
    named = aliased(UserNameWord)
    firsts = scope.filter(
        select(named.family_name, named.given_name, named.user_id)
        .join(User, User.id == named.user_id)
        .where(named.word == matching.c.word)
    )
    for prefix in rest:
        firsts = firsts.where(named.user_id.in_(_users_with_word(prefix)))
    firsts_of_word = (
        firsts.order_by(named.family_name, named.given_name, named.user_id)
        .limit(offset + limit)
        .lateral("firsts")
    )
    found = (
        select(firsts_of_word)
        .select_from(matching)
        .join(firsts_of_word, true())
        .distinct()
        .order_by(firsts_of_word.c.family_name, firsts_of_word.c.given_name)
        .order_by(firsts_of_word.c.user_id)
        .offset(offset)
        .limit(limit)
        .subquery("found")
    )
    query = (
        select(User)
        .join(found, found.c.user_id == User.id)
        .order_by(found.c.family_name, found.c.given_name, found.c.user_id)
    )
    return list(db.session.scalars(query))


def _matches_up_to_cap(prefix: str) -> int:
    """How many name words start with ``prefix``, counted up to DRIVER_CAP (an index range)."""
    first = _users_with_word(prefix).limit(DRIVER_CAP).subquery()
    return int(db.session.scalar(select(func.count()).select_from(first)) or 0)


def _users_with_word(prefix: str) -> Select[Any]:
    word = aliased(UserNameWord)
    return select(word.user_id).where(word.word.startswith(prefix, autoescape=True))


def count_users(*, actor: User | None) -> dict[str, int]:
    """How many users of the actor's territory are in each status, at most a minute old.

    Counting is a pass over the territory's whole (dre/ugel, status) index: about 130 ms
    nationally at a million users, on every user page. The figures are a summary, so each
    territory's are kept COUNTS_SECONDS per process (exact when computed; ``reltuples``
    would only give the total, and per-status figures are what the page shows).
    """
    scope = scope_of(actor)
    cache: Cache[dict[str, int]] = app_cache(COUNTS_CACHE, MAX_CACHED_COUNTS)
    found, counts = cache.get((scope.dre, scope.ugel))
    if found and counts is not None:
        return dict(counts)
    query = scope.filter(select(User.status, func.count()).select_from(User))
    counts = {status.value: 0 for status in UserStatus}
    for status, number in db.session.execute(query.group_by(User.status)):
        counts[UserStatus(status).value] = number
    cache.set((scope.dre, scope.ugel), dict(counts), COUNTS_SECONDS)
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
