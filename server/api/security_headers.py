"""Security headers on every response: a strict Content-Security-Policy and the headers browsers expect with it.

The client is ES modules from our own origin with no inline script or style: colours are set through the CSSOM,
which style-src 'self' allows, while markup from a server string could not run even if it got into the page.
Only /embed may be framed, by the report hosts named in CSP_ATLAS_EMBED_ANCESTORS.
"""

from __future__ import annotations

from flask import Flask, Response, request

from server.config import Settings

# Basemap tile servers (client/src/basemap.js); tests/test_security_headers.py checks the two lists agree.
TILE_ORIGINS = ("https://tile.openstreetmap.org",)
EMBED_PATH = "/embed"
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb"))
# An SVG opened on its own (GET /api/maps/{set}.svg) is a document too: matplotlib styles it inline, and it needs
# nothing else, so it may not run script, load anything or be framed.
SVG_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
              "form-action 'none'")


def page_policy(frame_ancestors: tuple[str, ...]) -> str:
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'",),
        "style-src": ("'self'",),
        "img-src": ("'self'", "data:", "blob:", *TILE_ORIGINS),
        "connect-src": ("'self'",),
        "object-src": ("'none'",),
        "base-uri": ("'none'",),
        "form-action": ("'self'",),
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def register(app: Flask) -> None:
    settings: Settings = app.extensions["csp_settings"]
    policies = {False: page_policy(("'none'",)), True: page_policy(settings.embed_ancestors)}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        embed = request.path == EMBED_PATH
        svg = response.mimetype == "image/svg+xml"
        response.headers["Content-Security-Policy"] = SVG_POLICY if svg else policies[embed]
        if not embed:
            response.headers["X-Frame-Options"] = "DENY"  # for browsers without frame-ancestors
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = PERMISSIONS
        if settings.https:
            response.headers["Strict-Transport-Security"] = HSTS
        return response
