"""uploads run as jobs: the uploaded files wait in PostgreSQL (any worker machine can run them), and a job keeps
its parameters, its outcome and the details of its error

Revision ID: 0012_upload_jobs
Revises: 0011_police_api
Create Date: 2026-11-30 18:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012_upload_jobs'
down_revision: str | None = '0011_police_api'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE jobs ADD COLUMN params jsonb, ADD COLUMN outcome jsonb, ADD COLUMN error_details jsonb")
    # Deleted when the job ends (and with the job): a file lives here only while its job waits or runs.
    op.execute("""
        CREATE TABLE job_files (
            job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            position integer NOT NULL,
            file_name text NOT NULL,
            content bytea NOT NULL,
            PRIMARY KEY (job_id, position)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE job_files")
    op.execute("ALTER TABLE jobs DROP COLUMN params, DROP COLUMN outcome, DROP COLUMN error_details")
