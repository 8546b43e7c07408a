"""GET /api/health: is the service and its database usable. Anyone learns ok or not; admins also get the details."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError

from server.api import engine
from server.api.auth import current_user
from server.api.contract import Blueprint, responds
from server.domain.accounts import role_at_least
from server.store import meta

bp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


def _is_admin() -> bool:
    try:
        user = current_user()
    except Exception:  # a bad token or an unreachable database must not turn a health check into an error
        return False
    return user is not None and role_at_least(user.role, "admin")


@bp.get("/health")
@responds(bp, 200, "healthy (admins also get the PostgreSQL and PostGIS versions)", schema="Health")
@bp.alt_response(503, description="the database is unreachable", schema="Health")
def health():
    """Service and database health"""
    try:
        versions = meta.database_versions(engine())
    except SQLAlchemyError as error:
        body = {"status": "unavailable"}
        if _is_admin():
            body |= {"database": "unreachable",
                     "reason": str(error.orig if hasattr(error, "orig") else error).splitlines()[0]}
        return jsonify(body), 503
    return jsonify({"status": "ok", **(versions if _is_admin() else {})})
