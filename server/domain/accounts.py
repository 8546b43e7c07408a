"""Accounts: password and username policy, sign-in with equal work and throttling, API tokens, browser sessions and
the account lifecycle. Every account event goes to the append-only security audit. No web framework here: callers
pass who acts (`Actor`) and own the transaction."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from server.domain.errors import ConflictError, DomainError, NotFoundError
from server.store import accounts as store
from server.store import ratelimit
from server.store.models import User

ROLE_ORDER = ("viewer", "officer", "gis", "admin")
TOKEN_PREFIX = "csp_"
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10^10 guesses
USERNAME_RULE = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
# Words anyone attacking this service would try first, on top of zxcvbn's dictionaries.
SERVICE_WORDS = ("csp", "atlas", "cspatlas", "maidstone", "safer", "partnership", "kent", "police")

SIGN_IN_WINDOW_SECONDS = 15 * 60
ACCOUNT_ATTEMPTS = 5  # failed sign-ins per account per window, from any address
ADDRESS_ATTEMPTS = 30  # failed sign-ins per client address per window, to any accounts
ACCOUNT_BUCKET, ADDRESS_BUCKET = "sign-in-account", "sign-in-address"
THROTTLE_AUDIT_BUCKET = "sign-in-throttle-audit"

# An unknown or inactive user's password is checked against this, so every failed sign-in costs one scrypt.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(24), method="scrypt")


class AccountError(DomainError, ValueError):
    """Refused input: a weak password, a bad username or role."""


class UnknownAccount(NotFoundError, AccountError):
    """No such user or token."""


class AccountConflict(ConflictError, AccountError):
    """The change would leave the service without an active admin."""


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit: a username, 'cli:<os user>', 'anonymous' or 'system'; and from where."""

    name: str
    address: str | None = None


SYSTEM = Actor("system")


# --- policy ---------------------------------------------------------------------------------------------------------


