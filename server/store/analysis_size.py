"""SQL for sizing an analysis before running it: how big a boundary set is."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def set_size(session: Session, set_id: str) -> tuple[int, float, float]:
    """(areas, their total km², their bounding box's km² in British National Grid) of a boundary set."""
    count, km2, box_km2 = session.execute(text("""
        SELECT count(*), coalesce(sum(area_km2), 0),
               coalesce(ST_Area(ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 4326), 27700)) / 1e6, 0)
        FROM areas WHERE set_id = :set"""), {"set": set_id}).one()
    return int(count), float(km2), float(box_km2)
