"""Passwords, roles and API tokens (no web framework here)."""

from __future__ import annotations

import hashlib
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

ROLE_ORDER = ("viewer", "officer", "gis", "admin")
TOKEN_PREFIX = "csp_"
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def validate_role(role: str) -> str:
    if role not in ROLE_ORDER:
        raise AccountError(f"unknown role '{role}'; roles are {', '.join(ROLE_ORDER)}")
    return role


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the hash that is stored instead of it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
