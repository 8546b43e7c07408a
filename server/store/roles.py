"""Database roles: the owner runs the migrations, the app connects with only the DML it needs (SECURITY.md).

`scripts/atlas db upgrade` applies the app's grants after the migrations, as the owner, so no migration repeats
them: every table and sequence the owner owns gets exact grants each time, tables created later get DML through
the owner's default privileges until then, and an append-only table only has to be named in APPEND_ONLY_TABLES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

# Audit trails: the app may add and read rows, never change or remove them. The one list of them; the tests check
# that every table with an append-only trigger (migrations 0004, 0007) is here.
APPEND_ONLY_TABLES = ("hotspot_audit", "hotspot_point_history", "patrol_area_history", "security_audit")
# Written only by migrations; the app reads the schema revision for /api/health.
READ_ONLY_TABLES = ("alembic_version",)
APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
READ_ONLY_PRIVILEGES = "SELECT"
APP_SEQUENCE_PRIVILEGES = "USAGE, SELECT"  # nextval for inserts; not UPDATE, which allows setval
REQUIRED_EXTENSIONS = ("postgis",)

_ROLE_SQL = text("""
    SELECT rolsuper, rolname = CURRENT_USER AS is_current,
           pg_has_role(rolname, CURRENT_USER, 'MEMBER') AS acts_as_owner
    FROM pg_roles WHERE rolname = :role""")

_OWNS_PUBLIC_SCHEMA_SQL = text(
    "SELECT pg_has_role(CURRENT_USER, nspowner, 'MEMBER') FROM pg_namespace WHERE nspname = 'public'")

# Relations of schema public the connected role owns; extension members (PostGIS's) are the superuser's.
_OWNED_SQL = text("""
    SELECT c.relname, c.relkind = 'S' AS is_sequence FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
    ORDER BY c.relname""")

# Foreign-key actions run as the owner of the referencing table, so deleting (or re-keying) a parent row whose
# foreign key cascades or sets null would change an audit trail behind the app's back: the app may not do that.
_CASCADING_PARENTS_SQL = text("""
    SELECT DISTINCT p.relname, action FROM pg_constraint k
    JOIN pg_class t ON t.oid = k.conrelid
    JOIN pg_class p ON p.oid = k.confrelid
    CROSS JOIN LATERAL (VALUES ('DELETE', k.confdeltype), ('UPDATE', k.confupdtype)) AS a(action, kind)
    WHERE k.contype = 'f' AND t.relnamespace = 'public'::regnamespace AND t.relname = ANY(:tables)
      AND a.kind IN ('c', 'n', 'd')
    ORDER BY 1, 2""")

_EXTENSIONS_SQL = text("SELECT extname FROM pg_extension WHERE extname = ANY(:names)")
_IS_SUPERUSER_SQL = text("SELECT rolsuper FROM pg_roles WHERE rolname = CURRENT_USER")


class RoleSetupError(RuntimeError):
    """The database is not set up as the roles need (README, "Database roles")."""


@dataclass(frozen=True)
class GrantReport:
    app_role: str
    tables: int
    sequences: int
    append_only: tuple[str, ...]
    undeletable: tuple[str, ...]  # parents the app may not delete from (or re-key): they cascade into an audit trail


def missing_extensions(connection: Connection) -> list[str]:
    """Extensions the migrations need that are not installed, when the connected role cannot create them."""
    present = set(connection.execute(_EXTENSIONS_SQL, {"names": list(REQUIRED_EXTENSIONS)}).scalars())
    if connection.execute(_IS_SUPERUSER_SQL).scalar_one():
        return []
    return [name for name in REQUIRED_EXTENSIONS if name not in present]


def grant_app_privileges(connection: Connection, app_role: str, log: Callable[[str], None]) -> GrantReport | None:
    """Give `app_role` exactly the privileges the app needs on what the connected role (the owner) owns.

    Returns None, with a warning, when the app connects as the owner itself: there is nobody to grant to.
    """
    row = connection.execute(_ROLE_SQL, {"role": app_role}).one_or_none()
    if row is None:
        raise RoleSetupError(f"the app's role {app_role!r} (DATABASE_URL) does not exist in this database")
    if row.is_current or row.acts_as_owner:
        log(f"warning: the app connects as {app_role}, which owns the schema: it can alter or erase the audit "
            "tables. Give it a role of its own (README, \"Database roles\").")
        return None
    if row.rolsuper:
        log(f"warning: the app's role {app_role} is a superuser, which no grant can restrict")
    role = _quote(connection, app_role)
    _protect_public_schema(connection, role)
    owned = connection.execute(_OWNED_SQL).all()
    tables = [name for name, is_sequence in owned if not is_sequence]
    sequences = [name for name, is_sequence in owned if is_sequence]
    for name in tables:
        _grant(connection, "TABLE", name, _table_privileges(name), role)
    for name in sequences:
        _grant(connection, "SEQUENCE", name, APP_SEQUENCE_PRIVILEGES, role)
    undeletable = _forbid_cascades_into_audit_trails(connection, role)
    _grant_on_future_objects(connection, role)
    append_only = tuple(name for name in APPEND_ONLY_TABLES if name in tables)
    return GrantReport(app_role, len(tables), len(sequences), append_only, undeletable)


def _table_privileges(name: str) -> str:
    if name in APPEND_ONLY_TABLES:
        return APPEND_ONLY_PRIVILEGES
    if name in READ_ONLY_TABLES:
        return READ_ONLY_PRIVILEGES
    return APP_TABLE_PRIVILEGES


def _grant(connection: Connection, kind: str, name: str, privileges: str, role: str) -> None:
    """Exactly `privileges`: whatever was granted before (by hand, or by default privileges) is revoked first."""
    target = f"{kind} public.{_quote(connection, name)}"
    connection.execute(text(f"REVOKE ALL ON {target} FROM {role}"))
    connection.execute(text(f"GRANT {privileges} ON {target} TO {role}"))


def _protect_public_schema(connection: Connection, role: str) -> None:
    """Nobody but the owner creates objects in public (PostgreSQL 15's default; older databases granted it to all)."""
    if not connection.execute(_OWNS_PUBLIC_SCHEMA_SQL).scalar():
        return  # a DBA owns the schema and decides; the tests check that the app cannot create there
    connection.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    connection.execute(text(f"REVOKE CREATE ON SCHEMA public FROM {role}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))


def _forbid_cascades_into_audit_trails(connection: Connection, role: str) -> tuple[str, ...]:
    parents = connection.execute(_CASCADING_PARENTS_SQL, {"tables": list(APPEND_ONLY_TABLES)}).all()
    for table, action in parents:
        connection.execute(text(f"REVOKE {action} ON TABLE public.{_quote(connection, table)} FROM {role}"))
    return tuple(sorted({table for table, _action in parents}))


def _grant_on_future_objects(connection: Connection, role: str) -> None:
    """Tables a later migration creates are usable by the app before the next grant run names them."""
    defaults = "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
    connection.execute(text(f"{defaults} GRANT {APP_TABLE_PRIVILEGES} ON TABLES TO {role}"))
    connection.execute(text(f"{defaults} GRANT {APP_SEQUENCE_PRIVILEGES} ON SEQUENCES TO {role}"))


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)
