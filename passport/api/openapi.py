"""The OpenAPI 3.1 description of the admin API, served at ``/api/v1/openapi.json``.

The bodies' schemas come from the pydantic models that check requests and shape answers
(passport/api/schemas.py, which says why pydantic); the paths, answers and security are
written here. Schemathesis generates requests from the document and checks every answer
(status, media type, body) against it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import url_for

from passport import __version__
from passport.api.auth import READ_SCOPE
from passport.api.auth import WRITE_SCOPE
from passport.api.problems import API_PREFIX
from passport.api.problems import PROBLEM_MEDIA_TYPE
from passport.api.schemas import DNI_SCHEMA
from passport.api.schemas import component_schemas

# The bodies' schemas, written by the models that check requests and shape answers.
SCHEMAS: dict[str, Any] = component_schemas()

HEADERS = {
    "WWW-Authenticate": {
        "description": (
            "The RFC 6750 §3 challenge (DPoP, RFC 9449 §7.1, for a DPoP-bound token; without "
            "a token, a Bearer and a DPoP challenge in the one value)."
        ),
        "schema": {"type": "string"},
        "required": True,
    },
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}},
    "Location": {"description": "The user's URL.", "schema": {"type": "string"}},
}


def problem(description: str, *headers: str) -> dict[str, Any]:
    """A response documented as a problem document."""
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = {name: HEADERS[name] for name in headers}
    return response


def success(description: str, schema: str, *headers: str) -> dict[str, Any]:
    """A JSON response with a component schema."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        response["headers"] = {name: HEADERS[name] for name in headers}
    return response


# Every authorised operation may answer these.
GUARDED = {
    "401": problem("Missing, invalid, expired or revoked access token.", "WWW-Authenticate"),
    "403": problem("The token lacks the scope this operation needs.", "WWW-Authenticate"),
    "429": problem("Too many requests from this address.", "Retry-After"),
}
NOT_FOUND = {"404": problem("No user has this DNI.")}
# Operations with a JSON body may refuse it.
BODY_REFUSALS = {
    "400": problem("The body is not a JSON object."),
    "413": problem("The body is too large."),
    "415": problem("The body is not application/json."),
    "422": problem("Some members are invalid (see errors)."),
}
DNI_PARAMETER = {
    "name": "dni",
    "in": "path",
    "required": True,
    "description": "The user's DNI (eight digits).",
    "schema": {"type": "string", **DNI_SCHEMA},
}


def operation(
    operation_id: str, summary: str, scope: str, responses: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """An authorised operation: its scope, its answers and the shared refusals."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [{"clientCredentials": [scope]}],
        "responses": {**responses, **GUARDED},
        **extra,
    }


def user_action(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    """A write on one user, by DNI, with an optional body giving the reason."""
    return {
        "parameters": [DNI_PARAMETER],
        "post": operation(
            operation_id,
            summary,
            WRITE_SCOPE,
            {**responses, **NOT_FOUND, **BODY_REFUSALS},
            requestBody={
                "required": False,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Action"}}
                },
            },
        ),
    }


def openapi_document() -> dict[str, Any]:
    """The document, with this deployment's token endpoint."""
    issuer = current_app.config["ISSUER"]
    user = success("The user.", "User")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Passport admin API",
            "version": __version__,
            "description": (
                "Provisioning of Passport users for ministry systems. Authenticate with an "
                "access token from the token endpoint (grant_type=client_credentials) of a "
                "client allowed the passport.admin.users scopes. Every error is an RFC 9457 "
                "problem document."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "paths": {
            "/users": {
                "post": operation(
                    "createUser",
                    "Create a user (idempotent on the DNI)",
                    WRITE_SCOPE,
                    {
                        "200": success(
                            "The user existed with the same data: nothing changed.",
                            "User",
                            "Location",
                        ),
                        "201": success("The user was created.", "User", "Location"),
                        "409": problem("A user with this DNI exists with different data."),
                        "503": problem("The activation e-mail could not be sent."),
                        **BODY_REFUSALS,
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/UserCreate"}
                            }
                        },
                    },
                )
            },
            "/users/{dni}": {
                "parameters": [DNI_PARAMETER],
                "get": operation(
                    "getUser", "A user by DNI", READ_SCOPE, {"200": user, **NOT_FOUND}
                ),
            },
            "/users/{dni}/disable": user_action(
                "disableUser",
                "Disable a user: sessions end and their tokens stop working",
                {"200": user},
            ),
            "/users/{dni}/enable": user_action(
                "enableUser", "Enable a disabled user", {"200": user}
            ),
            "/users/{dni}/activation-email": user_action(
                "sendActivationEmail",
                'Mail a pending user a new "Generar tu contraseña" link',
                {
                    "202": success("The e-mail was sent.", "User"),
                    "409": problem("The user is not pending."),
                    "503": problem("The e-mail could not be sent."),
                },
            ),
            "/users/{dni}/sessions": {
                "parameters": [DNI_PARAMETER],
                "get": operation(
                    "listUserSessions",
                    "The user's live single sign-on sessions (not ended, expired or idle)",
                    READ_SCOPE,
                    {"200": success("Live sessions.", "SessionList"), **NOT_FOUND},
                ),
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": GUARDED["429"],
                    },
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "clientCredentials": {
                    "type": "oauth2",
                    "description": (
                        "Bearer tokens (RFC 6750) from Passport's token endpoint, or DPoP-bound "
                        "tokens (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof."
                    ),
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": issuer + url_for("oidc.token"),
                            "scopes": {
                                READ_SCOPE: "Read users and their sessions.",
                                WRITE_SCOPE: "Create, disable and enable users; send mails.",
                            },
                        }
                    },
                }
            },
        },
    }
