"""SQL for the shared response cache: gzip bodies by key, evicted least recently used beyond a byte budget."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# A hit refreshes used_at at most once a minute, so hot entries are not rewritten on every request.
_GET_SQL = text("""
    WITH hit AS (SELECT key, body, used_at FROM response_cache WHERE key = :key),
    touched AS (UPDATE response_cache c SET used_at = now() FROM hit
                WHERE c.key = hit.key AND hit.used_at < now() - interval '60 seconds')
    SELECT body FROM hit""")

_PUT_SQL = text("""
    INSERT INTO response_cache (key, body, size) VALUES (:key, :body, :size)
    ON CONFLICT (key) DO NOTHING""")

_EVICT_SQL = text("""
    DELETE FROM response_cache WHERE key IN (
        SELECT key FROM (SELECT key, sum(size) OVER (ORDER BY used_at DESC, key) AS kept FROM response_cache) ranked
        WHERE kept > :budget)""")


def get(session: Session, key: str) -> bytes | None:
    body = session.execute(_GET_SQL, {"key": key}).scalar()
    return bytes(body) if body is not None else None


def lock(session: Session, key: str) -> None:
    """Serialise the building of one key across processes until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def put(session: Session, key: str, body: bytes, budget_bytes: int) -> None:
    session.execute(_PUT_SQL, {"key": key, "body": body, "size": len(body)})
    session.execute(_EVICT_SQL, {"budget": budget_bytes})


def total_bytes(session: Session) -> int:
    return session.execute(text("SELECT coalesce(sum(size), 0) FROM response_cache")).scalar_one()
