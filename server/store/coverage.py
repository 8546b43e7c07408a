"""SQL for where and when the imported police.uk records give crime data (their coverage).

police.uk files are published per force and month; the files we are given may be cut to a district. A record's
LSOA name ("Maidstone 001A") names its local authority district, so the unit of coverage is the district: it is
covered in a month when the imports hold records of that district for that month. An area of a boundary set has
data for a period when a district covered in every month of the period (that has any data) holds it:
- its representative point lies in a loaded LSOA polygon of such a district (so an area with no crime at all
  still reads 0), or
- for a district whose LSOAs are not loaded, a record of that district (of any month) lies inside it (police.uk
  snap points near a border can fall just over it, so LSOA polygons, where loaded, are the better guide).
Everything else has no data for the period: it is not 0.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store.versioned import per_data_version

# "Maidstone 001A" -> "Maidstone"; "Tunbridge Wells 012C" -> "Tunbridge Wells".
DISTRICT = r"regexp_replace({name}, '\s+[0-9]{{3}}[A-Z]$', '')"
_RECORD_DISTRICT = DISTRICT.format(name="r.lsoa_name")

_DISTRICT_MONTHS = f"""
    SELECT {_RECORD_DISTRICT} AS district, count(DISTINCT r.month) AS months
    FROM crime_records r
    WHERE r.month BETWEEN :month_from AND :month_to AND r.lsoa_name <> ''
    GROUP BY 1"""

_FULL_DISTRICTS = f"""
    months AS (SELECT count(DISTINCT month) AS n FROM crime_records WHERE month BETWEEN :month_from AND :month_to),
    full_districts AS (
        SELECT d.district FROM ({_DISTRICT_MONTHS}) d, months WHERE d.months = months.n)"""

_LSOA_DISTRICT = DISTRICT.format(name="l.name")


def _in_covered_lsoa(point: str) -> str:
    """Whether a point lies in a loaded LSOA of a fully covered district. OFFSET 0 keeps the bounding-box test
    inside the subquery, so that each point is looked up through the areas' GiST index (left to itself the planner
    may read every LSOA for every point: England has 32,844)."""
    return f"""EXISTS (
        SELECT 1 FROM (SELECT g.set_id, g.name, g.geom FROM areas g WHERE g.geom && {point} OFFSET 0) l
        JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
        WHERE ST_Covers(l.geom, {point}) AND {_LSOA_DISTRICT} IN (SELECT district FROM full_districts))"""


# Fully covered districts with no LSOA loaded: for these, where their records lie is the only guide.
_UNMAPPED_DISTRICTS = f"""
    unmapped_districts AS (
        SELECT f.district FROM full_districts f
        WHERE NOT EXISTS (SELECT 1 FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
                          WHERE {_LSOA_DISTRICT} = f.district))"""


@per_data_version
def district_months(session: Session, month_from: date, month_to: date) -> dict[str, int]:
    """Per district named by the records' LSOA names: how many months of the period it has records for."""
    rows = session.execute(text(_DISTRICT_MONTHS), {"month_from": month_from, "month_to": month_to}).all()
    return {district: months for district, months in rows}


@per_data_version
def covered_area_codes(session: Session, set_id: str, month_from: date, month_to: date) -> frozenset[str]:
    """The codes of the areas of a set that have crime data for every month of the period that has any."""
    rows = session.execute(text(f"""
        WITH {_FULL_DISTRICTS}, {_UNMAPPED_DISTRICTS}
        SELECT a.code FROM areas a CROSS JOIN LATERAL (SELECT ST_PointOnSurface(a.geom) AS point) inner_point
        WHERE a.set_id = :set AND {_in_covered_lsoa("inner_point.point")}
        UNION
        SELECT DISTINCT p.area_code FROM crime_placements p JOIN crime_records r ON r.id = p.record_id
        WHERE p.set_id = :set AND p.method = 'within'
          AND {_RECORD_DISTRICT} IN (SELECT district FROM unmapped_districts)"""),
        {"set": set_id, "month_from": month_from, "month_to": month_to}).scalars()
    return frozenset(rows)


def geometry_covered(session: Session, geometry: dict[str, Any], month_from: date, month_to: date,
                     reach_m: float = 500) -> bool:
    """Whether a drawn area (a patrol) lies where the records give crime data for the period: its representative
    point in an LSOA of a fully covered district, or a record of such a district within reach_m of it."""
    return bool(session.execute(text(f"""
        WITH {_FULL_DISTRICTS}, {_UNMAPPED_DISTRICTS},
        drawn AS (SELECT ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326)) AS point,
                         ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326) AS geom)
        SELECT EXISTS (SELECT 1 FROM drawn WHERE {_in_covered_lsoa("drawn.point")})
            OR EXISTS (SELECT 1 FROM crime_records r, drawn d
                       WHERE r.geom && ST_Expand(d.geom, 0.01)
                         AND ST_DWithin(r.geom::geography, d.geom::geography, :reach)
                         AND {_RECORD_DISTRICT} IN (SELECT district FROM unmapped_districts))"""),
        {"geom": json.dumps(geometry), "month_from": month_from, "month_to": month_to,
         "reach": reach_m}).scalar_one())
