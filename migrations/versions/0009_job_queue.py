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
# Everything procrastinate's schema creates is named procrastinate_*: tables, functions, types and triggers.
DROP_PROCRASTINATE = r"""
    DO $$ DECLARE item record; BEGIN
        FOR item IN SELECT tablename FROM pg_tables
                    WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\_%' LOOP
            EXECUTE format('DROP TABLE %I CASCADE', item.tablename);
        END LOOP;
        FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%' LOOP
            EXECUTE format('DROP FUNCTION %s CASCADE', item.signature);
        END LOOP;
        FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\_%'
                      AND t.typtype IN ('e', 'c') LOOP  -- the tables' own row types went with them
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
        END LOOP;
    END $$"""


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
    op.execute(DROP_PROCRASTINATE)
