"""Bounded work per request: body size per route, JSON nesting depth, per-client rate limits on expensive routes
(counted in PostgreSQL, so they hold across workers and processes) and a per-process cap on heavy requests running at
once, so cheap requests such as /api/health always find a free thread. A heavy GET served from the response cache
takes a slot only when it has to build; when none is free it is queued as a job (202) instead of waiting."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from flask.json.provider import DefaultJSONProvider

from server.api import engine, settings
from server.api.errors import ApiError
from server.jobs import JOB_ENVIRON
from server.store import ratelimit
from server.store.db import transaction

SIGN_IN_BODY_BYTES = 4 * 1024
DEFAULT_BODY_BYTES = 1024 * 1024  # a patrol area of 5,000 vertices is about 200 KB
MAX_JSON_DEPTH = 64

# Routes that take files: the upload limit of the settings instead of DEFAULT_BODY_BYTES.
UPLOAD_ENDPOINTS = frozenset({"boundaries.upload", "crime.create_import", "hotspot_layers.import_points",
                              "populations.load_population"})
SMALL_BODY_ENDPOINTS = {"auth.sign_in": SIGN_IN_BODY_BYTES}


@dataclass(frozen=True)
class Limit:
    requests: int
    window_seconds: int


# The expensive routes, each in a bucket with its default limit per client (user, or address when anonymous).
EXPENSIVE_ENDPOINTS = {
    "spatial_statistics.gi_star": "analysis", "spatial_statistics.kernel_density": "analysis",
    "spatial_statistics.clusters": "analysis",
    "patrols.suggest": "analysis",
    "maps.static_map": "maps", "maps.static_cluster_map": "maps",
    "maps.export_layer": "exports", "maps.export_cluster_layer": "exports", "patrols.export_area": "exports",
    "maps.figure_pack": "figure-packs",
    **{endpoint: "uploads" for endpoint in UPLOAD_ENDPOINTS},
}
# Heavy GETs answered through server.api.caching.cached_response: a slot only for building, a job when none is free.
CACHED_HEAVY_ENDPOINTS = frozenset(EXPENSIVE_ENDPOINTS) - UPLOAD_ENDPOINTS - {"patrols.export_area"}
DEFAULT_LIMITS = {"analysis": Limit(30, 60), "maps": Limit(60, 60), "exports": Limit(60, 60),
                  "figure-packs": Limit(6, 60), "uploads": Limit(10, 60)}


def parse_rate_limits(text: str) -> dict[str, Limit]:
    """CSP_ATLAS_RATE_LIMITS, e.g. 'analysis=30/60,maps=120/60' (requests per seconds); unnamed buckets keep their
    defaults."""
    limits = dict(DEFAULT_LIMITS)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, rate = item.partition("=")
        count, _, seconds = rate.partition("/")
        if name not in DEFAULT_LIMITS or not count.isdigit() or not seconds.isdigit() or int(seconds) < 1:
            raise RuntimeError(f"CSP_ATLAS_RATE_LIMITS: '{item}' is not BUCKET=REQUESTS/SECONDS with a bucket of "
                               f"{', '.join(DEFAULT_LIMITS)}")
        limits[name] = Limit(int(count), int(seconds))
    return limits


class TooDeep(ValueError):
    pass


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


class BoundedJSONProvider(DefaultJSONProvider):
    """Request JSON nested deeper than MAX_JSON_DEPTH is bad input (a ValueError, so a 400), never a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise TooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
        if not _depth_within(value, MAX_JSON_DEPTH):
            raise TooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return value


def body_limit(endpoint: str | None) -> int:
    if endpoint in UPLOAD_ENDPOINTS:
        return settings().max_upload_bytes
    return SMALL_BODY_ENDPOINTS.get(endpoint or "", DEFAULT_BODY_BYTES)


def _client_key() -> str:
    from server.api.auth import current_user

    try:
        user = current_user()
    except ApiError:
        user = None
    return f"user:{user.id}" if user is not None else f"addr:{request.remote_addr or 'unknown'}"


def _check_rate(bucket: str) -> None:
    limit = current_app.extensions["csp_rate_limits"][bucket]
    with transaction(engine()) as db:
        wait = ratelimit.hit(db, bucket, _client_key(), limit.requests, limit.window_seconds)
    if wait is not None:
        raise ApiError(429, f"too many {bucket} requests: at most {limit.requests} in {limit.window_seconds} s; "
                            f"try again in {wait} s", retry_after=wait)


def _take_heavy_slot() -> None:
    slots: threading.BoundedSemaphore = current_app.extensions["csp_heavy_slots"]
    if not slots.acquire(timeout=settings().heavy_wait_seconds):
        raise ApiError(503, "the server is busy with other heavy requests; try again shortly", retry_after=5)
    g.csp_heavy_slot = slots


def _bound_request() -> None:
    request.max_content_length = body_limit(request.endpoint)
    bucket = EXPENSIVE_ENDPOINTS.get(request.endpoint or "")
    if bucket and JOB_ENVIRON not in request.environ:  # a queued job was counted when it was asked for
        _check_rate(bucket)
        if not (request.endpoint in CACHED_HEAVY_ENDPOINTS and request.method == "GET"):
            _take_heavy_slot()


def busy_bucket() -> str | None:
    """The heavy bucket of this request when it must hold a slot to build (None: cheap, or a replayed job)."""
    if request.method != "GET" or JOB_ENVIRON in request.environ:
        return None
    return EXPENSIVE_ENDPOINTS.get(request.endpoint or "") if request.endpoint in CACHED_HEAVY_ENDPOINTS else None


@contextmanager
def slot_to_build(wait: bool) -> Iterator[bool]:
    """Hold a heavy slot while a cached heavy GET builds: True with one, False when none came free (at once unless
    `wait`, then after CSP_ATLAS_HEAVY_WAIT_SECONDS). Cheap requests and replayed jobs need none."""
    if busy_bucket() is None:
        yield True
        return
    slots: threading.BoundedSemaphore = current_app.extensions["csp_heavy_slots"]
    if not slots.acquire(timeout=settings().heavy_wait_seconds if wait else 0):
        yield False
        return
    try:
        yield True
    finally:
        slots.release()


def _release_heavy_slot(_error: BaseException | None) -> None:
    slots = g.pop("csp_heavy_slot", None)
    if slots is not None:
        slots.release()


def register(app: Flask) -> None:
    config = app.extensions["csp_settings"]
    app.json = BoundedJSONProvider(app)
    app.extensions["csp_rate_limits"] = parse_rate_limits(config.rate_limits)
    app.extensions["csp_heavy_slots"] = threading.BoundedSemaphore(config.heavy_concurrency)
    app.before_request(_bound_request)
    app.teardown_request(_release_heavy_slot)
