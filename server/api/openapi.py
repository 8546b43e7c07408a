"""GET /api/openapi.json: the OpenAPI 3 document, generated at start-up from the routes' declarations
(server.api.contract)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi():
    return jsonify(current_app.extensions["csp_openapi"])
