"""gzip for every JSON, GeoJSON and CSV response that is not compressed already (cached responses are stored gzipped
and come through as they are)."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = frozenset({"application/json", "application/geo+json", "text/csv", "application/vnd.oai.openapi+json",
                          "image/svg+xml", "application/vnd.google-earth.kml+xml", "text/javascript",
                          "application/javascript", "text/css", "text/html"})
MIN_BYTES = 1024
LEVEL = 6


def _compress(response: Response) -> Response:
    if (response.status_code != 200 or response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers or response.mimetype not in COMPRESSIBLE
            or "gzip" not in request.accept_encodings):
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    if response.get_etag()[0]:
        tag, _weak = response.get_etag()
        response.set_etag(tag, weak=True)  # the same tag for both bodies is only a weak validator
    return response


def register(app: Flask) -> None:
    app.after_request(_compress)
