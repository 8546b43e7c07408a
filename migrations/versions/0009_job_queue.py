"""job queue for heavy work: procrastinate's tables (PostgreSQL only, no new server) and the jobs users follow

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:30:00.000000
"""
from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# procrastinate is pinned in requirements.txt: a new version's SQL migrations go into a new revision here.
PROCRASTINATE_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                        "procrastinate_workers")
PROCRASTINATE_FUNCTIONS = (
    "procrastinate_defer_jobs_v1", "procrastinate_defer_periodic_job_v2", "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1", "procrastinate_cancel_job_v1", "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2", "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_notify_queue_abort_job_v1", "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1", "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_abort_requested_events_procedure_v1", "procrastinate_unlink_periodic_defers_v1",
    "procrastinate_register_worker_v1", "procrastinate_unregister_worker_v1", "procrastinate_update_heartbeat_v1",
    "procrastinate_prune_stalled_workers_v1")
PROCRASTINATE_TYPES = ("procrastinate_job_event_type", "procrastinate_job_status")


def upgrade() -> None:
    op.execute(SchemaManager.get_schema())
    op.execute("""
        CREATE TABLE jobs (
            id uuid PRIMARY KEY,
            kind varchar(40) NOT NULL,
            url text NOT NULL,
            cache_key varchar(64) NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'queued'
                CONSTRAINT jobs_status_valid CHECK (status IN ('queued', 'running', 'done', 'failed')),
            progress_done integer NOT NULL DEFAULT 0,
            progress_total integer NOT NULL DEFAULT 1,
            message text NOT NULL DEFAULT '',
            error text,
            runs integer NOT NULL DEFAULT 0,
            requested_by varchar(80),
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz
        )""")
    # One queued or running job per result: a second request for the same result follows the first job.
    op.execute("CREATE UNIQUE INDEX ux_jobs_active_cache_key ON jobs (cache_key) "
               "WHERE status IN ('queued', 'running')")
    op.execute("CREATE INDEX ix_jobs_created_at ON jobs (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE jobs")
    for table in PROCRASTINATE_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for function in PROCRASTINATE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    for type_name in PROCRASTINATE_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
