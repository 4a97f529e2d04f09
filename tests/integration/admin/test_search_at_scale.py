"""The console's search ignores case and accents; the audit log pages by keyset."""

from __future__ import annotations

import re

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
