"""police.uk street-level crime: imports, records and their placement in boundary sets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('crime_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('imported_by', sa.String(length=80), nullable=True),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('no_location', sa.Integer(), nullable=False),
    sa.Column('unplaced', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('per_month', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_table('crime_records',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('identity', sa.Text(), nullable=False),
    sa.Column('crime_id', sa.Text(), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('reported_by', sa.Text(), nullable=False),
    sa.Column('falls_within', sa.Text(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('lsoa_code', sa.Text(), nullable=False),
    sa.Column('lsoa_name', sa.Text(), nullable=False),
    sa.Column('crime_type', sa.Text(), nullable=False),
    sa.Column('crime_type_slug', sa.Text(), nullable=False),
    sa.Column('last_outcome', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['crime_imports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity')
    )
    op.create_geospatial_index('idx_crime_records_geom', 'crime_records', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_crime_records_crime_type_slug'), 'crime_records', ['crime_type_slug'], unique=False)
    op.create_index(op.f('ix_crime_records_import_id'), 'crime_records', ['import_id'], unique=False)
    op.create_index(op.f('ix_crime_records_month'), 'crime_records', ['month'], unique=False)
    op.create_table('crime_placements',
    sa.Column('record_id', sa.BigInteger(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.CheckConstraint("method IN ('within', 'lsoa_code', 'nearest')", name='crime_placements_method_valid'),
    sa.ForeignKeyConstraint(['record_id'], ['crime_records.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['boundary_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', 'set_id')
    )
    op.create_index('ix_crime_placements_set_area', 'crime_placements', ['set_id', 'area_code'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_crime_placements_set_area', table_name='crime_placements')
    op.drop_table('crime_placements')
    op.drop_index(op.f('ix_crime_records_month'), table_name='crime_records')
    op.drop_index(op.f('ix_crime_records_import_id'), table_name='crime_records')
    op.drop_index(op.f('ix_crime_records_crime_type_slug'), table_name='crime_records')
    op.drop_geospatial_index('idx_crime_records_geom', table_name='crime_records', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('crime_records')
    op.drop_table('crime_imports')
