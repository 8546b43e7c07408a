"""SQL for users and API tokens."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.domain import accounts
from server.store.models import ApiToken, User


def create_user(session: Session, username: str, password: str, role: str) -> User:
    accounts.validate_role(role)
    if session.scalar(select(User).where(User.username == username)):
        raise accounts.AccountError(f"user '{username}' exists already")
    user = User(username=username, password_hash=accounts.hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    user = find_user(session, username)
    if user is None:
        raise accounts.AccountError(f"no user '{username}'")
    user.password_hash = accounts.hash_password(password)


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = find_user(session, username)
    if user and user.active and accounts.password_matches(user.password_hash, password):
        return user
    return None


def issue_token(session: Session, username: str, label: str = "") -> str:
    user = find_user(session, username)
    if user is None:
        raise accounts.AccountError(f"no user '{username}'")
    token, digest = accounts.new_token()
    session.add(ApiToken(user_id=user.id, token_hash=digest, label=label))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.execute(
        text("UPDATE api_tokens SET last_used_at = now() WHERE token_hash = :h AND revoked_at IS NULL "
             "RETURNING user_id"), {"h": accounts.token_hash(token)}).first()
    if row is None:
        return None
    user = session.get(User, row[0])
    return user if user and user.active else None


def user_by_id(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user and user.active else None
