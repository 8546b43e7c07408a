"""CSP Atlas: the Flask application factory."""

from __future__ import annotations

import logging
import sys

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

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
    # A shorter switch interval lets a thread back from the database (a cheap request) take the interpreter lock
    # sooner from one that is computing; Python's default is 5 ms.
    sys.setswitchinterval(settings.gil_switch_ms / 1000)
    if settings.trusted_proxies:  # believe X-Forwarded-For/-Proto/-Host from exactly this many proxies, no more
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.extensions["csp_engine"] = engine_for(settings.database_url)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)

    from server.api import (
        admin,
        auth,
        boundaries,
        compression,
        contract,
        crime,
        errors,
        health,
        hotspot_layers,
        jobs,
        layers,
        limits,
        maps,
        ogc,
        openapi,
        pages,
        partnership_annotations,
        partnerships,
        patrols,
        populations,
        registries,
        security_headers,
        spatial_statistics,
    )
    from server.api.openapi_ogc import ogc_paths
    from server.api.schemas import SCHEMAS

    api = contract.make_api(app, SCHEMAS)
    errors.register(app)  # after the Api, whose own HTTPException handler it replaces
    partnerships.register(app)  # first of the before-request checks: which partnership, and is it there
    limits.register(app)
    compression.register(app)
    security_headers.register(app)
    documented = (health.bp, auth.bp, boundaries.bp, crime.bp, layers.bp, maps.bp, populations.bp,
                  hotspot_layers.bp, spatial_statistics.bp, jobs.bp, patrols.bp, admin.bp, partnership_annotations.bp,
                  registries.bp, partnerships.bp)
    for blueprint in documented:
        api.register_blueprint(blueprint)
    for blueprint in (openapi.bp, ogc.bp, pages.bp):
        app.register_blueprint(blueprint)
    contract.complete_document(api, app, limits.EXPENSIVE_ENDPOINTS)
    document = api.spec.to_dict()
    ogc_part = ogc_paths(lambda schema: api.ma_plugin.converter.schema2parameters(schema, location="query"))
    contract.complete_hand_written(ogc_part)
    document["paths"].update(ogc_part)  # /ogc: parameters from their declarations, paths and answers by hand
    document["servers"] = partnerships.SERVERS
    app.extensions["csp_openapi"] = contract.without_unused_schemas(document)
    return app
