"""The partnership's annotations: statements of the strategic assessment tied to places (public)."""

from __future__ import annotations

from flask import jsonify

from server.api import engine
from server.api.contract import Blueprint, Query, responds
from server.domain.annotations import annotations_collection
from server.store.db import transaction

bp = Blueprint("annotations", __name__, url_prefix="/api", description="The partnership's annotations")


@bp.get("/annotations")
@responds(bp, 200, "GeoJSON FeatureCollection", schema="Annotations")
@bp.arguments(Query, location="query")
def list_annotations(_query: dict):
    """The partnership's annotations (public): statements of the Strategic Assessment 2024/25 tied to places

    The LSOAs of concern and the district priority areas, each outlined as the union of the areas it names, with its
    quote as printed, figure (null where none is printed), paragraph and line of the seed text. Takes no parameters."""
    with transaction(engine()) as db:
        return jsonify(annotations_collection(db))
