"""Least privilege in the database (SECURITY.md): the role the app connects as cannot erase or bypass the
append-only audit trail, change the schema or raise its own privileges, and no role connects without its password.

Every statement a test tries runs in a transaction that is rolled back, so a bypass that works leaves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, make_url

from server.cli import cli
from server.store.roles import APPEND_ONLY_TABLES

REFUSED_STATEMENTS = {
    "replication role skips triggers": "SET session_replication_role = replica",
    "local replication role": "SET LOCAL session_replication_role = replica",
    "disable the append-only trigger": "ALTER TABLE hotspot_audit DISABLE TRIGGER ALL",
    "disable one trigger": "ALTER TABLE hotspot_audit DISABLE TRIGGER hotspot_audit_append_only",
    "drop the audit log": "DROP TABLE hotspot_audit",
    "drop the trigger function": "DROP FUNCTION reject_append_only_change() CASCADE",
    "replace the trigger function": "CREATE OR REPLACE FUNCTION reject_append_only_change() RETURNS trigger "
                                    "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
    "create a table": "CREATE TABLE public.privilege_probe (id integer)",
    "create a schema": "CREATE SCHEMA privilege_probe",
    "become superuser": "ALTER ROLE CURRENT_USER SUPERUSER",
    "create a role": "CREATE ROLE privilege_probe SUPERUSER",
    "read server files": "SELECT pg_read_file('pg_hba.conf')",
    "run a server program": "COPY (SELECT 1) TO PROGRAM 'true'",
    "delete a patrol area (cascades into its history)": "DELETE FROM patrol_areas",
}
TAMPERING = {"update": "UPDATE {table} SET id = id", "delete": "DELETE FROM {table}",
             "truncate": "TRUNCATE {table}", "truncate cascade": "TRUNCATE {table} CASCADE"}
ALL_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def libpq(url: str, **changes: str | None) -> str:
    """The SQLAlchemy URL as a libpq connection string for psycopg; a part changed to None is left out."""
    parts = make_url(url)
    params = {"host": parts.host, "port": parts.port, "dbname": parts.database, "user": parts.username,
              "password": parts.password, **changes}
    return make_conninfo(**{key: value for key, value in params.items() if value is not None})


def role_of(url: str) -> str:
    return make_url(url).username


@pytest.fixture
def as_app(engine: Engine, database_url: str) -> Iterator[psycopg.Connection]:
    """A connection as the app role, as the app fixture connects."""
    with psycopg.connect(libpq(database_url)) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def as_owner(engine: Engine, owner_database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq(owner_database_url)) as connection:
        yield connection
        connection.rollback()


def refusal(connection: psycopg.Connection, sql: str) -> str:
    """The message of the privilege error that `sql` must raise; fails the test when it runs."""
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
            connection.execute(sql)
    finally:
        connection.rollback()
    return str(error.value)


def existing(connection: psycopg.Connection, table: str) -> str:
    if connection.execute("SELECT to_regclass(%s)", [f"public.{table}"]).fetchone()[0] is None:
        pytest.skip(f"{table} is not in this schema (yet)")
    return table


# --- what the app role may not do ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sql", REFUSED_STATEMENTS.values(), ids=REFUSED_STATEMENTS.keys())
def test_the_app_role_cannot_bypass_or_change_the_schema(as_app, sql):
    refusal(as_app, sql)


def test_the_app_role_cannot_switch_off_triggers_to_erase_the_audit_log(as_app):
    """The finding: as a superuser, `SET LOCAL session_replication_role = replica` skipped the append-only trigger."""
    before = as_app.execute("SELECT count(*) FROM hotspot_audit").fetchone()[0]
    refusal(as_app, "SET LOCAL session_replication_role = replica")
    assert "permission denied" in refusal(as_app, "DELETE FROM hotspot_audit")
    assert as_app.execute("SELECT count(*) FROM hotspot_audit").fetchone()[0] == before


@pytest.mark.parametrize("statement", TAMPERING.values(), ids=TAMPERING.keys())
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_append_only_tables_refuse_the_app_by_privilege_not_only_by_trigger(as_app, table, statement):
    message = refusal(as_app, statement.format(table=existing(as_app, table)))
    assert f"permission denied for table {table}" in message  # the trigger's message says "append-only"


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_append_only_tables_are_insert_and_select_only_for_the_app(as_app, table):
    existing(as_app, table)
    held = {privilege for privilege in ALL_TABLE_PRIVILEGES
            if as_app.execute("SELECT has_table_privilege(CURRENT_USER, %s, %s)", [table, privilege]).fetchone()[0]}
    assert held == {"SELECT", "INSERT"}


def test_the_app_role_is_no_superuser_and_belongs_to_no_role(as_app):
    attributes = as_app.execute("""
        SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
        FROM pg_roles WHERE rolname = CURRENT_USER""").fetchone()
    assert attributes == (False, False, False, False, False)
    memberships = as_app.execute("SELECT roleid::regrole::text FROM pg_auth_members "
                                 "WHERE member = CURRENT_USER::regrole").fetchall()
    assert memberships == []


def test_the_app_role_owns_nothing(as_app):
    owned = as_app.execute("""
        WITH me AS (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)
        SELECT 'relation ' || relname FROM pg_class, me WHERE relowner = me.oid AND relpersistence <> 't'
        UNION ALL SELECT 'function ' || proname FROM pg_proc, me WHERE proowner = me.oid
        UNION ALL SELECT 'schema ' || nspname FROM pg_namespace, me WHERE nspowner = me.oid
        UNION ALL SELECT 'database ' || datname FROM pg_database, me WHERE datdba = me.oid
        UNION ALL SELECT 'object ' || classid::regclass::text FROM pg_shdepend, me
                  WHERE deptype = 'o' AND refobjid = me.oid""").fetchall()
    assert owned == []


def test_the_app_role_reads_every_table_and_holds_no_table_powers_beyond_dml(as_app):
    rows = as_app.execute("""
        SELECT c.relname, has_table_privilege(CURRENT_USER, c.oid, 'SELECT'),
               has_table_privilege(CURRENT_USER, c.oid, 'TRUNCATE, REFERENCES, TRIGGER')
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')""").fetchall()
    assert len(rows) > 20
    assert [name for name, can_read, _ in rows if not can_read] == []
    assert [name for name, _, too_much in rows if too_much] == []


