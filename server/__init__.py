"""CSP Atlas: the Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from server.config import Settings, load_settings
from server.store.db import engine_for


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        JSON_SORT_KEYS=False,
    )
    app.extensions["csp_settings"] = settings
    app.extensions["csp_engine"] = engine_for(settings.database_url)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)

    from server.api import (
        auth,
        boundaries,
        crime,
        errors,
        health,
        hotspot_layers,
        hotspots,
        layers,
        limits,
        maps,
        openapi,
        pages,
        patrols,
        populations,
    )

    errors.register(app)
    limits.register(app)
    blueprints = (health.bp, auth.bp, boundaries.bp, crime.bp, layers.bp, maps.bp, populations.bp,
                  hotspot_layers.bp, hotspots.bp, patrols.bp, openapi.bp, pages.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app
