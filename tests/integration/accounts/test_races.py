"""Concurrent use of one password link on PostgreSQL: exactly one request sets the password."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from flask import Flask

from passport.accounts.errors import InvalidLinkError
from passport.accounts.links import LinkPurpose
from passport.accounts.links import issue_link
from passport.accounts.models import User
from passport.accounts.services import set_password_from_link
from passport.extensions import db
from passport.security.passwords import verify_password
from tests.factories import make_user

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="row locks and concurrent transactions need PostgreSQL",
    ),
]
THREADS = 6


def in_parallel(app: Flask, action: Callable[[int], str]) -> list[str]:
    """Run ``action(index)`` in THREADS threads at once, each with its own session."""
    barrier = threading.Barrier(THREADS)
    results: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        with app.app_context():
            barrier.wait()
            outcome = action(index)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_link_used_in_parallel_sets_exactly_one_password(app: Flask) -> None:
    user = make_user(password=None)
    token = issue_link(user, LinkPurpose.ACTIVATION).rsplit("/", 1)[1]
    db.session.commit()

    def use(index: int) -> str:
        try:
            set_password_from_link(token, f"Kusi8Wayra{index}", f"Kusi8Wayra{index}")
        except InvalidLinkError:
            return "dead"
        return f"set {index}"

    results = in_parallel(app, use)
    winners = [r for r in results if r.startswith("set")]
    assert len(winners) == 1
    assert results.count("dead") == THREADS - 1
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored is not None
    assert verify_password(stored.password_hash, f"Kusi8Wayra{winners[0].split()[1]}")


def test_links_issued_in_parallel_all_get_distinct_generations(app: Flask) -> None:
    user_id = make_user(password=None).id

    def issue(_: int) -> str:
        user = db.session.get(User, user_id)
        assert user is not None
        issue_link(user, LinkPurpose.ACTIVATION)
        generation = user.link_generation
        db.session.commit()
        return str(generation)

    generations = in_parallel(app, issue)
    assert sorted(generations, key=int) == [str(n) for n in range(1, THREADS + 1)]


def test_senders_draining_the_mail_queue_in_parallel_send_each_mail_once(
    app: Flask, outbox_dir: object
) -> None:
    from pathlib import Path

    from passport.accounts.mail_queue import enqueue_link_mails
    from passport.accounts.mail_queue import send_pending
    from passport.accounts.models import OutgoingMail

    users = [make_user(password=None) for _ in range(24)]
    enqueue_link_mails(users, LinkPurpose.ACTIVATION, batch="race")
    db.session.commit()

    def drain(_: int) -> str:
        try:
            return str(send_pending().sent)
        finally:
            db.session.remove()

    sent = in_parallel(app, drain)

    assert sum(int(count) for count in sent) == 24
    assert len(list(Path(str(outbox_dir)).glob("*.eml"))) == 24
    statuses = set(db.session.scalars(db.select(OutgoingMail.status)))
    assert statuses == {"sent"}
