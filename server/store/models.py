"""Tables of CSP Atlas. Every change here needs an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("viewer", "officer", "gis", "admin")
BOUNDARY_KINDS = ("ward", "lsoa", "other")
CLUSTER_TYPES = ("urban", "rural")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="users_role_valid"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()


class UserSession(Base):
    """A browser sign-in. The cookie carries a random secret; only its SHA-256 is kept, so a copy of this table
    signs nobody in. Idle and absolute timeouts are applied when it is used (settings), not stored."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class SecurityAuditEntry(Base):
    """Append-only (triggers reject UPDATE, DELETE and TRUNCATE): sign-ins, sign-outs and account changes."""

    __tablename__ = "security_audit"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    event: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)


class BoundarySet(Base):
    __tablename__ = "boundary_sets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(Text, default="")
    source_file: Mapped[str] = mapped_column(Text, default="")
    source_checksum: Mapped[str] = mapped_column(String(64), default="")
    source_crs: Mapped[str] = mapped_column(String(64), default="")
    code_field: Mapped[str] = mapped_column(String(64), default="")
    name_field: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint(f"kind IN {BOUNDARY_KINDS}", name="boundary_sets_kind_valid"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from",
                        name="boundary_sets_validity_ordered"),
    )


class Area(Base):
    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    area_km2: Mapped[float] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("set_id", "code", name="areas_set_code_unique"),)


class WardCluster(Base):
    __tablename__ = "ward_clusters"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    cluster_type: Mapped[str] = mapped_column(String(16))
    derived: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        UniqueConstraint("set_id", "number", name="ward_clusters_set_number_unique"),
        CheckConstraint(f"cluster_type IN {CLUSTER_TYPES}", name="ward_clusters_type_valid"),
    )


class ClusterMember(Base):
    """Membership is keyed by ward code, so reloading a ward set keeps it."""

    __tablename__ = "cluster_members"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("ward_clusters.id", ondelete="CASCADE"),
                                            primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    derived: Mapped[bool] = mapped_column(Boolean, default=False)
    overlap_share: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("set_id", "area_code", name="cluster_members_one_cluster"),)


class LsoaDeprivation(Base):
    __tablename__ = "lsoa_deprivation"
    lsoa_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    imd_rank: Mapped[int] = mapped_column(Integer)
    imd_decile: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
        CheckConstraint("imd_decile BETWEEN 1 AND 10", name="lsoa_deprivation_decile_valid"),
        CheckConstraint("imd_rank >= 1", name="lsoa_deprivation_rank_valid"),
    )


PLACEMENT_METHODS = ("within", "lsoa_code", "nearest")


class CrimeImport(Base):
    """One police.uk file as imported: what was read, inserted, skipped and left unplaced."""

    __tablename__ = "crime_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    imported_by: Mapped[str | None] = mapped_column(String(80))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    no_location: Mapped[int] = mapped_column(Integer, default=0)
    unplaced: Mapped[dict] = mapped_column(JSONB, default=dict)
    per_month: Mapped[dict] = mapped_column(JSONB, default=dict)


class CrimeRecord(Base):
    """A street-level crime or ASB incident; `identity` is stable across re-imports (server.domain.police_import)."""

    __tablename__ = "crime_records"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    identity: Mapped[str] = mapped_column(Text, unique=True)
    crime_id: Mapped[str | None] = mapped_column(Text)
    month: Mapped[date] = mapped_column(Date, index=True)
    reported_by: Mapped[str] = mapped_column(Text, default="")
    falls_within: Mapped[str] = mapped_column(Text, default="")
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    location: Mapped[str] = mapped_column(Text, default="")
    lsoa_code: Mapped[str] = mapped_column(Text, default="")
    lsoa_name: Mapped[str] = mapped_column(Text, default="")
    crime_type: Mapped[str] = mapped_column(Text)
    crime_type_slug: Mapped[str] = mapped_column(Text, index=True)
    last_outcome: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("crime_imports.id"), index=True)


class CrimePlacement(Base):
    """Which area of a boundary set holds a record, and how that was decided."""

    __tablename__ = "crime_placements"
    record_id: Mapped[int] = mapped_column(sa.BigInteger, ForeignKey("crime_records.id", ondelete="CASCADE"),
                                           primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    __table_args__ = (
        CheckConstraint(f"method IN {PLACEMENT_METHODS}", name="crime_placements_method_valid"),
        sa.Index("ix_crime_placements_set_area", "set_id", "area_code"),
    )


class Statistic(Base):
    """A published figure (e.g. the partnership's Table 1) for an area, cluster or the borough."""

    __tablename__ = "statistics"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    metric: Mapped[str] = mapped_column(String(64))
    geography: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint("month IS NULL OR month BETWEEN 1 AND 12", name="statistics_month_valid"),
        UniqueConstraint("metric", "geography", "area_code", "year", "month", name="statistics_one_value",
                         postgresql_nulls_not_distinct=True),
        sa.Index("ix_statistics_metric", "metric", "year"),
    )


class PopulationEstimate(Base):
    __tablename__ = "populations"
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    population: Mapped[float] = mapped_column(Float)
    derived: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (CheckConstraint("population > 0", name="populations_positive"),)


