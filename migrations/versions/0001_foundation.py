"""boundaries, clusters, deprivation and accounts

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:17:00.575529
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('boundary_sets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('licence', sa.Text(), nullable=False),
    sa.Column('source_file', sa.Text(), nullable=False),
    sa.Column('source_checksum', sa.String(length=64), nullable=False),
    sa.Column('source_crs', sa.String(length=64), nullable=False),
    sa.Column('code_field', sa.String(length=64), nullable=False),
    sa.Column('name_field', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('ward', 'lsoa', 'other')", name='boundary_sets_kind_valid'),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from', name='boundary_sets_validity_ordered'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('lsoa_deprivation',
    sa.Column('lsoa_code', sa.String(length=32), nullable=False),
    sa.Column('imd_rank', sa.Integer(), nullable=False),
    sa.Column('imd_decile', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.CheckConstraint('imd_decile BETWEEN 1 AND 10', name='lsoa_deprivation_decile_valid'),
    sa.CheckConstraint('imd_rank >= 1', name='lsoa_deprivation_rank_valid'),
    sa.PrimaryKeyConstraint('lsoa_code')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'officer', 'gis', 'admin')", name='users_role_valid'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_geospatial_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['boundary_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id', 'code', name='areas_set_code_unique')
    )
    op.create_geospatial_index('idx_areas_geom', 'areas', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('ward_clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('cluster_type', sa.String(length=16), nullable=False),
    sa.Column('derived', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.CheckConstraint("cluster_type IN ('urban', 'rural')", name='ward_clusters_type_valid'),
    sa.ForeignKeyConstraint(['set_id'], ['boundary_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id', 'number', name='ward_clusters_set_number_unique')
    )
    op.create_table('cluster_members',
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('derived', sa.Boolean(), nullable=False),
    sa.Column('overlap_share', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['ward_clusters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['boundary_sets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cluster_id', 'area_code'),
    sa.UniqueConstraint('set_id', 'area_code', name='cluster_members_one_cluster')
    )


def downgrade() -> None:
    op.drop_table('cluster_members')
    op.drop_table('ward_clusters')
    op.drop_geospatial_index('idx_areas_geom', table_name='areas', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('areas')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('lsoa_deprivation')
    op.drop_table('boundary_sets')
