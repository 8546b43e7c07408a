"""Sign-in for the browser (session cookie) and bearer API tokens; role checks for routes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request, session

from server.api import engine
from server.api.errors import ApiError
from server.domain.accounts import role_at_least
from server.store import accounts
from server.store.db import transaction
from server.store.models import User

bp = Blueprint("auth", __name__, url_prefix="/api/session")


def current_user() -> User | None:
    if "csp_user" not in g:
        g.csp_user = _resolve_user()
    return g.csp_user


def _resolve_user() -> User | None:
    header = request.headers.get("Authorization", "")
    with transaction(engine()) as db:
        if header.lower().startswith("bearer "):
            user = accounts.user_for_token(db, header[7:].strip())
            if user is None:
                raise ApiError(401, "the API token is unknown or revoked")
            return user
        user_id = session.get("user_id")
        return accounts.user_by_id(db, user_id) if user_id else None


def require_role(minimum: str) -> Callable:
    """401 when nobody is signed in, 403 when the role is below `minimum`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            user = current_user()
            if user is None:
                raise ApiError(401, "sign in or send 'Authorization: Bearer <token>'")
            if not role_at_least(user.role, minimum):
                raise ApiError(403, f"this needs the '{minimum}' role or higher; you are '{user.role}'")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _user_json(user: User | None) -> dict:
    return {"user": None} if user is None else {"user": {"username": user.username, "role": user.role}}


@bp.get("")
def who_am_i():
    return jsonify(_user_json(current_user()))


@bp.post("")
def sign_in():
    body = request.get_json(silent=True) or request.form
    username, password = body.get("username", ""), body.get("password", "")
    if not username or not password:
        raise ApiError(400, "send username and password")
    with transaction(engine()) as db:
        user = accounts.authenticate(db, username, password)
    if user is None:
        raise ApiError(401, "wrong username or password")
    session.clear()
    session["user_id"] = user.id
    return jsonify(_user_json(user))


@bp.delete("")
def sign_out():
    session.clear()
    return jsonify({"user": None})
