"""The police.uk fetch as work of the job queue: every day a periodic task looks for new months, and an admin can
start the same fetch (POST /api/admin/police-fetch). Either way it is a row in `jobs`, so its progress and outcome
show at /api/jobs/{id}, and one fetch runs at a time (a second request follows the job already queued or running)."""

from __future__ import annotations

import logging
from typing import Any

import procrastinate
from sqlalchemy import Engine

from server.config import Settings, load_settings
from server.domain.police_api import PoliceApi, PoliceApiError
from server.domain.police_fetch import FetchError, FetchRequest, fetch_police_months
from server.jobs import QUEUE, _opened_for_deferring
from server.store import jobs as jobs_store
from server.store import police_api as police_api_store
from server.store import scope
from server.store.db import engine_for, transaction

log = logging.getLogger(__name__)

JOB_KIND = "police-fetch"
JOB_URL = "/api/admin/police-fetch"  # what the job's result links to: the months fetched and their provenance
CACHE_KEY = "police-fetch"  # one active fetch job at a time
# police.uk publishes each month's data a few weeks after it ends, on no fixed day: ask once a day (two small
# requests when there is nothing new).
SCHEDULE = "17 5 * * *"
# A fetch of three years of a borough takes minutes; one still active after this long lost its worker.
STALE_AFTER_HOURS = 6

police_tasks = procrastinate.Blueprint()


def create_fetch_job(engine: Engine, requested_by: str | None) -> tuple[dict[str, Any], bool]:
    """The fetch job to follow: a new queued one, or the one already queued or running (False)."""
    with transaction(engine) as session:
        police_api_store.end_stale_fetch_jobs(session, CACHE_KEY, STALE_AFTER_HOURS)
        return jobs_store.create_or_follow(session, JOB_KIND, JOB_URL, CACHE_KEY, requested_by)


def defer_fetch_job(database_url: str, job_id: str) -> None:
    _opened_for_deferring(database_url).configure_task("atlas:fetch_police_api", queue=QUEUE).defer(
        job_id=job_id, partnership=scope.current())


def run_fetch_job(settings: Settings, job_id: str, api: PoliceApi | None = None) -> None:
    """Run the fetch of job `job_id`, reporting its progress; a failure ends the job as failed with the reason."""
    engine = engine_for(settings.database_url)
    with transaction(engine) as session:
        if jobs_store.start(session, job_id) is None:
            log.info("police fetch job %s is finished already", job_id)
            return

    def progress(done: int, total: int, message: str) -> None:
        with transaction(engine) as session:
            jobs_store.progress(session, job_id, done, total, message)

    error = None
    try:
        fetch_police_months(engine, api or PoliceApi(settings.police_api), FetchRequest(force=settings.police_force),
                            progress)
    except (FetchError, PoliceApiError) as failure:
        error = str(failure)
    except Exception:  # the job must end as failed, not stay 'running' for ever
        log.exception("police fetch job %s failed", job_id)
        error = "internal error; the details are in the worker's log"
    with transaction(engine) as session:
        jobs_store.finish(session, job_id, error)


@police_tasks.task(name="fetch_police_api", queue=QUEUE)
def fetch_police_api(job_id: str, partnership: str | None = None) -> None:
    with scope.acting_for(partnership):  # the job row is the admin's partnership's; the crime data is shared
        run_fetch_job(load_settings(), job_id)


@police_tasks.periodic(cron=SCHEDULE, periodic_id="police-api")
@police_tasks.task(name="scheduled_police_fetch", queue=QUEUE, queueing_lock="scheduled-police-fetch")
def scheduled_police_fetch(timestamp: int) -> None:
    settings = load_settings()
    job, new = create_fetch_job(engine_for(settings.database_url), "schedule")
    if new:
        run_fetch_job(settings, job["id"])
