"""SQL for fixed-window rate-limit counters, shared by every worker and process through PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_HIT_SQL = text("""
    INSERT INTO rate_limit_counters (bucket, client_key, window_start, hits)
    VALUES (:bucket, :key, to_timestamp(floor(extract(epoch FROM now()) / :window) * :window), :cost)
    ON CONFLICT (bucket, client_key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + :cost
    RETURNING hits, ceil(extract(epoch FROM window_start + make_interval(secs => :window) - now()))::int""")

_COUNT_SQL = text("""
    SELECT hits, ceil(extract(epoch FROM window_start + make_interval(secs => :window) - now()))::int
    FROM rate_limit_counters
    WHERE bucket = :bucket AND client_key = :key
      AND window_start = to_timestamp(floor(extract(epoch FROM now()) / :window) * :window)""")

_PURGE_SQL = text("DELETE FROM rate_limit_counters WHERE window_start < now() - make_interval(secs => :keep)")


def hit(session: Session, bucket: str, client_key: str, limit: int, window_seconds: int, cost: int = 1) -> int | None:
    """Count `cost` hits for this client in the current window; the seconds to wait when over `limit`, else None."""
    hits, left = session.execute(_HIT_SQL, {"bucket": bucket, "key": client_key[:200], "window": window_seconds,
                                            "cost": cost}).one()
    return max(1, left) if hits > limit else None


def blocked_for(session: Session, bucket: str, client_key: str, limit: int, window_seconds: int) -> int | None:
    """Like `hit` but without counting: the seconds to wait when this client is already at `limit`, else None."""
    row = session.execute(_COUNT_SQL, {"bucket": bucket, "key": client_key[:200], "window": window_seconds}).first()
    return max(1, row[1]) if row and row[0] >= limit else None


def purge(session: Session, keep_seconds: int = 86400) -> int:
    """Forget windows older than `keep_seconds`."""
    return session.execute(_PURGE_SQL, {"keep": keep_seconds}).rowcount


_REFUND_SQL = text("""
    UPDATE rate_limit_counters SET hits = hits - :cost
    WHERE bucket = :bucket AND client_key = :key AND hits >= :cost
      AND window_start = to_timestamp(floor(extract(epoch FROM now()) / :window) * :window)""")


def refund(session: Session, bucket: str, client_key: str, window_seconds: int, cost: int = 1) -> None:
    """Take back hits counted in the current window (e.g. an attempt that turned out to succeed); a window that has
    rolled over since is left alone, so a refund never becomes credit."""
    session.execute(_REFUND_SQL, {"bucket": bucket, "key": client_key[:200], "window": window_seconds, "cost": cost})
