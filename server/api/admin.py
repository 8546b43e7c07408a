"""Account administration for admins: users, roles, deactivation, tokens, sessions and the security audit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from server import police_jobs
from server.api import engine, settings
from server.api.auth import actor, current_user, require_role
from server.api.caching import job_json
from server.api.errors import ApiError
from server.domain import accounts
from server.store import jobs as jobs_store
from server.store import police_api as police_api_store
from server.store.db import transaction
from server.store.models import User

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
USER_FIELDS = ("role", "active")
MAX_AUDIT_LIMIT = 1000


def _admin() -> accounts.Actor:
    return actor(current_user().username)


def _user_json(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "team": user.team, "active": user.active}


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}


@bp.get("/users")
@require_role("admin")
def list_users():
    with transaction(engine()) as db:
        users = accounts.list_users(db, settings().session_idle_hours, settings().session_max_hours)
    return jsonify({"users": [_iso({k: v for k, v in u.items() if k != "id"}) for u in users]})


def _user_changes() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise ApiError(400, "send a JSON object with role and/or active")
    unknown = sorted(set(body) - set(USER_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field(s) {', '.join(unknown)}; send role and/or active")
    if "active" in body and not isinstance(body["active"], bool):
        raise ApiError(400, "active is true or false")
    if "role" in body and not isinstance(body["role"], str):
        raise ApiError(400, f"role is one of {', '.join(accounts.ROLE_ORDER)}")
    return body


@bp.patch("/users/<username>")
@require_role("admin")
def change_user(username: str):
    """Change role and/or active; either ends the user's sessions (deactivation also revokes their tokens)."""
    changes = _user_changes()
    with transaction(engine()) as db:
        user = accounts.require_user(db, username)
        if "role" in changes:
            user = accounts.set_role(db, username, changes["role"], _admin())
        if "active" in changes:
            user = accounts.set_active(db, username, changes["active"], _admin())
        return jsonify({"user": _user_json(user)})


@bp.delete("/users/<username>/sessions")
@require_role("admin")
def revoke_sessions(username: str):
    with transaction(engine()) as db:
        ended = accounts.revoke_sessions(db, username, _admin())
    return jsonify({"username": username, "revoked": ended})


@bp.get("/users/<username>/tokens")
@require_role("admin")
def list_tokens(username: str):
    with transaction(engine()) as db:
        tokens = accounts.list_tokens(db, username)
    return jsonify({"username": username, "tokens": [_iso(t) for t in tokens]})


@bp.delete("/users/<username>/tokens/<int:token_id>")
@require_role("admin")
def revoke_token(username: str, token_id: int):
    with transaction(engine()) as db:
        token = accounts.revoke_token(db, token_id, _admin(), username=username)
    return jsonify({"token": _iso(token)})


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} is a whole number from {low} to {high}")
    return int(raw)


@bp.get("/security-audit")
@require_role("admin")
def security_audit():
    """Account events, newest first: sign-ins, failures, throttling, sign-outs and every account change."""
    limit = _int_arg("limit", 100, 1, MAX_AUDIT_LIMIT)
    before = _int_arg("before", None, 1, 2**62)
    with transaction(engine()) as db:
        entries = accounts.audit_entries(db, username=request.args.get("user"), event=request.args.get("event"),
                                         before_id=before, limit=limit)
    return jsonify({"entries": [_iso(e) for e in entries]})


@bp.get("/police-fetch")
@require_role("admin")
def police_fetch_months():
    """The months fetched from the police.uk API: when, the API's last-updated date, records and requests."""
    with transaction(engine()) as db:
        months = police_api_store.api_months(db)
    return jsonify({"api": settings().police_api,
                    "months": [_iso({**m, "month": f"{m['month']:%Y-%m}"}) for m in months]})


@bp.post("/police-fetch")
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
    if new:
        try:
            police_jobs.defer_fetch_job(settings().database_url, job["id"])
        except Exception as error:  # the queue is unreachable: say so rather than leave a job that never runs
            with transaction(engine()) as db:
                jobs_store.finish(db, job["id"], "the job queue is unavailable")
            raise ApiError(503, "the job queue is unavailable; try again shortly", retry_after=10) from error
    response = jsonify({"job": job_json(job)})
    response.status_code = 202
    response.headers["Location"] = f"/api/jobs/{job['id']}"
    response.headers["Retry-After"] = "2"
    response.headers["Cache-Control"] = "no-store"
    return response
