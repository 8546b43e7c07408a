"""Sign-in for the browser (a server-side session named by a cookie) and bearer API tokens; role checks for routes;
same-origin checks for cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, jsonify, request
from marshmallow import fields, validate

from server.api import engine, settings
from server.api.contract import Blueprint, Body, json_only, responds, text
from server.api.errors import ApiError
from server.domain import accounts
from server.domain.accounts import Actor, role_at_least
from server.jobs import JOB_USER_ENVIRON
from server.store import scope
from server.store.db import transaction
from server.store.models import User

bp = Blueprint("auth", __name__, url_prefix="/api/session", description="Sign-in and roles")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_USERNAME_LENGTH = 80
WRONG_CREDENTIALS = "wrong username or password"  # the same whether the user exists, is inactive or mistyped


def cookie_name() -> str:
    # __Host- makes the browser refuse the cookie unless it is Secure, for the whole host, from this host itself.
    # Each partnership prefix has its own cookie, so signing in to one never signs anybody out of another.
    name = "__Host-session" if settings().https else "session"
    slug = scope.current()
    return f"{name}-{slug}" if slug else name


def client_address() -> str:
    """The caller's address; behind CSP_ATLAS_TRUSTED_PROXIES proxies, ProxyFix has already put the real one here."""
    return request.remote_addr or "unknown"


def actor(name: str) -> Actor:
    return Actor(name, client_address())


def current_user() -> User | None:
    if "csp_user" not in g:
        g.csp_user = _resolve_user()
    return g.csp_user


def _resolve_user() -> User | None:
    if JOB_USER_ENVIRON in request.environ:  # a queued request replayed by a job worker, as the user who asked
        with transaction(engine()) as db:
            user = accounts.find_user(db, request.environ[JOB_USER_ENVIRON])
        return user if user is not None and user.active else None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        with transaction(engine()) as db:
            user = accounts.user_for_token(db, header[7:].strip())
        if user is None:
            raise ApiError(401, "the API token is unknown, revoked or expired")
        return user
    secret = request.cookies.get(cookie_name())
    if not secret:
        return None
    if request.method in UNSAFE_METHODS:
        require_same_origin()
    with transaction(engine()) as db:
        return accounts.session_user(db, secret, settings().session_idle_hours, settings().session_max_hours)


# --- same origin: a cookie travels with any request the browser sends, a page of ours is the only one that may write --


def _own_origin() -> str:
    scheme = "https" if settings().https else request.scheme
    return f"{scheme}://{request.host}".lower()


def cross_origin_reason() -> str | None:
    """Why this request may not come from one of our own pages, or None. Browsers send Sec-Fetch-Site and Origin
    with every POST, PUT, PATCH and DELETE; a request with neither did not come from a page of ours."""
    fetch_site, origin = request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin")
    if fetch_site is None and origin is None:
        return "it has neither an Origin nor a Sec-Fetch-Site header"
    if fetch_site is not None and fetch_site != "same-origin":
        return f"Sec-Fetch-Site is '{fetch_site}'"
    if origin is not None and origin.lower() != _own_origin():
        return f"its Origin '{origin}' is not {_own_origin()}"
    return None


def require_same_origin() -> None:
    reason = cross_origin_reason()
    if reason:
        raise ApiError(403, f"refused: with a session cookie, changes are accepted only from this site's own origin "
                            f"({reason}); scripts send 'Authorization: Bearer <token>' instead")


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

        wrapped.csp_role = minimum  # the OpenAPI document adds 401, 403 and the security schemes
        return wrapped

    return decorator


# --- the routes -------------------------------------------------------------------------------------------------------


def _user_json(user: User | None) -> dict:
    return {"user": None} if user is None else {"user": {"username": user.username, "role": user.role}}


def _set_session_cookie(response: Response, secret: str) -> None:
    response.set_cookie(cookie_name(), secret, max_age=int(settings().session_max_hours * 3600), path="/",
                        secure=settings().https, httponly=True, samesite="Strict")


def _forget_session_cookie(response: Response) -> None:
    response.delete_cookie(cookie_name(), path="/", secure=settings().https, httponly=True, samesite="Strict")


USER = "the signed-in user, or null"


@bp.get("")
@responds(bp, 200, USER, schema="Session")
def who_am_i():
    """The signed-in user, or null"""
    user = current_user()
    response = jsonify(_user_json(user))
    if user is None and request.cookies.get(cookie_name()):
        _forget_session_cookie(response)  # expired or revoked
    return response


class Credentials(Body):
    username = text("", required=True, min_length=1, max_length=MAX_USERNAME_LENGTH)
    password = fields.String(required=True, load_only=True, validate=validate.Length(
        1, accounts.MAX_PASSWORD_LENGTH, error="must have 1 to {max} characters"),
        error_messages={"invalid": "must be text", "required": "is required"})


def _same_origin_if_browser(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if request.headers.get("Origin") or request.headers.get("Sec-Fetch-Site"):
            require_same_origin()  # a browser on another site (non-browser clients send neither header)
        return view(*args, **kwargs)

    wrapped.csp_errors = (*getattr(view, "csp_errors", ()), 403)
    return wrapped


@bp.post("")
@responds(bp, 200, "signed in", schema="Session", errors=(401, 429))
@_same_origin_if_browser
@json_only
@bp.arguments(Credentials, location="json")
def sign_in(credentials: dict):
    """Sign in: sets a session cookie (HttpOnly, SameSite=Strict; over HTTPS Secure and named __Host-session)

    JSON only. Failed attempts are throttled per account (5) and per client address (30) in 15 minutes; a session
    ends after 8 idle hours or 24 hours. With the cookie, POST/PUT/PATCH/DELETE are accepted only from this site's
    own origin."""
    username, password = credentials["username"], credentials["password"]
    address = client_address()
    with transaction(engine()) as db:  # committed before the check, so parallel guesses are all counted
        wait = accounts.sign_in_wait(db, username, address)
    if wait:
        raise ApiError(429, f"too many failed sign-ins; try again in {wait} seconds", retry_after=wait)
    with transaction(engine()) as db:  # a failure returns normally: its audit entry is committed
        signed_in = accounts.sign_in(db, username, password, actor(username), request.user_agent.string,
                                     replaces=request.cookies.get(cookie_name()))
    if signed_in is None:
        raise ApiError(401, WRONG_CREDENTIALS)
    user, secret = signed_in
    response = jsonify(_user_json(user))
    _set_session_cookie(response, secret)
    return response


@bp.delete("")
@responds(bp, 200, "signed out: the session ends on the server too", schema="Session", errors=(403,))
def sign_out():
    """Sign out"""
    secret = request.cookies.get(cookie_name())
    response = jsonify({"user": None})
    if secret:
        require_same_origin()
        with transaction(engine()) as db:
            accounts.sign_out(db, secret, client_address())
        _forget_session_cookie(response)
    return response