def test_the_app_role_cannot_change_the_migration_version(as_app):
    assert "permission denied" in refusal(as_app, "UPDATE alembic_version SET version_num = version_num")


def test_the_app_role_keeps_temporary_tables_for_imports(as_app):
    as_app.execute("CREATE TEMP TABLE staging_probe (id integer) ON COMMIT DROP")
    as_app.execute("INSERT INTO staging_probe VALUES (1)")
    assert as_app.execute("SELECT count(*) FROM staging_probe").fetchone()[0] == 1


# --- the owner and the grants ---------------------------------------------------------------------------------


def test_the_schema_owner_is_a_different_role_and_no_superuser(as_owner, database_url):
    name, superuser = as_owner.execute("SELECT rolname, rolsuper FROM pg_roles WHERE rolname = CURRENT_USER").fetchone()
    assert name != role_of(database_url)
    assert superuser is False


def test_the_owner_owns_every_table_outside_extensions(as_owner):
    others = as_owner.execute("""
        SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relowner <> CURRENT_USER::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')""").fetchall()
    assert others == []


def test_every_table_with_an_append_only_trigger_is_listed(as_owner):
    triggered = {row[0] for row in as_owner.execute(
        "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%\\_append\\_only'")}
    assert triggered and triggered <= set(APPEND_ONLY_TABLES)


def test_tables_created_later_get_the_app_grants_by_default(as_owner, database_url):
    as_owner.execute("CREATE TABLE default_grant_probe (id serial PRIMARY KEY)")
    app = role_of(database_url)
    granted = {privilege for privilege in ALL_TABLE_PRIVILEGES if as_owner.execute(
        "SELECT has_table_privilege(%s, 'default_grant_probe', %s)", [app, privilege]).fetchone()[0]}
    assert granted == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert as_owner.execute("SELECT has_sequence_privilege(%s, 'default_grant_probe_id_seq', 'USAGE')",
                            [app]).fetchone()[0]


def test_db_upgrade_with_one_url_warns_and_leaves_grants_alone(engine, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", make_url(database_url).render_as_string(hide_password=False))
    monkeypatch.delenv("CSP_ATLAS_OWNER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "CSP_ATLAS_OWNER_DATABASE_URL is not set" in result.output
    with psycopg.connect(libpq(database_url)) as connection:
        assert connection.execute("SELECT has_table_privilege(CURRENT_USER, 'hotspot_audit', 'INSERT'), "
                                  "has_table_privilege(CURRENT_USER, 'hotspot_audit', 'DELETE')").fetchone() \
            == (True, False)


# --- passwords --------------------------------------------------------------------------------------------------


@pytest.fixture
def no_saved_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")


@pytest.mark.parametrize("password", [None, "wrong-password"], ids=["no password", "wrong password"])
@pytest.mark.parametrize("which", ["database_url", "owner_database_url"])
def test_no_role_connects_without_its_password(request, engine, no_saved_passwords, which, password):
    url = request.getfixturevalue(which)
    with pytest.raises(psycopg.OperationalError) as error:
        psycopg.connect(libpq(url, password=password), connect_timeout=5).close()
    assert "password" in str(error.value)
