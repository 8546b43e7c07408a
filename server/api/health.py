"""GET /api/health: is the service and its database usable."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from server.api import engine
from server.store import meta

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    try:
        versions = meta.database_versions(engine())
    except SQLAlchemyError as error:
        reason = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
        return jsonify({"status": "unavailable", "database": "unreachable", "reason": reason}), 503
    return jsonify({"status": "ok", **versions})
