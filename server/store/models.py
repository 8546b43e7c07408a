"""Tables of CSP Atlas. Every change here needs an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime

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
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()


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
