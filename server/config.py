"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def normalise_database_url(url: str) -> str:
    """SQLAlchemy needs the driver named; accept the libpq-style URL users have."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    shared_dir: Path
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    extra: dict = field(default_factory=dict)
    rate_limits: str = ""  # CSP_ATLAS_RATE_LIMITS overrides, e.g. 'analysis=30/60' (server/api/limits.py)
    heavy_concurrency: int = 2  # heavy requests (analysis, maps, exports, uploads) running at once per process
    heavy_wait_seconds: float = 3.0  # how long a heavy request waits for a free slot before a 503


def load_settings() -> Settings:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "DATABASE_URL is not set. Start the service with scripts/run, which provides a private "
            "PostGIS cluster, or export DATABASE_URL=postgresql://user@host:port/dbname."
        )
    return Settings(
        database_url=normalise_database_url(url),
        secret_key=os.environ.get("CSP_ATLAS_SECRET_KEY") or os.urandom(32).hex(),
        shared_dir=Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")),
        max_upload_bytes=int(os.environ.get("CSP_ATLAS_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES)),
        rate_limits=os.environ.get("CSP_ATLAS_RATE_LIMITS", ""),
        heavy_concurrency=int(os.environ.get("CSP_ATLAS_HEAVY_CONCURRENCY", 2)),
        heavy_wait_seconds=float(os.environ.get("CSP_ATLAS_HEAVY_WAIT_SECONDS", 3)),
    )
