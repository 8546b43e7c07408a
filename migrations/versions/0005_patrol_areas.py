"""task-force patrol areas with history, and teams for users

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('team', sa.String(80), nullable=True))
    op.create_geospatial_table(
        'patrol_areas',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('team', sa.String(80), nullable=False),
        sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False,
                                   from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
        sa.Column('route', Geometry(geometry_type='LINESTRING', srid=4326, spatial_index=False,
                                    from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
        sa.Column('buffer_m', sa.Float(), nullable=True),
        sa.Column('date_from', sa.Date(), nullable=True),
        sa.Column('date_to', sa.Date(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_by', sa.String(80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('date_to IS NULL OR date_from IS NULL OR date_to >= date_from',
                           name='patrol_areas_dates_ordered'),
    )
    op.create_geospatial_index('idx_patrol_areas_geom', 'patrol_areas', ['geom'], unique=False,
                               postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_patrol_areas_team', 'patrol_areas', ['team'])
    op.create_table(
        'patrol_area_history',
        sa.Column('id', sa.BigInteger(), primary_key=True),
        sa.Column('patrol_area_id', sa.Integer(), sa.ForeignKey('patrol_areas.id', ondelete='CASCADE'),
                  nullable=False, index=True),
        sa.Column('action', sa.String(16), nullable=False),
        sa.Column('changed_by', sa.String(80), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('old', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('new', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('patrol_area_history')
    op.drop_index('ix_patrol_areas_team', table_name='patrol_areas')
    op.drop_geospatial_index('idx_patrol_areas_geom', table_name='patrol_areas', postgresql_using='gist',
                             column_name='geom')
    op.drop_geospatial_table('patrol_areas')
    op.drop_column('users', 'team')
