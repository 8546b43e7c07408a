"""The OpenAPI description of the account administration routes (merged into /api/openapi.json)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}
SECURED = [{"bearer": []}, {"session": []}]
ADMIN_ERRORS = {"401": ERROR, "403": ERROR}
ADMIN_ONLY = " Role admin. Every change is written to the security audit."
USERNAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
TOKEN_ID = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _list_of(key: str, schema: str) -> dict[str, Any]:
    items = {"$ref": f"#/components/schemas/{schema}"}
    return {"type": "object", "properties": {key: {"type": "array", "items": items}}}


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": kind}}


ADMIN_PATHS: dict[str, Any] = {
    "/api/admin/users": {"get": {
        "summary": "Every user with role, team, state, live sessions, last sign-in and usable tokens." + ADMIN_ONLY,
        "security": SECURED,
        "responses": {"200": _json("users", _list_of("users", "AccountUser")), **ADMIN_ERRORS}}},
    "/api/admin/users/{username}": {"patch": {
        "summary": "Change a user's role and/or deactivate or reactivate them. Either ends all their sessions; "
                   "deactivation also revokes their tokens. The last active admin cannot be demoted or "
                   "deactivated (409)." + ADMIN_ONLY,
        "security": SECURED, "parameters": [USERNAME],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "role": {"type": "string", "enum": ["viewer", "officer", "gis", "admin"]},
            "active": {"type": "boolean"}}}}}},
        "responses": {"200": _json("the user", {"type": "object", "properties": {
            "user": {"$ref": "#/components/schemas/AccountUser"}}}), "400": ERROR, **ADMIN_ERRORS,
            "404": ERROR, "409": ERROR}}},
    "/api/admin/users/{username}/sessions": {"delete": {
        "summary": "Sign a user out everywhere: end all their browser sessions." + ADMIN_ONLY,
        "security": SECURED, "parameters": [USERNAME],
        "responses": {"200": _json("how many sessions ended", {"type": "object", "properties": {
            "username": {"type": "string"}, "revoked": {"type": "integer"}}}), **ADMIN_ERRORS, "404": ERROR}}},
    "/api/admin/users/{username}/tokens": {"get": {
        "summary": "A user's API tokens (never the token itself) with their state: active, expired or revoked."
                   + ADMIN_ONLY,
        "security": SECURED, "parameters": [USERNAME],
        "responses": {"200": _json("tokens", _list_of("tokens", "ApiToken")), **ADMIN_ERRORS, "404": ERROR}}},
    "/api/admin/users/{username}/tokens/{token_id}": {"delete": {
        "summary": "Revoke one of a user's API tokens." + ADMIN_ONLY,
        "security": SECURED, "parameters": [USERNAME, TOKEN_ID],
        "responses": {"200": _json("the revoked token", {"type": "object", "properties": {
            "token": {"$ref": "#/components/schemas/ApiToken"}}}), **ADMIN_ERRORS, "404": ERROR}}},
    "/api/admin/security-audit": {"get": {
        "summary": "The security audit, newest first: sign-ins, failed and throttled sign-ins, sign-outs, password "
                   "and role changes, deactivations, tokens issued and revoked, sessions revoked. Append-only in the "
                   "database." + ADMIN_ONLY,
        "security": SECURED,
        "parameters": [_query("user", "only this username (as typed, for failed sign-ins)"),
                       _query("event", "only this event, e.g. sign-in-failed"),
                       _query("before", "only entries with a smaller id (paging)", "integer"),
                       _query("limit", "1-1000 (default 100)", "integer")],
        "responses": {"200": _json("entries", _list_of("entries", "SecurityAuditEntry")), "400": ERROR,
                      **ADMIN_ERRORS}}},
    "/api/admin/police-fetch": {
        "get": {
            "summary": "The months fetched from the police.uk API (CSP_ATLAS_POLICE_API): when, the API's "
                       "last-updated date then, records, how many were new, and requests made. Role admin.",
            "security": SECURED,
            "responses": {"200": _json("months fetched", {"type": "object", "properties": {
                "api": {"type": "string"}, "months": {"type": "array", "items": {"type": "object"}}}}),
                **ADMIN_ERRORS}},
        "post": {
            "summary": "Fetch from the police.uk API every month it has and the atlas lacks (what `scripts/atlas "
                       "crime fetch` does, and the daily scheduled job): 202 with the job to follow at "
                       "/api/jobs/{id} (its progress counts months). A fetch already queued or running is followed "
                       "instead of starting another. With CSP_ATLAS_JOBS=inline it runs at once and answers 200 "
                       "with the finished job. Role admin.",
            "security": SECURED,
            "responses": {"202": _json("the job, queued or running; Location: its URL"),
                          "200": _json("the finished job (CSP_ATLAS_JOBS=inline)"), **ADMIN_ERRORS,
                          "503": ERROR}}},
}

_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {**_TIME, "nullable": True}
ADMIN_SCHEMAS: dict[str, Any] = {
    "AccountUser": {"type": "object", "properties": {
        "username": {"type": "string"}, "role": {"type": "string"}, "team": {"type": "string", "nullable": True},
        "active": {"type": "boolean"}, "created_at": _TIME,
        "sessions": {"type": "integer", "description": "browser sessions open now"},
        "last_sign_in_at": _NULLABLE_TIME,
        "tokens": {"type": "integer", "description": "API tokens neither expired nor revoked"}}},
    "ApiToken": {"type": "object", "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "label": {"type": "string"},
        "created_at": _TIME, "last_used_at": _NULLABLE_TIME, "expires_at": _TIME, "revoked_at": _NULLABLE_TIME,
        "status": {"type": "string", "enum": ["active", "expired", "revoked"]}}},
    "SecurityAuditEntry": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": _TIME, "event": {"type": "string"}, "username": {"type": "string"},
        "actor": {"type": "string", "description": "who acted: a username, cli:<os user>, anonymous or system"},
        "client_address": {"type": "string", "nullable": True}, "detail": {"type": "object"}}},
}
