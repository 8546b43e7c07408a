"""SQL for the jobs users follow (queued heavy work, its progress and outcome). procrastinate's own tables hold the
queue itself; a row here is what `GET /api/jobs/{id}` shows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = """id::text AS id, kind, url, cache_key, status, progress_done, progress_total, message, error, runs,
              requested_by, created_at, started_at, finished_at"""


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
