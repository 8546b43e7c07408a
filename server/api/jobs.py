"""GET /api/jobs/{id}: a queued heavy request's status, progress and, when done, the URL of its result."""

from __future__ import annotations

from flask import jsonify

from server.api import engine
from server.api.caching import job_json
from server.api.contract import Blueprint, responds
from server.api.errors import ApiError
from server.store import jobs as jobs_store
from server.store.db import transaction

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Queued heavy requests")


@bp.get("/<job_id>")
@responds(bp, 200, "the job", schema="Job")
def job_status(job_id: str):
    """A queued heavy request: status, progress and, when done, the URL of its result"""
    with transaction(engine()) as db:
        job = jobs_store.get(db, job_id)
    if job is None:
        raise ApiError(404, f"no job '{job_id}'")
    response = jsonify(job_json(job))
    response.headers["Cache-Control"] = "no-store"
    if job["status"] in ("queued", "running"):
        response.headers["Retry-After"] = "2"
    return response
