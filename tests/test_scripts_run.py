"""scripts/run, as a newcomer uses it: starts its own PostGIS, serves a healthy API, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from server.config import ROOT

START_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def start(var_dir: Path, port: int, pg_port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CSP_ATLAS_VAR=str(var_dir), PORT=str(port), PGPORT=str(pg_port), WORKERS="1")
    return subprocess.Popen([str(ROOT / "scripts" / "run")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


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


def test_run_serves_a_healthy_map_and_stops_everything_on_ctrl_c(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    tmp_path.chmod(0o755)
    port, pg_port = free_port(), free_port()

    first = start(var_dir, port, pg_port)
    try:
        health = wait_healthy(first, port)
        assert health["status"] == "ok" and health["postgis"]
        sets = get_json(f"http://127.0.0.1:{port}/api/boundary-sets")["boundary_sets"]
        assert {s["id"]: s["feature_count"] for s in sets} == {"wards-2013": 26, "wards-2024": 22, "lsoa-2011": 95}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert b"leaflet" in page.read()
    finally:
        output = interrupt(first)
    assert "loaded 26 areas" in output
    assert not (var_dir / "pgdata" / "postmaster.pid").exists(), "the PostgreSQL cluster was left running"

    second = start(var_dir, port, pg_port)
    try:
        wait_healthy(second, port)
        sets = get_json(f"http://127.0.0.1:{port}/api/boundary-sets")["boundary_sets"]
        assert len(sets) == 3
    finally:
        output = interrupt(second)
    assert "wards-2013: up to date" in output and "loaded" not in output
