"""Concurrent creates of one DNI through the admin API on PostgreSQL: one 201, the rest 200."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts.models import User
from passport.extensions import db
from tests.integration.accounts.test_races import THREADS
from tests.integration.accounts.test_races import in_parallel
from tests.integration.accounts.test_races import pytestmark  # noqa: F401 - PostgreSQL only
from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer


def test_parallel_identical_creates_make_one_user(app: Flask, write_token: str) -> None:
    body = {**NEW_USER, "send_activation_email": False}

    def create(index: int) -> str:
        response = app.test_client().post("/api/v1/users", json=body, headers=bearer(write_token))
        return str(response.status_code)

    assert sorted(in_parallel(app, create)) == ["200"] * (THREADS - 1) + ["201"]
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_parallel_conflicting_creates_make_one_user_and_conflicts(
    app: Flask, write_token: str
) -> None:
    def create(index: int) -> str:
        body = {**NEW_USER, "email": f"docente{index}@example.edu.pe"}
        body["send_activation_email"] = False
        response = app.test_client().post("/api/v1/users", json=body, headers=bearer(write_token))
        return str(response.status_code)

    assert sorted(in_parallel(app, create)) == ["201"] + ["409"] * (THREADS - 1)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
