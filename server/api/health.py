"""GET /api/health: is the service and its database usable. Anyone learns ok or not; admins also get the details.

The database is asked at most once per HEALTH_CHECK_SECONDS per process for anonymous checks: a load balancer probing
every few hundred milliseconds, or many at once, then costs no queries, and its answer is never older than that."""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from server.api import engine
from server.api.auth import current_user
from server.domain.accounts import role_at_least
from server.store import meta

bp = Blueprint("health", __name__, url_prefix="/api")
HEALTH_CHECK_SECONDS = 1.0



class LastCheck:
    """This app's last answer from the database, and when it came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = float("-inf")
        self.healthy = False

    def recent(self) -> bool:
        with self.lock:
            return self.healthy and time.monotonic() - self.at < HEALTH_CHECK_SECONDS

    def remember(self, healthy: bool) -> None:
        with self.lock:
            self.at, self.healthy = time.monotonic(), healthy


def _last_check() -> LastCheck:
    return current_app.extensions.setdefault("csp_health_check", LastCheck())


def _is_admin() -> bool:
    try:
        user = current_user()
    except Exception:  # a bad token or an unreachable database must not turn a health check into an error
        return False
    return user is not None and role_at_least(user.role, "admin")


@bp.get("/health")
def health():
    admin = _is_admin()
    last = _last_check()
    if not admin and last.recent():
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