class Partnership(Base):
    """A Community Safety Partnership: its districts, the boundary sets it shows and its area (migration 0014)."""

    __tablename__ = "partnerships"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lad_codes: Mapped[list[str]] = mapped_column(sa.ARRAY(String(9)))
    parent_slug: Mapped[str | None] = mapped_column(ForeignKey("partnerships.slug", ondelete="RESTRICT"))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_set: Mapped[str | None] = mapped_column(ForeignKey("boundary_sets.id", ondelete="SET NULL"))
    area = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartnershipSet(Base):
    __tablename__ = "partnership_sets"
    partnership_slug: Mapped[str] = mapped_column(ForeignKey("partnerships.slug", ondelete="CASCADE"),
                                                  primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class DataVersion(Base):
    """One row, bumped by triggers on every data table: the key of every cached response."""

    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (CheckConstraint("id = 1", name="data_version_single_row"),)


# --- hotspot layers (needle finds, DCSM locations): points with history, a gazetteer, grants and an audit log ---

HOTSPOT_SENSITIVITIES = ("internal", "restricted")
HOTSPOT_GRANT_ACCESS = ("read", "write")
HOTSPOT_HISTORY_ACTIONS = ("create", "update", "delete", "restore", "place")


class HotspotLayer(Base):
    """A layer of the partnership's own points; `restricted` layers are readable only with a grant (or as admin)."""

    __tablename__ = "hotspot_layers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(16))
    owner_team: Mapped[str] = mapped_column(Text, default="")
    retention_months: Mapped[int] = mapped_column(Integer)
    retention_note: Mapped[str] = mapped_column(Text, default="")
    count_unit: Mapped[str] = mapped_column(String(80), default="records")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (
        CheckConstraint(f"sensitivity IN {HOTSPOT_SENSITIVITIES}", name="hotspot_layers_sensitivity_valid"),
        CheckConstraint("retention_months > 0", name="hotspot_layers_retention_positive"),
    )


class HotspotGrant(Base):
    """A user's access to a restricted layer, given by an admin."""

    __tablename__ = "hotspot_grants"
    layer_id: Mapped[str] = mapped_column(ForeignKey("hotspot_layers.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    access: Mapped[str] = mapped_column(String(8))
    granted_by: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (CheckConstraint(f"access IN {HOTSPOT_GRANT_ACCESS}", name="hotspot_grants_access_valid"),)


class GazetteerPlace(Base):
    """A named place; without a point it is unplaced. A place with a layer is private to that (restricted) layer."""

    __tablename__ = "gazetteer_places"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list] = mapped_column(JSONB, default=list)
    layer_id: Mapped[str | None] = mapped_column(ForeignKey("hotspot_layers.id"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list] = mapped_column(JSONB, default=list)
    placed_by: Mapped[str | None] = mapped_column(String(80))
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    __table_args__ = (UniqueConstraint("layer_id", "name_key", name="gazetteer_places_one_name",
                                       postgresql_nulls_not_distinct=True),)


class HotspotPoint(Base):
    """A record of a layer: at its own point, at a named place, or for a whole area (e.g. a borough total)."""

    __tablename__ = "hotspot_points"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("hotspot_layers.id"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("gazetteer_places.id"), index=True)
    place_name_given: Mapped[str] = mapped_column(Text, default="")
    area_code: Mapped[str | None] = mapped_column(String(32))
    observed_from: Mapped[date] = mapped_column(Date)
    observed_to: Mapped[date] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    seed_key: Mapped[str | None] = mapped_column(Text, unique=True)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by: Mapped[str | None] = mapped_column(String(80))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("geom IS NOT NULL OR place_id IS NOT NULL OR area_code IS NOT NULL",
                        name="hotspot_points_located"),
        CheckConstraint("observed_to >= observed_from", name="hotspot_points_observed_ordered"),
        CheckConstraint("count IS NULL OR count >= 0", name="hotspot_points_count_valid"),
        sa.Index("ix_hotspot_points_layer_observed", "layer_id", "observed_from"),
    )


class HotspotPointHistory(Base):
    """Append-only (a trigger rejects UPDATE and DELETE): every change to a point with its old and new values."""

    __tablename__ = "hotspot_point_history"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.BigInteger, ForeignKey("hotspot_points.id"), index=True)
    layer_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    old_values: Mapped[dict | None] = mapped_column(JSONB)
    new_values: Mapped[dict | None] = mapped_column(JSONB)
    __table_args__ = (
        CheckConstraint(f"action IN {HOTSPOT_HISTORY_ACTIONS}", name="hotspot_point_history_action_valid"),
    )


class HotspotAudit(Base):
    """Append-only (a trigger rejects UPDATE, DELETE and TRUNCATE): reads of restricted layers, writes to any."""

    __tablename__ = "hotspot_audit"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(32))
    layer_id: Mapped[str | None] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)
    __table_args__ = (sa.Index("ix_hotspot_audit_layer_at", "layer_id", "at"),)


class PatrolArea(Base):
    """A task force's planned patrol area (a drawn polygon, or a route widened by buffer_m)."""

    __tablename__ = "patrol_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    team: Mapped[str] = mapped_column(String(80), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    route = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=True)
    buffer_m: Mapped[float | None] = mapped_column(Float)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("date_to IS NULL OR date_from IS NULL OR date_to >= date_from",
                        name="patrol_areas_dates_ordered"),
    )


class PatrolAreaHistory(Base):
    __tablename__ = "patrol_area_history"
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    patrol_area_id: Mapped[int] = mapped_column(ForeignKey("patrol_areas.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    old = mapped_column(JSONB, nullable=True)
    new = mapped_column(JSONB, nullable=True)
