"""one response cache shared by every worker and process: gzip bodies keyed by data version, bounded in bytes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UNLOGGED: a cache need not survive a database crash, and skipping the WAL makes writes cheap.
    op.execute("""
        CREATE UNLOGGED TABLE response_cache (
            key varchar(64) PRIMARY KEY,
            body bytea NOT NULL,
            size integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            used_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.create_index('ix_response_cache_used_at', 'response_cache', ['used_at'])
    op.alter_column('response_cache', 'size', existing_type=sa.Integer(), comment='bytes of the gzip body')


def downgrade() -> None:
    op.drop_table('response_cache')
