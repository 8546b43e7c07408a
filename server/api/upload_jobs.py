"""Uploads over CSP_ATLAS_UPLOAD_JOB_BYTES go to the job workers (when jobs are queued): the files are kept in
PostgreSQL so that a worker on any machine can run them, and the answer is 202 with the job to follow."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from server.api import engine, settings
from server.api.auth import current_user
from server.api.caching import QUEUE_DOWN, accepted
from server.jobs import JOB_ENVIRON, enqueue_upload
from server.store import jobs as jobs_store
from server.store.db import transaction


def runs_as_job() -> bool:
    """Whether this upload request is large enough to be queued rather than run now."""
    return (settings().jobs == "queue" and JOB_ENVIRON not in request.environ
            and (request.content_length or 0) > settings().upload_job_bytes)


def queue_upload(kind: str, result_url: str, params: dict[str, Any], files: list[tuple[str, bytes]]) -> Response:
    """202 with the new job that will run this upload; its files wait in PostgreSQL until it ends."""
    with transaction(engine()) as db:
        user = current_user()
        url = request.script_root + result_url  # under a partnership's /p/{slug} too
        job = jobs_store.create_upload_job(db, kind, url, user.username if user else None, params, files)
    return accepted(job, lambda: enqueue_upload(settings().database_url, job["id"]),
                    lambda db: jobs_store.finish_upload(db, job["id"], None, QUEUE_DOWN, None))
