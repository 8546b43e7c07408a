"""statistics with provenance, populations for rates, and a data version that every write bumps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = ("boundary_sets", "areas", "ward_clusters", "cluster_members", "lsoa_deprivation",
                    "crime_records", "crime_placements", "statistics", "populations")


def upgrade() -> None:
    op.create_table(
        'statistics',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('metric', sa.String(64), nullable=False),
        sa.Column('geography', sa.String(32), nullable=False),
        sa.Column('area_code', sa.String(32), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('month IS NULL OR month BETWEEN 1 AND 12', name='statistics_month_valid'),
        sa.UniqueConstraint('metric', 'geography', 'area_code', 'year', 'month', name='statistics_one_value',
                            postgresql_nulls_not_distinct=True),
    )
    op.create_index('ix_statistics_metric', 'statistics', ['metric', 'year'])
    op.create_table(
        'populations',
        sa.Column('set_id', sa.String(64), sa.ForeignKey('boundary_sets.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('area_code', sa.String(32), primary_key=True),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('population', sa.Float(), nullable=False),
        sa.Column('derived', sa.Boolean(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('population > 0', name='populations_positive'),
    )
    op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('id = 1', name='data_version_single_row'),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1)")
    op.execute("""
        CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1;
            RETURN NULL;
        END $$""")
    for table in VERSIONED_TABLES:
        op.execute(f"CREATE TRIGGER {table}_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")


def downgrade() -> None:
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_data_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_data_version()")
    op.drop_table('data_version')
    op.drop_table('populations')
    op.drop_index('ix_statistics_metric', table_name='statistics')
    op.drop_table('statistics')
