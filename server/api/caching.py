"""Responses derived from the data, built once per data version and kept gzip-compressed in one cache shared by every
worker and process (PostgreSQL, bounded in bytes), with a small per-process copy of the hottest entries. Weak ETags
(the same for the gzip and the plain body), 304 for clients that have them, gzip for clients that accept it."""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy.orm import Session

from server.api import engine, limits, settings
from server.api.errors import ApiError
from server.jobs import JOB_ENVIRON, enqueue, libpq_url
from server.store import jobs as jobs_store
from server.store import response_cache, scope
from server.store import statistics as statistics_store
from server.store.db import transaction
from server.store.version_listener import VersionListener

GZIP_LEVEL = 6


class LocalCache:
    """The most recently used bodies of this process, bounded in bytes."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.budget // 4:
            return  # one huge body would push out everything else; the shared cache still has it
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self.size += len(body)
            while self.size > self.budget:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


def local_cache() -> LocalCache:
    extensions = current_app.extensions
    if "csp_local_cache" not in extensions:
        extensions.setdefault("csp_local_cache", LocalCache(settings().local_cache_bytes))
    return extensions["csp_local_cache"]


def _digest(version: str, key: str) -> str:
    """Every key names the partnership the request acts for: the same URL under two prefixes is two answers."""
    return hashlib.sha256(f"{version}|{scope.current() or ''}|{key}".encode()).hexdigest()[:32]


def cache_key(db: Session, key: str, hotspot_data: bool) -> str:
    version = str(statistics_store.data_version(db))
    if hotspot_data:
        version += f".{statistics_store.hotspot_data_version(db)}"
    return _digest(version, key)


_listener_lock = Lock()


def heard_version() -> int | None:
    """The data version announced to this process (server/store/version_listener.py), or None when unknown or when
    the setting turns listening off; the listener starts with the first request of each process (after the fork)."""
    if not settings().listen_for_version:
        return None
    extensions = current_app.extensions
    listener = extensions.get("csp_version_listener")
    if listener is None:
        with _listener_lock:
            listener = extensions.get("csp_version_listener")
            if listener is None:
                listener = VersionListener(libpq_url(settings().database_url)).start()
                extensions["csp_version_listener"] = listener
    return listener.version


def _held_locally(key: str, hotspot_data: bool) -> tuple[str, bytes] | None:
    """A public response this process holds for the version it has heard of: served without touching the database."""
    version = None if hotspot_data else heard_version()
    if version is None:
        return None
    digest = _digest(str(version), key)
    body = local_cache().get(digest)
    return (digest, body) if body is not None else None


class NotForKeeping(Exception):
    """Raised by a build whose result is good to serve now but must not be cached (e.g. a map drawn without its
    basemap tiles because the tile server was down)."""

    def __init__(self, body: bytes):
        super().__init__("served, not cached")
        self.body = body


def cached_gzip(db: Session, digest: str, build: Callable[[Session], bytes]) -> bytes:
    """The gzip body for `digest`: from this process, else the shared cache, else built once (other processes
    asking for the same key meanwhile wait for it rather than build it too)."""
    body = local_cache().get(digest) or response_cache.get(db, digest)
    if body is None:
        response_cache.lock(db, digest)
        body = response_cache.get(db, digest)
        if body is None:
            try:
                body = gzip.compress(build(db), compresslevel=GZIP_LEVEL, mtime=0)
            except NotForKeeping as once:
                return gzip.compress(once.body, compresslevel=GZIP_LEVEL, mtime=0)
            response_cache.put(db, digest, body, settings().cache_bytes)
    local_cache().put(digest, body)
    return body


def cached_response(key: str, build: Callable[[Session], bytes], mimetype: str,
                    headers: dict[str, str] | None = None, hotspot_data: bool = False,
                    job_kind: str | Callable[[Session], str | None] | None = None) -> Response:
    """`build` runs only when this key has not been built for the current data version. Responses built from hotspot
    layers (`hotspot_data`) are keyed by the hotspot version too; public ones are not, so a write to a restricted
    layer never shows in a public ETag. With `job_kind` (or a function of the session giving one, asked only when
    the result is not built yet), a result not built yet is queued as a job: 202 with the job's URL (the same job for
    everyone asking meanwhile), and this URL answers 200 once it is done. A heavy GET that finds every heavy slot
    of this process busy is queued the same way rather than refused."""
    held = _held_locally(key, hotspot_data)
    if held is not None:
        digest, body = held
        if request.if_none_match.contains_weak(digest):
            return _revalidate(Response(status=304), digest)
        return _body_response(body, digest, mimetype, headers)
    can_queue = settings().jobs == "queue" and JOB_ENVIRON not in request.environ and request.method == "GET"
    job = None
    with transaction(engine()) as db:
        digest = cache_key(db, key, hotspot_data)
        if request.if_none_match.contains_weak(digest):
            return _revalidate(Response(status=304), digest)
        body = local_cache().get(digest) or response_cache.get(db, digest)
        if body is None:
            kind = job_kind(db) if callable(job_kind) else job_kind
            if kind and can_queue:
                job = jobs_store.create_or_follow(db, kind, _job_url(), digest, _username())
            else:
                with limits.slot_to_build(wait=not can_queue) as free:
                    if free:
                        body = cached_gzip(db, digest, build)
                    elif can_queue:
                        job = jobs_store.create_or_follow(db, f"busy-{limits.busy_bucket()}", _job_url(), digest,
                                                          _username())
        else:
            local_cache().put(digest, body)
    if job is not None:
        return job_accepted(*job)
    if body is None:
        raise ApiError(503, "the server is busy with other heavy requests; try again shortly", retry_after=5)
    return _body_response(body, digest, mimetype, headers)


def _job_url() -> str:
    return request.script_root + request.full_path.rstrip("?")  # under /p/{slug}/ too


def _body_response(body: bytes, digest: str, mimetype: str, headers: dict[str, str] | None) -> Response:
    if "gzip" in request.accept_encodings:
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(gzip.decompress(body), mimetype=mimetype)
    response.headers.update(headers or {})
    return _revalidate(response, digest)


def job_progress(done: int, total: int, message: str) -> None:
    """Report the progress of the job this request runs for (nothing when it is an ordinary request)."""
    job_id = request.environ.get(JOB_ENVIRON)
    if job_id:
        with transaction(engine()) as db:  # its own transaction: visible while the build goes on
            jobs_store.progress(db, job_id, done, total, message)


def _username() -> str | None:
    from server.api.auth import current_user

    user = current_user()
    return user.username if user else None


def job_json(job: dict) -> dict:
    done = job["status"] == "done"
    return {"id": job["id"], "kind": job["kind"], "status": job["status"],
            "progress": {"done": job["progress_done"], "total": job["progress_total"], "message": job["message"]},
            "result": job["url"] if done else None, "error": job["error"],
            "outcome": job.get("outcome"), "error_details": job.get("error_details"),
            "created_at": job["created_at"].isoformat(),
            "finished_at": job["finished_at"].isoformat() if job["finished_at"] else None,
            "links": {"self": f"{request.script_root}/api/jobs/{job['id']}", "result": job["url"]}}


QUEUE_DOWN = "the job queue is unavailable"


def accepted(job: dict, enqueue_job: Callable[[], None] | None = None,
             give_up: Callable[[Any], None] | None = None) -> Response:
    """202: the work is queued (or already was); follow the job's URL. `enqueue_job` hands a new job to the queue; if
    the queue is unreachable the job ends failed (`give_up`, default: finished with that error) and the answer is 503,
    rather than a job that never runs."""
    if enqueue_job is not None:
        try:
            enqueue_job()
        except Exception as error:
            with transaction(engine()) as db:
                (give_up or (lambda session: jobs_store.finish(session, job["id"], QUEUE_DOWN)))(db)
            raise ApiError(503, f"{QUEUE_DOWN}; try again shortly", retry_after=10) from error
    response = jsonify({"job": job_json(job)})
    response.status_code = 202
    response.headers["Location"] = f"{request.script_root}/api/jobs/{job['id']}"
    response.headers["Retry-After"] = "2"
    response.headers["Cache-Control"] = "no-store"
    return response


def job_accepted(job: dict, new: bool) -> Response:
    """202 for a queued heavy request (a new one is handed to the queue)."""
    return accepted(job, (lambda: enqueue(settings().database_url, job["id"])) if new else None)


def _revalidate(response: Response, digest: str) -> Response:
    response.set_etag(digest, weak=True)
    response.headers["Cache-Control"] = "no-cache"  # revalidate each time: an import changes the answer
    response.headers["Vary"] = "Accept-Encoding"
    return response
