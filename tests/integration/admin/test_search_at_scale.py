"""The console's search ignores case and accents; the audit log pages by keyset."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.accounts.directory import search_users
from passport.accounts.models import search_name_of
from passport.audit.queries import PAGE_SIZE
from passport.audit.queries import AuditFilter
from passport.audit.queries import search_events
from passport.audit.services import record_event
from passport.extensions import db
from tests.factories import make_user


def test_search_name_drops_accents_and_case() -> None:
    assert search_name_of("José Ángel Ñaupari NÚÑEZ") == "jose angel naupari nunez"


def test_name_search_ignores_accents_and_case_both_ways(app: Flask) -> None:
    accented = make_user(given_name="José Ángel", family_name="Ñaupari Núñez")
    plain = make_user(given_name="Jose", family_name="Nunez Rojas")
    make_user(given_name="Rosa", family_name="Quispe")
    for words, expected in (
        ("naupari", {accented.dni}),
        ("ÑAUPARI", {accented.dni}),
        ("núñez", {accented.dni, plain.dni}),
        ("NUNEZ jose", {accented.dni, plain.dni}),
        ("ángel nuñez", {accented.dni}),
    ):
        found = {user.dni for user in search_users(words, actor=None).items}
        assert found == expected, words


def test_search_name_follows_an_edit(app: Flask) -> None:
    user = make_user(given_name="Rosa", family_name="Quispe")
    user.family_name = "Huamán"
    db.session.commit()
    assert [u.dni for u in search_users("huaman", actor=None).items] == [user.dni]
    assert search_users("quispe", actor=None).items == []


def test_audit_keyset_pages_follow_each_other(app: Flask) -> None:
    for number in range(PAGE_SIZE * 2 + 5):
        record_event("test.event", details={"n": number})
    db.session.commit()
    first = search_events(AuditFilter())
    second = search_events(AuditFilter(), 2, before=first.next_args["antes"])
    third = search_events(AuditFilter(), 3, before=second.next_args["antes"])
    ids = [row.event.id for page in (first, second, third) for row in page.items]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == PAGE_SIZE * 2 + 5
    assert (first.has_next, second.has_next, third.has_next) == (True, True, False)
    back = search_events(AuditFilter(), 1, after=second.previous_args["despues"])
    assert [row.event.id for row in back.items] == [row.event.id for row in first.items]
    assert not back.has_previous


def test_the_console_pager_links_by_keyset(app: Flask, admin_client: FlaskClient) -> None:
    for number in range(PAGE_SIZE + 3):
        record_event("test.event", details={"n": number})
    db.session.commit()
    page = admin_client.get("/admin/auditoria").get_data(as_text=True)
    link = re.search(r'href="(/admin/auditoria\?[^"]*antes=\d+[^"]*)" rel="next"', page)
    assert link, "no keyset link to the next page"
    following = admin_client.get(link.group(1).replace("&amp;", "&"))
    assert following.status_code == 200
    assert 'rel="prev"' in following.get_data(as_text=True)


@pytest.mark.parametrize("max_words", [200, 1])
def test_a_common_prefix_pages_in_list_order_once_per_person(
    app: Flask, monkeypatch: pytest.MonkeyPatch, max_words: int
) -> None:
    """Several name words start with the prefix: each person once, pages in list order.

    With max_words=1 PostgreSQL takes the plain filter (a prefix of too many words): the
    same answers.
    """
    monkeypatch.setattr("passport.accounts.directory.MAX_DRIVER_WORDS", max_words)
    people = [
        make_user(password=None, given_name=f"Ana {n:02d}", family_name=family)
        for n, family in enumerate(["Quispe Mamani", "Quisquis Rojas", "Quispe Quisquis"] * 4)
    ]
    make_user(password=None, given_name="Rosa", family_name="Mamani Huanca")
    make_user(password=None, given_name="Luis", family_name="Roquispe")  # not a word start
    expected = [u.dni for u in sorted(people, key=lambda u: (u.family_name, u.given_name, u.id))]
    pages = [search_users("QUIS", actor=None, page=n, per_page=5) for n in (1, 2, 3)]
    assert [u.dni for page in pages for u in page.items] == expected
    assert [p.has_next for p in pages] == [True, True, False]
    both = {u.dni for u in search_users("quisquis quispe", actor=None, per_page=50).items}
    assert both == {u.dni for u in people if u.family_name == "Quispe Quisquis"}
    assert search_users("mamani ana 03", actor=None).items == [people[3]]


def test_name_words_follow_the_dni_and_deletion(app: Flask) -> None:
    user = make_user(password=None, given_name="Rosa", family_name="Quispe")
    other = make_user(password=None, given_name="Rosa", family_name="Quispe")
    assert search_users(f"rosa {user.dni}", actor=None).items == [user]
    assert search_users(user.dni[:7], actor=None).items == [
        u for u in (user, other) if u.dni.startswith(user.dni[:7])
    ]
    db.session.delete(user)
    db.session.commit()
    assert search_users("rosa quispe", actor=None).items == [other]


def test_status_counts_are_kept_a_minute_per_territory(app: Flask) -> None:
    from passport.accounts.directory import COUNTS_CACHE
    from passport.accounts.directory import COUNTS_SECONDS
    from passport.accounts.directory import count_users
    from passport.caches import app_cache

    make_user(dre="DRE PUNO")
    admin = make_user(is_admin=True, admin_dre="DRE PUNO")
    national, puno = count_users(actor=None), count_users(actor=admin)
    make_user(dre="DRE PUNO")
    assert count_users(actor=None) == national  # a cached summary, not a pass per page
    app_cache(COUNTS_CACHE, 1).expire(after_seconds=COUNTS_SECONDS + 1)
    assert count_users(actor=None)["active"] == national["active"] + 1
    assert count_users(actor=admin)["active"] == puno["active"] + 1
