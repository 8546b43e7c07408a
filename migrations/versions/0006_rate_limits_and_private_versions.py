"""per-client rate-limit counters shared by all workers; hotspot writes bump their own version, not the public one

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before this migration a write to a restricted layer bumped data_version, the key of every public ETag, so an
# anonymous caller could see when a DCSM record was written. Hotspot tables now bump hotspot_data_version only.
HOTSPOT_TABLES = ("hotspot_layers", "gazetteer_places", "hotspot_points")


def upgrade() -> None:
    op.create_table(
        'rate_limit_counters',
        sa.Column('bucket', sa.String(64), nullable=False),
        sa.Column('client_key', sa.String(200), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('bucket', 'client_key', 'window_start'),
    )
    op.create_index('ix_rate_limit_counters_window_start', 'rate_limit_counters', ['window_start'])
    op.create_table(
        'hotspot_data_version',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('id = 1', name='hotspot_data_version_single_row'),
    )
    op.execute("INSERT INTO hotspot_data_version (id, version) VALUES (1, 1)")
    op.execute("""
        CREATE FUNCTION bump_hotspot_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE hotspot_data_version SET version = version + 1, changed_at = now() WHERE id = 1;
            RETURN NULL;
        END $$""")
    for table in HOTSPOT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_data_version ON {table}")
        op.execute(f"CREATE TRIGGER {table}_bump_hotspot_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_hotspot_data_version()")


def downgrade() -> None:
    for table in HOTSPOT_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_hotspot_data_version ON {table}")
        op.execute(f"CREATE TRIGGER {table}_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")
    op.execute("DROP FUNCTION IF EXISTS bump_hotspot_data_version()")
    op.drop_table('hotspot_data_version')
    op.drop_index('ix_rate_limit_counters_window_start', table_name='rate_limit_counters')
    op.drop_table('rate_limit_counters')
