"""GET /api/registries: the extension points (classification methods, palettes, measures, export and map formats,
analyses), so the map's option lists and the OpenAPI enums come from the same entries."""

from __future__ import annotations

from flask import jsonify

from server.api.contract import Blueprint, responds
from server.domain.registry import registries

bp = Blueprint("registries", __name__, url_prefix="/api", description="What the API offers")


@bp.get("/registries")
@responds(bp, 200, "every extension point with its entries", schema="Registries")
def list_registries():
    """Classification methods, palettes, measures, export and map formats and analyses, in the map's order"""
    response = jsonify(registries())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
