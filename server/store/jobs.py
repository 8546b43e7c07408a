"""SQL for the jobs users follow (queued heavy work, its progress and outcome). procrastinate's own tables hold the
queue itself; a row here is what `GET /api/jobs/{id}` shows."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = """id::text AS id, kind, url, cache_key, status, progress_done, progress_total, message, error, runs,
              requested_by, created_at, started_at, finished_at, params, outcome, error_details"""


def create_or_follow(session: Session, kind: str, url: str, cache_key: str,
                     requested_by: str | None) -> tuple[dict[str, Any], bool]:
    """A new queued job for this result, or the one already queued or running for it; True when new."""
    row = session.execute(text(f"""
        INSERT INTO jobs (id, kind, url, cache_key, requested_by) VALUES (:id, :kind, :url, :key, :by)
        ON CONFLICT (cache_key) WHERE status IN ('queued', 'running') DO NOTHING
        RETURNING {_COLUMNS}"""), {"id": str(uuid.uuid4()), "kind": kind, "url": url, "key": cache_key,
                                   "by": requested_by}).mappings().first()
    if row is not None:
        return dict(row), True
    existing = session.execute(text(f"""
        SELECT {_COLUMNS} FROM jobs WHERE cache_key = :key AND status IN ('queued', 'running')"""),
        {"key": cache_key}).mappings().one()
    return dict(existing), False


def get(session: Session, job_id: str) -> dict[str, Any] | None:
    try:
        uuid.UUID(job_id)
    except ValueError:
        return None
    row = session.execute(text(f"SELECT {_COLUMNS} FROM jobs WHERE id = :id"), {"id": job_id}).mappings().first()
    return dict(row) if row else None


def start(session: Session, job_id: str) -> dict[str, Any] | None:
    row = session.execute(text(f"""
        UPDATE jobs SET status = 'running', started_at = now(), runs = runs + 1, message = 'started'
        WHERE id = :id AND status IN ('queued', 'running') RETURNING {_COLUMNS}"""), {"id": job_id}).mappings().first()
    return dict(row) if row else None


def progress(session: Session, job_id: str, done: int, total: int, message: str) -> None:
    session.execute(text("""
        UPDATE jobs SET progress_done = :done, progress_total = greatest(:total, 1), message = :message
        WHERE id = :id"""), {"id": job_id, "done": done, "total": total, "message": message[:500]})


def finish(session: Session, job_id: str, error: str | None) -> None:
    session.execute(text("""
        UPDATE jobs SET status = CASE WHEN :failed THEN 'failed' ELSE 'done' END, error = :error,
               finished_at = now(), progress_done = CASE WHEN :failed THEN progress_done ELSE progress_total END,
               message = CASE WHEN :failed THEN 'failed' ELSE 'done' END
        WHERE id = :id"""), {"id": job_id, "error": error, "failed": error is not None})


# --- jobs that run an upload: its files wait in job_files until the job ends -------------------------------------

def create_upload_job(session: Session, kind: str, url: str, requested_by: str | None, params: dict[str, Any],
                      files: list[tuple[str, bytes]]) -> dict[str, Any]:
    """A new queued job holding the uploaded (name, content) files and the upload's parameters."""
    job_id = str(uuid.uuid4())
    row = session.execute(text(f"""
        INSERT INTO jobs (id, kind, url, cache_key, requested_by, params)
        VALUES (:id, :kind, :url, :key, :by, CAST(:params AS jsonb)) RETURNING {_COLUMNS}"""),
        {"id": job_id, "kind": kind, "url": url, "key": f"upload:{job_id}", "by": requested_by,
         "params": json.dumps(params)}).mappings().one()
    session.execute(text("INSERT INTO job_files (job_id, position, file_name, content) "
                         "VALUES (:id, :position, :name, :content)"),
                    [{"id": job_id, "position": position, "name": name, "content": content}
                     for position, (name, content) in enumerate(files)])
    return dict(row)


def upload_files(session: Session, job_id: str) -> list[tuple[str, bytes]]:
    rows = session.execute(text("SELECT file_name, content FROM job_files WHERE job_id = :id ORDER BY position"),
                           {"id": job_id}).all()
    return [(name, bytes(content)) for name, content in rows]


def finish_upload(session: Session, job_id: str, outcome: dict[str, Any] | None, error: str | None,
                  error_details: dict[str, Any] | None) -> None:
    """End an upload job with its outcome or its error, and delete its files."""
    finish(session, job_id, error)
    session.execute(text("""
        UPDATE jobs SET outcome = CAST(:outcome AS jsonb), error_details = CAST(:details AS jsonb) WHERE id = :id"""),
        {"id": job_id, "outcome": json.dumps(outcome) if outcome is not None else None,
         "details": json.dumps(error_details) if error_details is not None else None})
    session.execute(text("DELETE FROM job_files WHERE job_id = :id"), {"id": job_id})
