"""The console's "Exigir DPoP" toggle (RFC 9449 §5.2 ``dpop_bound_access_tokens``)."""

from __future__ import annotations

from flask.testing import FlaskClient

from passport.oidc.clients import get_client_row
from tests.integration.admin.test_clients import FORM
from tests.integration.admin.test_clients import create
from tests.integration.admin.test_clients import post
from tests.integration.admin.test_clients import text
from tests.integration.oidc.conftest import register_client


def test_the_console_form_toggles_it(admin_client: FlaskClient) -> None:
    from passport.extensions import db
    from passport.oidc.models import OAuthClient

    assert create(admin_client, dpop_bound_access_tokens="y").status_code == 200
    row = db.session.scalar(db.select(OAuthClient).where(OAuthClient.name == FORM["name"]))
    assert row is not None
    assert row.dpop_bound_access_tokens is True
    assert "Exige DPoP" in text(admin_client.get(f"/admin/aplicaciones/{row.client_id}"))
    rp = register_client(scopes=["openid"])
    page = f"/admin/aplicaciones/{rp.client_id}/editar"
    form = {**FORM, "redirect_uris": rp.redirect_uri, "dpop_bound_access_tokens": "y"}
    assert post(admin_client, page, page, **form).status_code == 302
    assert get_client_row(rp.client_id).dpop_bound_access_tokens is True
    form.pop("dpop_bound_access_tokens")
    assert post(admin_client, page, page, **form).status_code == 302
    assert get_client_row(rp.client_id).dpop_bound_access_tokens is False
