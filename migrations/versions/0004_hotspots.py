"""hotspot layers (needle finds, DCSM locations): points with history, gazetteer, grants, append-only audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Writes to these bump data_version (migration 0003), the key of every cached response. The audit log is left out:
# every read of a restricted layer appends to it, and that must not invalidate caches.
VERSIONED_TABLES = ("hotspot_layers", "gazetteer_places", "hotspot_points")
APPEND_ONLY_TABLES = ("hotspot_audit", "hotspot_point_history")

LAYERS = [
    {"id": "needle-finds", "title": "Needle finds", "sensitivity": "internal",
     "description": "Discarded needles found in the borough: needles removed by the council's waste team plus the "
                    "contents of external needle bins (Strategic Assessment 2024/25, paragraphs 104-105). Seeded "
                    "with the published monthly borough totals 2019-2023 and the top five locations of 2021-2023.",
     "owner_team": "Safer Maidstone Partnership Substance Misuse sub-group (finds: Maidstone Borough Council waste "
                   "team and external needle bins)",
     "retention_months": 120, "count_unit": "needle finds",
     "retention_note": "Placeholder chosen by the developers (keeps the 2019 seed figures); to be confirmed by the "
                       "partnership's information governance. Recorded, not yet enforced."},
    {"id": "dcsm-locations", "title": "DCSM locations of concern", "sensitivity": "restricted",
     "description": "Locations and premises where the District Contextual Safeguarding Meeting judges young "
                    "people's behaviour to put themselves or others at risk (24 locations in 2023, paragraph 76 of "
                    "the Strategic Assessment 2024/25; no locations are published). Exposing them would harm the "
                    "children the partnership protects: only DCSM members granted this layer, and admins, see it.",
     "owner_team": "District Contextual Safeguarding Meeting (DCSM), Safer Maidstone Partnership",
     "retention_months": 36, "count_unit": "locations",
     "retention_note": "Placeholder chosen by the developers; to be confirmed by the partnership's information "
                       "governance. Recorded, not yet enforced."},
]


def upgrade() -> None:
    op.create_table(
        'hotspot_layers',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('sensitivity', sa.String(16), nullable=False),
        sa.Column('owner_team', sa.Text(), nullable=False),
        sa.Column('retention_months', sa.Integer(), nullable=False),
        sa.Column('retention_note', sa.Text(), nullable=False),
        sa.Column('count_unit', sa.String(80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("sensitivity IN ('internal', 'restricted')", name='hotspot_layers_sensitivity_valid'),
        sa.CheckConstraint('retention_months > 0', name='hotspot_layers_retention_positive'),
    )
    op.create_table(
        'hotspot_grants',
        sa.Column('layer_id', sa.String(64), sa.ForeignKey('hotspot_layers.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('access', sa.String(8), nullable=False),
        sa.Column('granted_by', sa.String(80), nullable=False),
        sa.Column('granted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("access IN ('read', 'write')", name='hotspot_grants_access_valid'),
    )
    op.create_table(
        'gazetteer_places',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('name_key', sa.String(200), nullable=False),
        sa.Column('aliases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('layer_id', sa.String(64), sa.ForeignKey('hotspot_layers.id'), nullable=True),
        sa.Column('geom', Geometry('POINT', srid=4326, spatial_index=False), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('sources', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('placed_by', sa.String(80), nullable=True),
        sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.String(80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.UniqueConstraint('layer_id', 'name_key', name='gazetteer_places_one_name',
                            postgresql_nulls_not_distinct=True),
    )
    op.create_index('idx_gazetteer_places_geom', 'gazetteer_places', ['geom'], postgresql_using='gist')
    op.create_table(
        'hotspot_points',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('layer_id', sa.String(64), sa.ForeignKey('hotspot_layers.id'), nullable=False),
        sa.Column('geom', Geometry('POINT', srid=4326, spatial_index=False), nullable=True),
        sa.Column('place_id', sa.Integer(), sa.ForeignKey('gazetteer_places.id'), nullable=True),
        sa.Column('place_name_given', sa.Text(), nullable=False),
        sa.Column('area_code', sa.String(32), nullable=True),
        sa.Column('observed_from', sa.Date(), nullable=False),
        sa.Column('observed_to', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=True),
        sa.Column('category', sa.Text(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('seed_key', sa.Text(), nullable=True, unique=True),
        sa.Column('recorded_by', sa.String(80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_by', sa.String(80), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deleted_by', sa.String(80), nullable=True),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('geom IS NOT NULL OR place_id IS NOT NULL OR area_code IS NOT NULL',
                           name='hotspot_points_located'),
        sa.CheckConstraint('observed_to >= observed_from', name='hotspot_points_observed_ordered'),
        sa.CheckConstraint('count IS NULL OR count >= 0', name='hotspot_points_count_valid'),
    )
    op.create_index('idx_hotspot_points_geom', 'hotspot_points', ['geom'], postgresql_using='gist')
    op.create_index('ix_hotspot_points_place_id', 'hotspot_points', ['place_id'])
    op.create_index('ix_hotspot_points_layer_observed', 'hotspot_points', ['layer_id', 'observed_from'])
    op.create_table(
        'hotspot_point_history',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('point_id', sa.BigInteger(), sa.ForeignKey('hotspot_points.id'), nullable=False),
        sa.Column('layer_id', sa.String(64), nullable=False),
        sa.Column('action', sa.String(16), nullable=False),
        sa.Column('changed_by', sa.String(80), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('old_values', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('new_values', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("action IN ('create', 'update', 'delete', 'restore', 'place')",
                           name='hotspot_point_history_action_valid'),
    )
    op.create_index('ix_hotspot_point_history_point_id', 'hotspot_point_history', ['point_id'])
    op.create_table(
        'hotspot_audit',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('username', sa.String(80), nullable=False),
        sa.Column('role', sa.String(16), nullable=False),
        sa.Column('action', sa.String(32), nullable=False),
        sa.Column('layer_id', sa.String(64), nullable=True),
        sa.Column('feature_count', sa.Integer(), nullable=False),
        sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    )
    op.create_index('ix_hotspot_audit_layer_at', 'hotspot_audit', ['layer_id', 'at'])
    op.execute("""
        CREATE FUNCTION reject_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""")
    for table in APPEND_ONLY_TABLES:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()")
    for table in VERSIONED_TABLES:
        op.execute(f"CREATE TRIGGER {table}_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")
    layers = sa.table('hotspot_layers', *(sa.column(name) for name in LAYERS[0]))
    op.bulk_insert(layers, LAYERS)


def downgrade() -> None:
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_data_version ON {table}")
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS reject_append_only_change()")
    op.drop_table('hotspot_audit')
    op.drop_table('hotspot_point_history')
    op.drop_table('hotspot_points')
    op.drop_table('gazetteer_places')
    op.drop_table('hotspot_grants')
    op.drop_table('hotspot_layers')
