"""Responses derived from the data, cached per data version, with ETags (304 when the client has them)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from flask import Response, request
from sqlalchemy.orm import Session

from server.api import engine
from server.store import statistics as statistics_store
from server.store.db import transaction

CACHE_SIZE = 256
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = Lock()


def cached_response(key: str, build: Callable[[Session], bytes], mimetype: str,
                    headers: dict[str, str] | None = None, hotspot_data: bool = False) -> Response:
    """`build` runs only when this key has not been built for the current data version. Responses built from hotspot
    layers (`hotspot_data`) are keyed by the hotspot version too; public ones are not, so a write to a restricted
    layer never shows in a public ETag."""
    with transaction(engine()) as db:
        version = str(statistics_store.data_version(db))
        if hotspot_data:
            version += f".{statistics_store.hotspot_data_version(db)}"
        versioned = f"{version}|{key}"
        etag = hashlib.sha256(versioned.encode()).hexdigest()[:32]
        if request.if_none_match.contains(etag):
            return _revalidate(Response(status=304), etag)
        with _lock:
            body = _cache.get(versioned)
        if body is None:
            body = build(db)
            with _lock:
                _cache[versioned] = body
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    response = Response(body, mimetype=mimetype)
    response.headers.update(headers or {})
    return _revalidate(response, etag)


def _revalidate(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # revalidate each time: an import changes the answer
    return response
