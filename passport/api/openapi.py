"""The OpenAPI 3.1 description of the admin API, served at ``/api/v1/openapi.json``.

Hand-written and kept the truth by the test suite: schemathesis generates requests from it
and checks every answer (status, media type, body) against it. Change both together.
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

DNI = {"type": "string", "pattern": "^[0-9]{8}$", "examples": ["12345678"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TEXT = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "UserCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["dni", "email", "given_name", "family_name"],
        "properties": {
            "dni": DNI,
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "given_name": {"type": "string", "minLength": 1, "maxLength": 100},
            "family_name": {"type": "string", "minLength": 1, "maxLength": 100},
            "phone": {
                **NULLABLE_TEXT,
                "maxLength": 40,
                "description": "International form, e.g. +51987654321 (separators ignored).",
            },
            "dre": {**NULLABLE_TEXT, "maxLength": 120},
            "ugel": {**NULLABLE_TEXT, "maxLength": 120},
            "send_activation_email": {
                "type": "boolean",
                "default": True,
                "description": 'Mail "Generar tu contraseña" to a new user.',
            },
        },
    },
    "Action": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "reason": {
                "type": ["string", "null"],
                "description": "Why, for the audit log (spaces collapsed, cut at 500).",
            }
        },
    },
    "User": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "dni",
            "sub",
            "email",
            "email_verified",
            "given_name",
            "family_name",
            "phone",
            "phone_verified",
            "dre",
            "ugel",
            "status",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "dni": DNI,
            "sub": {"type": "string", "description": "The OpenID Connect subject."},
            "email": {"type": "string"},
            "email_verified": {"type": "boolean"},
            "given_name": {"type": "string"},
            "family_name": {"type": "string"},
            "phone": NULLABLE_TEXT,
            "phone_verified": {"type": "boolean"},
            "dre": NULLABLE_TEXT,
            "ugel": NULLABLE_TEXT,
            "status": {
                "type": "string",
                "enum": ["pending", "active", "disabled"],
                "description": "pending: has not generated a password yet.",
            },
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "Session": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "sid",
            "created_at",
            "last_seen_at",
            "expires_at",
            "ip_address",
            "user_agent",
            "device",
            "amr",
        ],
        "properties": {
            "sid": {"type": "string", "description": "The OpenID Connect session id."},
            "created_at": TIMESTAMP,
            "last_seen_at": TIMESTAMP,
            "expires_at": TIMESTAMP,
            "ip_address": NULLABLE_TEXT,
            "user_agent": NULLABLE_TEXT,
            "device": {
                "type": "string",
                "description": 'Readable browser and system, e.g. "Chrome en Windows".',
            },
            "amr": {"type": "array", "items": {"type": "string"}},
        },
    },
    "SessionList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["sessions"],
        "properties": {
            "sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["field", "pointer", "detail"],
                    "properties": {
                        "field": {"type": "string"},
                        "pointer": {"type": "string", "description": "RFC 6901 JSON Pointer."},
                        "detail": {"type": "string"},
                    },
                },
            },
            "conflicting_fields": {"type": "array", "items": {"type": "string"}},
        },
    },
}

HEADERS = {
    "WWW-Authenticate": {
        "description": "The RFC 6750 §3 challenge.",
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
    "schema": DNI,
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
                    "description": "Bearer tokens (RFC 6750) from Passport's token endpoint.",
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
