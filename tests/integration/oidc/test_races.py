"""Concurrent redemption on PostgreSQL: exactly one winner, and reuse revokes the family."""

from __future__ import annotations

import os
import threading

import pytest

from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import sign_in

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="row locks and concurrent transactions need PostgreSQL",
    ),
]
THREADS = 8


def in_parallel(app, action) -> list[int]:
    """Run ``action(test_client)`` in THREADS threads at once; return the status codes."""
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            status = action(client).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_parallel_redemptions_of_one_code_give_one_token_response(app, client, rp, user) -> None:
    sign_in(app, client, user)
    code = get_code(client, rp)
    statuses = in_parallel(app, lambda c: redeem(c, rp, code))
    assert statuses.count(200) == 1
    assert statuses.count(400) == THREADS - 1


def test_parallel_refreshes_give_one_success_and_a_revoked_family(app, client, rp, user) -> None:
    tokens = full_flow(app, client, rp, user)
    results: list[dict] = []

    def use(c):
        response = refresh(c, rp, tokens["refresh_token"])
        results.append(response.get_json())
        return response

    statuses = in_parallel(app, use)
    assert statuses.count(200) == 1
    winner = next(r for r in results if "refresh_token" in r)
    # The losers presented a rotated token: the whole family, winner included, is revoked.
    assert refresh(client, rp, winner["refresh_token"]).get_json()["error"] == "invalid_grant"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {winner['access_token']}"})
    assert info.status_code == 401


def test_parallel_uses_of_one_request_uri_give_one_authorization(app, client, rp) -> None:
    from tests.integration.oidc.pushed import pushed_with_pkce

    request_uri, _ = pushed_with_pkce(client, rp)
    query = {"client_id": rp.client_id, "request_uri": request_uri}
    statuses = in_parallel(app, lambda c: c.get("/authorize", query_string=query))
    # One browser goes on to sign in; the others get the invalid_request_uri page.
    assert statuses.count(302) == 1
    assert statuses.count(400) == THREADS - 1
