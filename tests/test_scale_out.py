"""Scale-out on loopback: two app processes and one job worker against one PostgreSQL. A session made on one process
is valid on the other, caches stay coherent when the data change, and a queued job runs exactly once."""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from server.config import ROOT
from server.store.db import transaction
from tests.conftest import PASSWORD, UNLIMITED_RATES

LAYER = "/api/layers/wards-2013?metric=vehicle-crime&period=2022-03&k=3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    """One gunicorn app process (one gthread worker) on loopback."""
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--worker-class", "gthread", "--threads", "4", "server:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_up(base: str) -> None:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/health", timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)


@pytest.fixture(scope="module")
def processes(database_url: str, engine) -> Iterator[list[str]]:
    """Two gunicorn app processes (one worker each, so each is one process) and a job worker."""
    env = {**os.environ, "DATABASE_URL": database_url, "CSP_ATLAS_SECRET_KEY": "scale-out-test",
           "CSP_ATLAS_JOBS": "queue", "CSP_ATLAS_RATE_LIMITS": UNLIMITED_RATES}
    env.pop("CSP_ATLAS_OWNER_DATABASE_URL", None)
    ports = [free_port(), free_port()]
    started = [gunicorn(port, env) for port in ports]
    started.append(subprocess.Popen([sys.executable, "-m", "server.cli", "jobs", "worker"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            wait_until_up(base)
        yield bases
    finally:
        for process in started:
            process.terminate()
            process.wait(30)


def get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, dict, bytes]:
    try:
        with opener.open(url, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_session_made_on_one_process_is_valid_on_the_other(processes, engine):
    from server.domain import accounts

    username = f"scale-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as session:
        accounts.create_user(session, username, PASSWORD, "officer")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    first, second = processes
    request = urllib.request.Request(f"{first}/api/session", method="POST", headers={
        "Content-Type": "application/json", "Origin": first},
        data=json.dumps({"username": username, "password": PASSWORD}).encode())
    assert opener.open(request, timeout=30).status == 200
    for base in processes:
        status, _headers, body = get(opener, f"{base}/api/session")
        assert status == 200 and json.loads(body)["user"]["username"] == username, base
    sign_out = urllib.request.Request(f"{second}/api/session", method="DELETE", headers={"Origin": second})
    assert opener.open(sign_out, timeout=30).status == 200
    assert json.loads(get(opener, f"{first}/api/session")[2])["user"] is None, "signed out everywhere"


def changed(opener, url: str, etag: str, seconds: float = 3.0):
    """The answer once it is no longer the one tagged `etag`: a process learns of a new data version by a NOTIFY that
    arrives within milliseconds of the commit, not atomically with it."""
    deadline = time.monotonic() + seconds
    while True:
        answer = get(opener, url)
        if answer[1]["ETag"] != etag or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_caches_stay_coherent_across_processes_when_the_data_change(processes, engine):
    opener = urllib.request.build_opener()
    first, second = processes
    status, headers, before = get(opener, f"{first}{LAYER}")
    assert status == 200
    assert get(opener, f"{second}{LAYER}")[1]["ETag"] == headers["ETag"], "both serve the one cached build"
    with transaction(engine) as session:  # an import elsewhere: a record moves to another month
        session.execute(text("""
            UPDATE crime_records SET month = DATE '2022-03-01'
            WHERE id = (SELECT id FROM crime_records WHERE crime_type_slug = 'vehicle-crime'
                        AND month = DATE '2022-04-01' AND geom IS NOT NULL ORDER BY id LIMIT 1)"""))
    try:
        after = [changed(opener, f"{base}{LAYER}", headers["ETag"]) for base in processes]
        assert all(a[1]["ETag"] != headers["ETag"] for a in after)
        totals = [sum(f["properties"]["value"] or 0 for f in json.loads(a[2])["features"]) for a in after]
        assert totals[0] == totals[1] == sum(f["properties"]["value"] or 0 for f in json.loads(before)["features"]) + 1
    finally:
        with transaction(engine) as session:
            session.execute(text("""
                UPDATE crime_records SET month = DATE '2022-04-01'
                WHERE id = (SELECT id FROM crime_records WHERE crime_type_slug = 'vehicle-crime'
                            AND month = DATE '2022-03-01' AND geom IS NOT NULL ORDER BY id LIMIT 1)"""))


def test_a_job_asked_for_on_both_processes_runs_once(processes, engine):
    opener = urllib.request.build_opener()
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    url = "/api/figure-packs/2019.zip"
    answers = [get(opener, f"{base}{url}") for base in processes]
    assert [a[0] for a in answers] == [202, 202]
    jobs = [json.loads(a[2])["job"]["id"] for a in answers]
    assert jobs[0] == jobs[1]
    for _ in range(240):
        status = json.loads(get(opener, f"{processes[1]}/api/jobs/{jobs[0]}")[2])
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status
    with transaction(engine) as session:
        assert session.execute(text("SELECT runs FROM jobs WHERE id = :id"), {"id": jobs[0]}).scalar_one() == 1
    assert all(get(opener, f"{base}{url}")[0] == 200 for base in processes)
