"""GeoDataFrames read from PostGIS for analysis in Python (interpolation, spatial statistics)."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store import partnerships


def areas(session: Session, set_id: str) -> gpd.GeoDataFrame:
    """Areas of a set: code, name, area_km2 and geometry (EPSG:4326)."""
    sql = text("SELECT code, name, area_km2, geom FROM areas WHERE set_id = :s ORDER BY code")
    return gpd.read_postgis(sql, session.connection(), geom_col="geom", params={"s": set_id}).rename_geometry(
        "geometry")


def crime_points(session: Session, month_from: date | None = None, month_to: date | None = None,
                 crime_type_slugs: list[str] | None = None) -> gpd.GeoSeries:
    """Locations of police.uk records (records without coordinates are left out: they have no place)."""
    clauses, params = ["geom IS NOT NULL", partnerships.in_area("geom")], {}
    if month_from and month_to:
        clauses.append("month BETWEEN :a AND :b")
        params.update(a=month_from, b=month_to)
    if crime_type_slugs:
        clauses.append("crime_type_slug = ANY(:types)")
        params["types"] = list(crime_type_slugs)
    sql = text(f"SELECT geom FROM crime_records WHERE {' AND '.join(clauses)}")
    return gpd.read_postgis(sql, session.connection(), geom_col="geom", params=params).geometry
