"""The job queue: heavy requests answer 202 with a job that a real worker process runs once, with its progress,
and the original URL then answers from the shared cache; two workers never run a job twice."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest
from sqlalchemy import text

from server import create_app
from server.config import ROOT
from server.store.db import transaction
from tests.conftest import bearer

PACK = "/api/figure-packs/2021.zip"


@pytest.fixture
def queued(app, tokens):
    """A client of an app that queues heavy work, as scripts/run serves it."""
    queued_app = create_app(replace(app.extensions["csp_settings"], jobs="queue"))
    queued_app.config["TEST_BEARER"] = bearer(tokens["viewer"])  # more than 999 permutations needs a sign-in
    return queued_app.test_client()


@pytest.fixture
def fresh_version(engine):
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))


def signed_in(client) -> dict[str, str]:
    return client.application.config["TEST_BEARER"]


def run_workers(database_url: str, count: int = 1) -> None:
    """`count` real worker processes (scripts/atlas jobs worker --once) until the queue is empty."""
    env = {**os.environ, "DATABASE_URL": database_url, "CSP_ATLAS_JOBS": "queue"}
    workers = [subprocess.Popen([sys.executable, "-m", "server.cli", "jobs", "worker", "--once"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(count)]
    for worker in workers:
        output, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, output


def test_a_figure_pack_is_queued_run_by_a_worker_and_then_served(queued, database_url, fresh_version):
    first = queued.get(PACK)
    assert first.status_code == 202 and first.headers["Location"].startswith("/api/jobs/")
    job = first.get_json()["job"]
    assert job["status"] == "queued" and job["result"] is None
    again = queued.get(PACK)
    assert again.status_code == 202 and again.get_json()["job"]["id"] == job["id"], "one job for one result"

    run_workers(database_url)
    status = queued.get(first.headers["Location"]).get_json()
    assert status["status"] == "done" and status["result"] == PACK
    assert status["progress"]["done"] == status["progress"]["total"] > 10, "the pack reports each figure"
    served = queued.get(PACK)
    assert served.status_code == 200 and served.data[:2] == b"PK"


def gi_url(seed: int) -> str:
    """Gi* beyond the anonymous limits: queued, but quick to run."""
    return f"/api/hotspots/gi?period=2022-06&permutations=1999&seed={seed}"


def test_each_job_runs_exactly_once_with_two_workers(queued, engine, database_url, fresh_version):
    urls = [gi_url(seed) for seed in range(1, 7)]
    ids = [queued.get(url, headers=signed_in(queued)).get_json()["job"]["id"] for url in urls]
    run_workers(database_url, count=2)
    with transaction(engine) as session:
        runs = dict(session.execute(text("SELECT id::text, runs FROM jobs WHERE id::text = ANY(:ids)"),
                                    {"ids": ids}).all())
    assert runs == dict.fromkeys(ids, 1)
    assert all(queued.get(url, headers=signed_in(queued)).status_code == 200 for url in urls)


def test_a_failed_job_says_why_without_a_stack_trace(queued, engine, database_url, fresh_version):
    job = queued.get(gi_url(99), headers=signed_in(queued)).get_json()["job"]
    with transaction(engine) as session:  # the data changed under it so that the request is now refused
        session.execute(text("UPDATE jobs SET url = :url WHERE id = :id"),
                        {"url": gi_url(99) + "&geography=nowhere", "id": job["id"]})
    run_workers(database_url)
    status = queued.get(f"/api/jobs/{job['id']}").get_json()
    assert status["status"] == "failed" and "geography" in status["error"] and "Traceback" not in status["error"]
    assert status["result"] is None


def test_an_unknown_job_is_404(client):
    assert client.get("/api/jobs/not-a-uuid").status_code == 404
    assert client.get("/api/jobs/6f1c1d5e-0000-4000-8000-000000000000").status_code == 404


def test_an_unreachable_queue_is_a_503_and_the_job_ends_failed(queued, engine, monkeypatch, fresh_version):
    from server.api import caching

    def unreachable(*_args):
        raise ConnectionError("queue down")

    monkeypatch.setattr(caching, "enqueue", unreachable)
    response = queued.get("/api/figure-packs/2020.zip")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert "job queue is unavailable" in response.get_json()["error"]["message"]
    with transaction(engine) as session:
        status, error = session.execute(text(
            "SELECT status, error FROM jobs ORDER BY created_at DESC LIMIT 1")).one()
    assert (status, error) == ("failed", "the job queue is unavailable")