def check_username(username: str) -> str:
    if not USERNAME_RULE.fullmatch(username):
        raise AccountError("a username is 3-64 characters: lower-case letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return username


def check_password(password: str, username: str = "") -> None:
    """Refuse short and guessable passwords, saying why (zxcvbn's estimate; its first 72 characters are scored)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    verdict = zxcvbn(password[:72], user_inputs=[username, *SERVICE_WORDS])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict["feedback"]
        why = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise AccountError(f"this password is too easy to guess ({why or 'it follows a common pattern'}); "
                           "a passphrase of three or four unrelated words is easier to remember and harder to guess")


def check_role(role: str) -> str:
    if role not in ROLE_ORDER:
        raise AccountError(f"unknown role '{role}'; roles are {', '.join(ROLE_ORDER)}")
    return role


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def secret_hash(secret: str) -> str:
    """What is stored for a bearer token or a session cookie: its SHA-256 (they are random, so no salt is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


token_hash = secret_hash


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the hash that is stored instead of it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, secret_hash(token)


# --- sign-in --------------------------------------------------------------------------------------------------------


def _audit(db: Session, event: str, username: str, user_id: int | None, actor: Actor, **detail: Any) -> None:
    store.audit(db, event, username, user_id, actor.name, actor.address, detail)


def sign_in_wait(db: Session, username: str, address: str) -> int | None:
    """Count a sign-in attempt against the account and the client address before checking it, so parallel guesses
    are counted too; the seconds to wait when either is over its limit (and the refusal is audited)."""
    account_wait = ratelimit.hit(db, ACCOUNT_BUCKET, username, ACCOUNT_ATTEMPTS, SIGN_IN_WINDOW_SECONDS)
    address_wait = ratelimit.hit(db, ADDRESS_BUCKET, address, ADDRESS_ATTEMPTS, SIGN_IN_WINDOW_SECONDS)
    wait = max(account_wait or 0, address_wait or 0) or None
    # One audit entry per blocked account or address and window: a flood must not grow the append-only table.
    blocked = f"account:{username}" if account_wait else f"address:{address}"
    if wait and ratelimit.hit(db, THROTTLE_AUDIT_BUCKET, blocked, 1, SIGN_IN_WINDOW_SECONDS) is None:
        user = store.find_user(db, username)
        _audit(db, "sign-in-throttled", username, user.id if user else None, Actor("anonymous", address),
               retry_after=wait, blocked=blocked.split(":")[0])
    return wait


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with this password, else None, after the same work either way: one scrypt check."""
    user = store.find_user(db, username)
    usable = user is not None and user.active
    matches = password_matches(user.password_hash if usable else _DUMMY_HASH, password)
    return user if usable and matches else None


def sign_in(db: Session, username: str, password: str, actor: Actor, user_agent: str | None = None,
            replaces: str | None = None) -> tuple[User, str] | None:
    """Start a browser session: the user and the cookie's secret, or None (audited either way). A successful
    attempt is taken back from the throttling counts; the failures before it stay."""
    user = authenticate(db, username, password)
    if user is None:
        known = store.find_user(db, username)
        _audit(db, "sign-in-failed", username, known.id if known else None, Actor("anonymous", actor.address),
               reason="wrong password" if known and known.active else "unknown or inactive user")
        return None
    ratelimit.refund(db, ACCOUNT_BUCKET, username, SIGN_IN_WINDOW_SECONDS)
    ratelimit.refund(db, ADDRESS_BUCKET, actor.address or "", SIGN_IN_WINDOW_SECONDS)
    if replaces:
        store.revoke_session(db, secret_hash(replaces), "replaced")
    secret = secrets.token_urlsafe(32)
    session_id = store.create_session(db, user.id, secret_hash(secret), actor.address, user_agent)
    _audit(db, "sign-in", user.username, user.id, Actor(user.username, actor.address), session_id=session_id)
    return user, secret


def session_user(db: Session, secret: str, idle_hours: float, max_hours: float) -> User | None:
    return store.user_for_session(db, secret_hash(secret), idle_hours * 3600, max_hours * 3600)


def sign_out(db: Session, secret: str, address: str | None) -> None:
    user_id = store.revoke_session(db, secret_hash(secret), "sign-out")
    user = db.get(User, user_id) if user_id else None
    if user:
        _audit(db, "sign-out", user.username, user.id, Actor(user.username, address))


def user_for_token(db: Session, token: str) -> User | None:
    return store.user_for_token(db, secret_hash(token))


# --- account lifecycle ----------------------------------------------------------------------------------------------


def find_user(db: Session, username: str) -> User | None:
    return store.find_user(db, username)


def require_user(db: Session, username: str) -> User:
    user = store.find_user(db, username)
    if user is None:
        raise UnknownAccount(f"no user '{username}'")
    return user


def create_user(db: Session, username: str, password: str, role: str, actor: Actor = SYSTEM) -> User:
    check_username(username)
    check_role(role)
    check_password(password, username)
    if store.find_user(db, username):
        raise AccountError(f"user '{username}' exists already")
    user = store.insert_user(db, username, hash_password(password), role)
    _audit(db, "user-created", username, user.id, actor, role=role)
    return user


def set_password(db: Session, username: str, password: str, actor: Actor = SYSTEM) -> None:
    """A new password ends every browser session of the user (tokens stay: they are managed on their own)."""
    user = require_user(db, username)
    check_password(password, username)
    store.update_user(db, user, password_hash=hash_password(password))
    ended = store.revoke_user_sessions(db, user.id, "password-changed")
    _audit(db, "password-changed", username, user.id, actor, sessions_revoked=ended)


def _keep_an_admin(db: Session, user: User) -> None:
    if user.role == "admin" and user.active and store.lock_active_admins(db) == [user.id]:
        raise AccountConflict(f"'{user.username}' is the last active admin; make another admin first")


def set_role(db: Session, username: str, role: str, actor: Actor = SYSTEM) -> User:
    """Change a role; the user signs in again (every session ends)."""
    user = require_user(db, username)
    check_role(role)
    if role == user.role:
        return user
    if role != "admin":
        _keep_an_admin(db, user)
    before = user.role
    store.update_user(db, user, role=role)
    store.revoke_user_sessions(db, user.id, "role-changed")
    _audit(db, "role-changed", username, user.id, actor, **{"from": before, "to": role})
    return user


def set_active(db: Session, username: str, active: bool, actor: Actor = SYSTEM) -> User:
    """Deactivation ends every session and revokes every token, so reactivating brings none of them back."""
    user = require_user(db, username)
    if active == user.active:
        return user
    if not active:
        _keep_an_admin(db, user)
        sessions = store.revoke_user_sessions(db, user.id, "deactivated")
        tokens = store.revoke_user_tokens(db, user.id)
        store.update_user(db, user, active=False)
        _audit(db, "user-deactivated", username, user.id, actor, sessions_revoked=sessions, tokens_revoked=tokens)
    else:
        store.update_user(db, user, active=True)
        _audit(db, "user-activated", username, user.id, actor)
    return user


def revoke_sessions(db: Session, username: str, actor: Actor = SYSTEM) -> int:
    user = require_user(db, username)
    ended = store.revoke_user_sessions(db, user.id, "revoked")
    _audit(db, "sessions-revoked", username, user.id, actor, count=ended)
    return ended


def issue_token(db: Session, username: str, label: str = "", days: int = TOKEN_DAYS, actor: Actor = SYSTEM) -> str:
    """A new bearer token, valid for `days`; only its hash is kept, so this is the one time it is seen."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days")
    user = require_user(db, username)
    token, digest = new_token()
    token_id = store.insert_token(db, user.id, digest, label[:120], days)
    _audit(db, "token-issued", username, user.id, actor, token_id=token_id, label=label[:120], days=days)
    return token


def revoke_token(db: Session, token_id: int, actor: Actor = SYSTEM, username: str | None = None) -> dict[str, Any]:
    """Revoke a token (of `username`, when given); its description afterwards."""
    info = store.token_info(db, token_id)
    if info is None or (username is not None and info["username"] != username):
        raise UnknownAccount(f"no token {token_id}" + (f" of '{username}'" if username else ""))
    if store.revoke_token(db, token_id):
        owner = require_user(db, info["username"])
        _audit(db, "token-revoked", owner.username, owner.id, actor, token_id=token_id)
    return store.token_info(db, token_id)


def list_tokens(db: Session, username: str | None = None) -> list[dict[str, Any]]:
    return store.list_tokens(db, require_user(db, username).id if username else None)


def list_users(db: Session, idle_hours: float, max_hours: float) -> list[dict[str, Any]]:
    return store.list_users(db, idle_hours * 3600, max_hours * 3600)


def audit_entries(db: Session, **filters: Any) -> list[dict[str, Any]]:
    return store.audit_entries(db, **filters)
