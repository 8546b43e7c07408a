"""Account administration for admins: users, roles, deactivation, tokens, sessions and the security audit."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from marshmallow import ValidationError, validates_schema

from server import police_jobs
from server.api import engine, settings
from server.api.auth import actor, current_user, require_role
from server.api.caching import accepted, job_json
from server.api.contract import Blueprint, Body, JsonBool, Query, choice, responds, text, whole
from server.domain import accounts
from server.store import jobs as jobs_store
from server.store import police_api as police_api_store
from server.store.db import transaction
from server.store.models import User

bp = Blueprint("admin", __name__, url_prefix="/api/admin",
               description="Account administration (role admin); every change is written to the security audit")
MAX_AUDIT_LIMIT = 1000


class UserChanges(Body):
    role = choice(accounts.ROLE_ORDER, "the new role", error="unknown role '{input}'; valid roles: {choices}")
    active = JsonBool(metadata={"description": "false deactivates (ends sessions, revokes tokens)"})

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ValidationError("send a JSON object with role and/or active")


class AuditQuery(Query):
    limit = whole(1, MAX_AUDIT_LIMIT, "entries per page", default=100)
    before = whole(1, 2**62, "entries older than this id")
    user = text("only this user's events")
    event = text("only this event, e.g. sign-in-failed")


def _admin() -> accounts.Actor:
    return actor(current_user().username)


def _user_json(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "team": user.team, "active": user.active}


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}


@bp.get("/users")
@responds(bp, 200, "users with their open sessions, last sign-in and active tokens", schema="AccountUsers")
@require_role("admin")
def list_users():
    """Every account"""
    with transaction(engine()) as db:
        users = accounts.list_users(db, settings().session_idle_hours, settings().session_max_hours)
    return jsonify({"users": [_iso({k: v for k, v in u.items() if k != "id"}) for u in users]})


@bp.patch("/users/<username>")
@responds(bp, 200, "the user", errors=(404, 409))
@require_role("admin")
@bp.arguments(UserChanges, location="json")
def change_user(changes: dict, username: str):
    """Change role and/or active; either ends the user's sessions (deactivation also revokes their tokens)"""
    with transaction(engine()) as db:
        user = accounts.require_user(db, username)
        if "role" in changes:
            user = accounts.set_role(db, username, changes["role"], _admin())
        if "active" in changes:
            user = accounts.set_active(db, username, changes["active"], _admin())
        return jsonify({"user": _user_json(user)})


@bp.delete("/users/<username>/sessions")
@responds(bp, 200, "how many sessions ended")
@require_role("admin")
def revoke_sessions(username: str):
    """End all of a user's browser sessions"""
    with transaction(engine()) as db:
        ended = accounts.revoke_sessions(db, username, _admin())
    return jsonify({"username": username, "revoked": ended})


@bp.get("/users/<username>/tokens")
@responds(bp, 200, "the user's API tokens (never the secrets)", schema="ApiTokens")
@require_role("admin")
def list_tokens(username: str):
    """A user's API tokens"""
    with transaction(engine()) as db:
        tokens = accounts.list_tokens(db, username)
    return jsonify({"username": username, "tokens": [_iso(t) for t in tokens]})


@bp.delete("/users/<username>/tokens/<int:token_id>")
@responds(bp, 200, "the revoked token")
@require_role("admin")
def revoke_token(username: str, token_id: int):
    """Revoke one API token"""
    with transaction(engine()) as db:
        token = accounts.revoke_token(db, token_id, _admin(), username=username)
    return jsonify({"token": _iso(token)})


@bp.get("/security-audit")
@responds(bp, 200, "entries, newest first", schema="SecurityAudit")
@require_role("admin")
@bp.arguments(AuditQuery, location="query")
def security_audit(query: dict):
    """Account events, newest first: sign-ins, failures, throttling, sign-outs and every account change"""
    with transaction(engine()) as db:
        entries = accounts.audit_entries(db, username=query.get("user"), event=query.get("event"),
                                         before_id=query.get("before"), limit=query["limit"])
    return jsonify({"entries": [_iso(e) for e in entries]})


@bp.get("/police-fetch")
@responds(bp, 200, "the API and the months fetched")
@require_role("admin")
def police_fetch_months():
    """The months fetched from the police.uk API: when, the API's last-updated date, records and requests."""
    with transaction(engine()) as db:
        months = police_api_store.api_months(db)
    return jsonify({"api": settings().police_api,
                    "months": [_iso({**m, "month": f"{m['month']:%Y-%m}"}) for m in months]})


@bp.post("/police-fetch")
@responds(bp, 200, "done at once (CSP_ATLAS_JOBS=inline): the finished job", schema="JobAccepted", queued=True)
@require_role("admin")
def start_police_fetch():
    """Fetch the months police.uk has and the atlas lacks, as a job: 202 and the job to follow (the one already
    queued or running, if any). Without job workers (CSP_ATLAS_JOBS=inline) it runs now and answers with the job."""
    job, new = police_jobs.create_fetch_job(engine(), current_user().username)
    if settings().jobs == "inline":
        if new:
            police_jobs.run_fetch_job(settings(), job["id"])
        with transaction(engine()) as db:
            return jsonify({"job": job_json(jobs_store.get(db, job["id"]))})
    return accepted(job, (lambda: police_jobs.defer_fetch_job(settings().database_url, job["id"])) if new else None)
