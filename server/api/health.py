"""GET /api/health: is the service and its database usable. Anyone learns ok or not; admins also get the details.

Anonymous checks are answered from this process's last answer from the database while it is under
HEALTH_CHECK_SECONDS old; up to STALE_SECONDS old, it is answered too while one background thread asks again, so no
probe waits for the database under load; older, or after a failure, the probe asks itself. A load balancer probing
often then costs at most one query a second per process, and an outage shows within seconds."""

from __future__ import annotations

import threading
import time

from flask import current_app, jsonify
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from server.api import engine
from server.api.auth import current_user
from server.api.contract import Blueprint, responds
from server.domain.accounts import role_at_least
from server.store import meta

bp = Blueprint("health", __name__, url_prefix="/api", description="Service health")
HEALTH_CHECK_SECONDS = 1.0
STALE_SECONDS = 5.0



class LastCheck:
    """This app's last answer from the database, and when it came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = float("-inf")
        self.healthy = False
        self.refreshing = False

    def recent(self) -> bool:
        with self.lock:
            return self.healthy and time.monotonic() - self.at < HEALTH_CHECK_SECONDS

    def usable(self) -> tuple[bool, bool]:
        """(the last answer may still be given, this caller should ask again in the background)."""
        with self.lock:
            if not (self.healthy and time.monotonic() - self.at < STALE_SECONDS):
                return False, False
            claimed, self.refreshing = not self.refreshing, True
            return True, claimed

    def remember(self, healthy: bool) -> None:
        with self.lock:
            self.at, self.healthy, self.refreshing = time.monotonic(), healthy, False


def _refresh(app_engine: Engine, last: LastCheck) -> None:
    try:
        meta.database_versions(app_engine)
    except SQLAlchemyError:
        last.remember(False)
    else:
        last.remember(True)


def _last_check() -> LastCheck:
    return current_app.extensions.setdefault("csp_health_check", LastCheck())


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
    admin = _is_admin()
    last = _last_check()
    if not admin and last.recent():
        return jsonify({"status": "ok"})
    usable, refresh = (False, False) if admin else last.usable()
    if refresh:
        threading.Thread(target=_refresh, args=(engine(), last), name="health-check", daemon=True).start()
    if usable:
        return jsonify({"status": "ok"})
    try:
        versions = meta.database_versions(engine())
    except SQLAlchemyError as error:
        last.remember(False)
        body = {"status": "unavailable"}
        if admin:
            body |= {"database": "unreachable",
                     "reason": str(error.orig if hasattr(error, "orig") else error).splitlines()[0]}
        return jsonify(body), 503
    last.remember(True)
    return jsonify({"status": "ok", **(versions if admin else {})})
