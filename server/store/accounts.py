"""SQL for users, API tokens, browser sessions and the security audit. Policy (hashing, validation) is the domain's:
this module only stores what it is given."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.store import pages
from server.store.models import User, UserSession

# --- users ----------------------------------------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: int) -> User | None:
    user = session.get(User, user_id)
    return user if user and user.active else None


def insert_user(session: Session, username: str, password_hash: str, role: str) -> User:
    user = User(username=username, password_hash=password_hash, role=role)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, **values: Any) -> None:
    for column, value in values.items():
        setattr(user, column, value)
    session.flush()


def lock_active_admins(session: Session) -> list[int]:
    """The ids of the active admins, locked until commit, so two admins cannot demote each other at once."""
    return list(session.scalars(text("SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id FOR UPDATE")))


_USERS_SQL = text("""
    SELECT u.id, u.username, u.role, u.team, u.active, u.created_at,
           (SELECT count(*) FROM user_sessions s
             WHERE s.user_id = u.id AND s.revoked_at IS NULL
               AND s.created_at > now() - make_interval(secs => :max_seconds)
               AND s.last_seen_at > now() - make_interval(secs => :idle_seconds)) AS sessions,
           (SELECT max(s.created_at) FROM user_sessions s WHERE s.user_id = u.id) AS last_sign_in_at,
           (SELECT count(*) FROM api_tokens t
             WHERE t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > now()) AS tokens
    FROM users u ORDER BY u.username""")


def list_users(session: Session, idle_seconds: float, max_seconds: float) -> list[dict[str, Any]]:
    """Every user with their live sessions, last sign-in and usable tokens."""
    rows = session.execute(_USERS_SQL, {"idle_seconds": idle_seconds, "max_seconds": max_seconds}).mappings()
    return [dict(row) for row in rows]


# --- API tokens -----------------------------------------------------------------------------------------------------

_TOKEN_COLUMNS = """t.id, u.username, t.label, t.created_at, t.last_used_at, t.expires_at, t.revoked_at,
    CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked' WHEN t.expires_at <= now() THEN 'expired'
         ELSE 'active' END AS status"""


def insert_token(session: Session, user_id: int, token_hash: str, label: str, days: int) -> int:
    return session.execute(text("""
        INSERT INTO api_tokens (user_id, token_hash, label, expires_at)
        VALUES (:u, :h, :label, now() + make_interval(days => :days)) RETURNING id"""),
        {"u": user_id, "h": token_hash, "label": label, "days": days}).scalar_one()


def token_info(session: Session, token_id: int) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id "
                               "WHERE t.id = :id"), {"id": token_id}).mappings().first()
    return dict(row) if row else None


def list_tokens(session: Session, user_id: int | None = None) -> list[dict[str, Any]]:
    where = "TRUE" if user_id is None else "t.user_id = :user_id"
    rows = session.execute(text(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                f"WHERE {where} ORDER BY t.id"), {"user_id": user_id}).mappings()
    return [dict(row) for row in rows]


def revoke_token(session: Session, token_id: int) -> bool:
    result = session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL"),
                             {"id": token_id})
    return result.rowcount > 0


def revoke_user_tokens(session: Session, user_id: int) -> int:
    return session.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"),
                           {"u": user_id}).rowcount


_TOKEN_USER_SQL = text("""
    UPDATE api_tokens SET last_used_at = now()
    WHERE token_hash = :h AND revoked_at IS NULL AND expires_at > now()
    RETURNING user_id""")


def user_for_token(session: Session, token_hash: str) -> User | None:
    row = session.execute(_TOKEN_USER_SQL, {"h": token_hash}).first()
    return user_by_id(session, row[0]) if row else None


# --- browser sessions -----------------------------------------------------------------------------------------------

# Used sessions move their last_seen_at on; idle and absolute limits are the settings of the moment, so shortening
# them takes effect at once for sessions already open.
_SESSION_USER_SQL = text("""
    UPDATE user_sessions s SET last_seen_at = now()
    FROM users u
    WHERE s.secret_hash = :h AND s.revoked_at IS NULL AND u.id = s.user_id AND u.active
      AND s.created_at > now() - make_interval(secs => :max_seconds)
      AND s.last_seen_at > now() - make_interval(secs => :idle_seconds)
    RETURNING s.user_id""")
# Dead sessions are kept a while for investigations, then forgotten (the security audit keeps the events).
_PURGE_SESSIONS_SQL = text("DELETE FROM user_sessions WHERE created_at < now() - interval '30 days'")


def create_session(session: Session, user_id: int, secret_hash: str, client_address: str | None,
                   user_agent: str | None) -> int:
    session.execute(_PURGE_SESSIONS_SQL)
    row = UserSession(user_id=user_id, secret_hash=secret_hash, client_address=(client_address or "")[:64] or None,
                      user_agent=(user_agent or "")[:200] or None)
    session.add(row)
    session.flush()
    return row.id


def user_for_session(session: Session, secret_hash: str, idle_seconds: float, max_seconds: float) -> User | None:
    row = session.execute(_SESSION_USER_SQL, {"h": secret_hash, "idle_seconds": idle_seconds,
                                              "max_seconds": max_seconds}).first()
    return session.get(User, row[0]) if row else None


def revoke_session(session: Session, secret_hash: str, reason: str) -> int | None:
    """Revoke one session; the user id it belonged to, or None when it was unknown or already over."""
    row = session.execute(text("""
        UPDATE user_sessions SET revoked_at = now(), revoked_reason = :reason
        WHERE secret_hash = :h AND revoked_at IS NULL RETURNING user_id"""),
        {"h": secret_hash, "reason": reason}).first()
    return row[0] if row else None


def revoke_user_sessions(session: Session, user_id: int, reason: str) -> int:
    return session.execute(text("""
        UPDATE user_sessions SET revoked_at = now(), revoked_reason = :reason
        WHERE user_id = :u AND revoked_at IS NULL"""), {"u": user_id, "reason": reason}).rowcount


# --- security audit (append-only) -----------------------------------------------------------------------------------


def audit(session: Session, event: str, username: str, user_id: int | None, actor: str, client_address: str | None,
          detail: dict[str, Any] | None = None) -> None:
    session.execute(text("""
        INSERT INTO security_audit (event, username, user_id, actor, client_address, detail)
        VALUES (:event, :username, :user_id, :actor, :address, CAST(:detail AS jsonb))"""),
        {"event": event, "username": username[:80], "user_id": user_id, "actor": actor[:120],
         "address": (client_address or "")[:64] or None, "detail": json.dumps(detail or {}, default=str)})


def audit_entries(session: Session, *, username: str | None = None, event: str | None = None,
                  before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    return pages.newest_first(session, "security_audit",
                              "id, at, event, username, actor, client_address, detail",
                              {"username": username, "event": event}, before_id, limit)
