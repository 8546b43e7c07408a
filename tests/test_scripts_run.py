"""scripts/run, as a newcomer uses it: starts its own PostGIS, serves a healthy API, stops on Ctrl-C; and a private
cluster from before passwords (trust, one superuser) is switched to passwords and least-privilege roles."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from server.config import ROOT

START_TIMEOUT_S = 300
APP_ROLE, OWNER_ROLE, SUPERUSER = "atlas_app", "atlas_owner", "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def script_env(var_dir: Path, pg_port: int, **extra: str) -> dict[str, str]:
    """The environment of a newcomer's shell: no database URLs or passwords, this test's var/ and port."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CSP_ATLAS_OWNER_DATABASE_URL", "PGPASSWORD")}
    return {**env, "CSP_ATLAS_VAR": str(var_dir), "PGPORT": str(pg_port), **extra}


def start(var_dir: Path, port: int, pg_port: int) -> subprocess.Popen:
    env = script_env(var_dir, pg_port, PORT=str(port), WORKERS="1")
    return subprocess.Popen([str(ROOT / "scripts" / "run")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def password(var_dir: Path, role: str) -> str:
    return (var_dir / "db-passwords" / role).read_text().strip()


def connect(pg_port: int, role: str, secret: str | None, dbname: str = "atlas") -> psycopg.Connection:
    params = {"host": "127.0.0.1", "port": pg_port, "dbname": dbname, "user": role, "connect_timeout": 5}
    return psycopg.connect(**params, **({"password": secret} if secret is not None else {}))


def refuses_without_password(pg_port: int, role: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    try:
        connect(pg_port, role, None).close()
    except psycopg.OperationalError as error:
        return "password" in str(error)
    return False


def roles_serving_the_app(var_dir: Path, pg_port: int) -> set[str]:
    """The roles of the other sessions on database atlas: the server's pool, kept open after /api/health."""
    with connect(pg_port, SUPERUSER, password(var_dir, SUPERUSER)) as connection:
        return {row[0] for row in connection.execute(
            "SELECT usename FROM pg_stat_activity WHERE datname = 'atlas' AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'")}


def bash(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `script` with scripts/lib/common.sh sourced (its helpers run the cluster as 'postgres' under root)."""
    done = subprocess.run(["bash", "-euc", f"source scripts/lib/common.sh\n{script}", "bash", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def cluster_dir(var_dir: Path) -> Path:
    """Where scripts/run keeps var/pgdata: there, or under /var/tmp when the postgres account cannot reach it."""
    return Path(bash('usable_data_dir "$1"', str(var_dir / "pgdata")).stdout.strip())


def wait_healthy(process: subprocess.Popen, port: int) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"scripts/run exited early:\n{process.stdout.read()}")
        try:
            return get_json(f"http://127.0.0.1:{port}/api/health")
        except OSError:
            time.sleep(0.5)
    pytest.fail("scripts/run did not become healthy")


def interrupt(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    output, _ = process.communicate(timeout=60)
    return output


@pytest.fixture
def var_dir(tmp_path: Path) -> Iterator[Path]:
    """A var/ of its own; the cluster's folder goes too when it had to live under /var/tmp (run as root)."""
    var = tmp_path / "var"
    var.mkdir()
    tmp_path.chmod(0o755)
    yield var
    data = cluster_dir(var)
    if not data.is_relative_to(tmp_path) and not (data / "postmaster.pid").exists():
        shutil.rmtree(data, ignore_errors=True)
        Path(f"{data}.log").unlink(missing_ok=True)


def test_run_serves_a_healthy_map_and_stops_everything_on_ctrl_c(var_dir):
    port, pg_port = free_port(), free_port()

    first = start(var_dir, port, pg_port)
    try:
        health = wait_healthy(first, port)
        assert health == {"status": "ok"}
        assert roles_serving_the_app(var_dir, pg_port) == {APP_ROLE}
        sets = get_json(f"http://127.0.0.1:{port}/api/boundary-sets")["boundary_sets"]
        assert {s["id"]: s["feature_count"] for s in sets} == {"wards-2013": 26, "wards-2024": 22, "lsoa-2011": 95}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert b"leaflet" in page.read()
    finally:
        output = interrupt(first)
    assert "loaded 26 areas" in output
    assert not (cluster_dir(var_dir) / "postmaster.pid").exists(), "the PostgreSQL cluster was left running"
    secrets = var_dir / "db-passwords"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    assert {f.name: oct(f.stat().st_mode & 0o777) for f in secrets.iterdir()} == \
        {role: "0o600" for role in (APP_ROLE, OWNER_ROLE, SUPERUSER)}
    assert "trust" not in (cluster_dir(var_dir) / "pg_hba.conf").read_text()

    second = start(var_dir, port, pg_port)
    try:
        wait_healthy(second, port)
        sets = get_json(f"http://127.0.0.1:{port}/api/boundary-sets")["boundary_sets"]
        assert len(sets) == 3
    finally:
        output = interrupt(second)
    assert "wards-2013: up to date" in output and "loaded" not in output


# --- a cluster made by scripts/run before passwords ----------------------------------------------------------------

LEGACY_CLUSTER = """
data=$(usable_data_dir "$1"); bindir=$(pg_bindir)
as_pg_user "$bindir/initdb" -D "$data" -U atlas --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg_user "$bindir/pg_ctl" -D "$data" -l "$data.log" -w -o "-p $2 -c listen_addresses=127.0.0.1 -k $data" start
as_pg_user "$bindir/createdb" -h 127.0.0.1 -p "$2" -U atlas atlas
"""


def migrate_as(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def test_a_cluster_from_before_passwords_gets_passwords_and_roles(var_dir, monkeypatch):
    pg_port = free_port()
    bash(LEGACY_CLUSTER, str(var_dir / "pgdata"), str(pg_port))
    try:
        migrate_as(f"postgresql://atlas@127.0.0.1:{pg_port}/atlas")  # as scripts/run did: superuser 'atlas', trust

        output = bash("exec scripts/atlas db upgrade", env=script_env(var_dir, pg_port))
        assert "switching it to passwords" in output.stderr and "database schema is up to date" in output.stdout
        again = bash("exec scripts/atlas db upgrade", env=script_env(var_dir, pg_port))
        assert "switching" not in again.stderr

        assert "trust" not in (cluster_dir(var_dir) / "pg_hba.conf").read_text()
        for role in ("atlas", SUPERUSER, OWNER_ROLE, APP_ROLE):
            assert refuses_without_password(pg_port, role, monkeypatch), role
        with connect(pg_port, OWNER_ROLE, password(var_dir, OWNER_ROLE)) as owner:
            others = owner.execute("""
                SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')
                  AND c.relowner <> CURRENT_USER::regrole
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype = 'e')""").fetchall()
            assert others == []
        with connect(pg_port, APP_ROLE, password(var_dir, APP_ROLE)) as app:
            assert app.execute("SELECT has_table_privilege('hotspot_audit', 'INSERT'), "
                               "has_table_privilege('hotspot_audit', 'DELETE')").fetchone() == (True, False)
    finally:
        bash('stop_cluster "$1"', str(cluster_dir(var_dir)))
