"""The partnership's annotations: statements of the strategic assessment tied to places (public)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from server.api import engine
from server.api.errors import ApiError
from server.domain.annotations import annotations_collection
from server.store.db import transaction

bp = Blueprint("annotations", __name__, url_prefix="/api")


@bp.get("/annotations")
def list_annotations():
    if request.args:
        raise ApiError(400, f"GET /api/annotations takes no parameters, not {', '.join(sorted(request.args))}")
    with transaction(engine()) as db:
        return jsonify(annotations_collection(db))
