"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
import re
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
    cache_bytes: int = 512 * 1024 * 1024  # the shared response cache in PostgreSQL (gzip bodies)
    local_cache_bytes: int = 64 * 1024 * 1024  # each process's copy of the hottest entries
    upload_job_bytes: int = 5 * 1024 * 1024  # with jobs="queue", uploads larger than this run as jobs
    gi_job_work: int = 1_000_000  # Gi* over more units × (permutations + 1) than this runs as a job
    kde_job_cells: int = 40_000  # kernel density over more grid cells than this runs as a job
    job_niceness: int = 10  # job workers lower their CPU priority by this much (0: as the web workers)
    gil_switch_ms: float = 1.0  # how long a Python thread runs before another may take the interpreter lock
    listen_for_version: bool = True  # learn data versions by LISTEN, serving held responses without a query
    jobs: str = "inline"  # "queue": heavy requests go to the job workers (scripts/run starts them); "inline": answer
    owner_database_url: str | None = None  # the schema's owner, for migrations; None: DATABASE_URL
    https: bool = False  # served over TLS: Secure __Host- session cookie (and HSTS)
    session_idle_hours: float = 8.0
    session_max_hours: float = 24.0
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed
    embed_ancestors: tuple[str, ...] = ("'self'",)  # origins whose pages may frame /embed (CSP frame-ancestors)
    police_api: str = "https://data.police.uk/api"  # the police.uk API that `crime fetch` and its jobs ask
    police_force: str = "Kent Police"  # "Reported by" of the force's records fetched from it (the API omits it)
    record_buffer_metres: float = 2000.0  # records may lie this far outside the partnership's wards
    protective_marking: str = "OFFICIAL"  # printed on briefings; raised to OFFICIAL-SENSITIVE by partnership records
    basemap_url: str = ""  # XYZ template for server-drawn maps (https://tiles.example.org/{z}/{x}/{y}.png); "": none
    basemap_attribution: str = ""


# A report host allowed to frame /embed: 'self', or an origin like https://reports.example.org[:8443] (a leading *.
# for subdomains); nothing that could end the CSP directive or name a scheme such as javascript:.
_ANCESTOR = re.compile(r"'self'|https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?", re.IGNORECASE | re.ASCII)


def parse_embed_ancestors(text: str) -> tuple[str, ...]:
    """CSP_ATLAS_EMBED_ANCESTORS: space-separated origins that may frame /embed; empty means the atlas itself."""
    origins = tuple(text.split())
    if origins == ("'none'",):
        return origins
    bad = [o for o in origins if not _ANCESTOR.fullmatch(o)]
    if bad:
        raise RuntimeError(f"CSP_ATLAS_EMBED_ANCESTORS: {', '.join(map(repr, bad))} is not an origin; give "
                           "space-separated origins like https://reports.example.org, or 'self' or 'none'")
    return origins or ("'self'",)


def _jobs_mode(text: str) -> str:
    if text not in ("queue", "inline"):
        raise RuntimeError(f"CSP_ATLAS_JOBS must be 'queue' (heavy work goes to the job workers) or 'inline', not "
                           f"'{text}'")
    return text


def _http_url(name: str, text: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
        raise RuntimeError(f"{name} must be an http(s) URL such as https://data.police.uk/api, not '{text}'")
    return text.rstrip("/")
def _non_negative(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name}: '{raw}' is not a number of metres") from None
    if not 0 <= value <= 100_000:
        raise RuntimeError(f"{name}: {raw} must be from 0 to 100000 metres")
    return value


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
        cache_bytes=int(os.environ.get("CSP_ATLAS_CACHE_BYTES", 512 * 1024 * 1024)),
        local_cache_bytes=int(os.environ.get("CSP_ATLAS_LOCAL_CACHE_BYTES", 64 * 1024 * 1024)),
        upload_job_bytes=int(os.environ.get("CSP_ATLAS_UPLOAD_JOB_BYTES", 5 * 1024 * 1024)),
        gi_job_work=int(os.environ.get("CSP_ATLAS_GI_JOB_WORK", 1_000_000)),
        kde_job_cells=int(os.environ.get("CSP_ATLAS_KDE_JOB_CELLS", 40_000)),
        job_niceness=int(os.environ.get("CSP_ATLAS_JOB_NICENESS", 10)),
        gil_switch_ms=float(os.environ.get("CSP_ATLAS_GIL_SWITCH_MS", 1)),
        listen_for_version=os.environ.get("CSP_ATLAS_LISTEN_FOR_VERSION", "1") == "1",
        jobs=_jobs_mode(os.environ.get("CSP_ATLAS_JOBS", "queue")),
        owner_database_url=normalise_database_url(os.environ.get("CSP_ATLAS_OWNER_DATABASE_URL", "")) or None,
        https=os.environ.get("CSP_ATLAS_HTTPS", "0") == "1",
        session_idle_hours=float(os.environ.get("CSP_ATLAS_SESSION_IDLE_HOURS", 8)),
        session_max_hours=float(os.environ.get("CSP_ATLAS_SESSION_MAX_HOURS", 24)),
        trusted_proxies=int(os.environ.get("CSP_ATLAS_TRUSTED_PROXIES", 0)),
        embed_ancestors=parse_embed_ancestors(os.environ.get("CSP_ATLAS_EMBED_ANCESTORS", "")),
        police_api=_http_url("CSP_ATLAS_POLICE_API", os.environ.get("CSP_ATLAS_POLICE_API", "https://data.police.uk/api")),
        police_force=os.environ.get("CSP_ATLAS_POLICE_FORCE", "Kent Police").strip() or "Kent Police",
        record_buffer_metres=_non_negative("CSP_ATLAS_RECORD_BUFFER_METRES", 2000.0),
        protective_marking=os.environ.get("CSP_ATLAS_PROTECTIVE_MARKING", "OFFICIAL").strip() or "OFFICIAL",
        basemap_url=os.environ.get("CSP_ATLAS_BASEMAP_URL", "").strip(),
        basemap_attribution=os.environ.get("CSP_ATLAS_BASEMAP_ATTRIBUTION", "").strip(),
    )
