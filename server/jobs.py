"""The job queue for heavy work: procrastinate on the same PostgreSQL (no new server). A job is a GET request that
was too heavy to answer at once: the worker replays it inside the app, marked as a job, so it runs exactly the code
an inline request runs and leaves its result in the shared response cache, where the original URL then finds it.
Or it is a large upload (crime files, a boundary file): the files wait in PostgreSQL (job_files), the worker runs
the same code the request would have run, and the job keeps the outcome or the error (naming file and row)."""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import procrastinate
from flask import Flask

from server.config import Settings, load_settings
from server.domain.file_errors import FileProblems
from server.domain.uploads import run_upload_job
from server.store import jobs as jobs_store
from server.store import scope
from server.store.db import engine_for, transaction

log = logging.getLogger(__name__)

# Set in the WSGI environ of a replayed request (never taken from HTTP headers): run the work now, do not queue it.
JOB_ENVIRON = "csp_atlas.job_id"
JOB_USER_ENVIRON = "csp_atlas.job_user"
QUEUE = "heavy"

tasks = procrastinate.Blueprint()


def libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@lru_cache(maxsize=4)
def queue_app(database_url: str) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(tasks, namespace="atlas")
    from server.police_jobs import police_tasks  # it imports this module

    app.add_tasks_from(police_tasks, namespace="atlas")
    return app


@lru_cache(maxsize=4)
def _opened_for_deferring(database_url: str) -> procrastinate.App:
    return queue_app(database_url).open()


def enqueue(database_url: str, job_id: str) -> None:
    """Hand a job to the workers (its row in `jobs` is committed already)."""
    app = _opened_for_deferring(database_url)
    app.configure_task("atlas:run_request", queue=QUEUE).defer(job_id=job_id, partnership=scope.current())


def enqueue_upload(database_url: str, job_id: str) -> None:
    """Hand an upload job to the workers (its row and files are committed already)."""
    app = _opened_for_deferring(database_url)
    app.configure_task("atlas:run_upload", queue=QUEUE).defer(job_id=job_id, partnership=scope.current())


@lru_cache(maxsize=1)
def _worker_flask_app() -> Flask:
    from server import create_app

    return create_app(load_settings())


@tasks.task(name="run_request")
def run_request(job_id: str, partnership: str | None = None) -> None:
    """The job row is the partnership's (row-level security): read it acting for that partnership; the replayed
    request's URL carries the same /p/{slug} prefix."""
    with scope.acting_for(partnership):
        _run_request(job_id)


def _run_request(job_id: str) -> None:
    flask_app = _worker_flask_app()
    settings: Settings = flask_app.extensions["csp_settings"]
    engine = engine_for(settings.database_url)
    with transaction(engine) as db:
        job = jobs_store.start(db, job_id)
    if job is None:
        log.info("job %s is finished already", job_id)
        return
    error = None
    try:
        environ = {JOB_ENVIRON: job_id}
        if job["requested_by"]:
            environ[JOB_USER_ENVIRON] = job["requested_by"]
        response = flask_app.test_client().get(job["url"], environ_base=environ)
        if response.status_code >= 400:
            body = response.get_json(silent=True) or {}
            error = body.get("error", {}).get("message") or f"HTTP {response.status_code}"
    except Exception:  # the job must end as failed, not stay 'running' for ever
        log.exception("job %s failed", job_id)
        error = "internal error; the details are in the worker's log"
    with transaction(engine) as db:
        jobs_store.finish(db, job_id, error)


@tasks.task(name="run_upload")
def run_upload(job_id: str, partnership: str | None = None) -> None:
    with scope.acting_for(partnership):  # the job, and what its upload writes, are the partnership's
        _run_upload(job_id)


def _run_upload(job_id: str) -> None:
    engine = engine_for(load_settings().database_url)
    with transaction(engine) as db:
        job = jobs_store.start(db, job_id)
        files = jobs_store.upload_files(db, job_id) if job else []
    if job is None:
        log.info("job %s is finished already", job_id)
        return

    def progress(done: int, total: int, message: str) -> None:
        with transaction(engine) as db:  # its own transaction: visible while the upload's transaction goes on
            jobs_store.progress(db, job_id, done, total, message)

    outcome = error = details = None
    try:
        outcome = run_upload_job(engine, job["kind"], job["params"] or {}, files, job["requested_by"], progress)
    except FileProblems as problem:  # the file's fault: the message names the file and the row or feature
        error, details = problem.message, problem.details()
    except Exception:  # the job must end as failed, not stay 'running' for ever
        log.exception("job %s failed", job_id)
        error = "internal error; the details are in the worker's log"
    with transaction(engine) as db:
        jobs_store.finish_upload(db, job_id, outcome, error, details)


def run_worker(database_url: str, concurrency: int, once: bool, niceness: int = 0) -> None:
    """Work the queue until stopped (Ctrl-C, SIGTERM), or until it is empty with `once`. With `niceness`, the worker
    yields the CPU to the web workers on the same machine, so heavy jobs never slow cheap requests down."""
    if niceness > 0:
        os.nice(niceness)
    queue_app(database_url).run_worker(queues=[QUEUE], concurrency=concurrency, wait=not once,
                                       install_signal_handlers=not once, delete_jobs="successful")
