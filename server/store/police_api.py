"""SQL for fetching police.uk crime from its API: the partnership's area, the pieces of a fetch under way, the
provenance of each month fetched, and the LSOA of a snap point (the API gives none)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# The partnership's area: the union of the current ward set grown a little, so that the snap points its generalised
# outline cuts off (up to 1.6 m outside it in 2022) are kept. The API is asked with a coarser outline around it (grown
# more, then simplified by less than the difference, so that it still covers the area) whose `poly` has ~200 points
# and fits in a GET URL; what it returns outside the area is left out.
AREA_GROWTH_METRES = 30
OUTLINE_GROWTH_METRES = 120
OUTLINE_SIMPLIFY_METRES = 80


def current_ward_set(session: Session) -> str | None:
    """The ward set in force: no end date, latest start."""
    return session.execute(text("""
        SELECT id FROM boundary_sets WHERE kind = 'ward'
        ORDER BY valid_to IS NULL DESC, valid_to DESC, valid_from DESC NULLS LAST, id DESC LIMIT 1""")).scalar()


def area_and_outline(session: Session, set_id: str) -> tuple[bytes, bytes]:
    """WKB (EPSG:4326) of the partnership's area and of the outline the API is asked with (grown and simplified in
    British National Grid metres)."""
    row = session.execute(text("""
        WITH u AS (SELECT ST_Transform(ST_Union(geom), 27700) AS geom FROM areas WHERE set_id = :set)
        SELECT ST_AsBinary(ST_Transform(ST_Buffer(geom, :area_growth), 4326)),
               ST_AsBinary(ST_Transform(ST_SimplifyPreserveTopology(ST_Buffer(geom, :outline_growth), :simplify),
                                        4326))
        FROM u"""), {"set": set_id, "area_growth": AREA_GROWTH_METRES, "outline_growth": OUTLINE_GROWTH_METRES,
                     "simplify": OUTLINE_SIMPLIFY_METRES}).one()
    return bytes(row[0]), bytes(row[1])


def loaded_months(session: Session) -> set[date]:
    """Months with records (from files or the API) or fetched from the API (a month may hold no crime)."""
    return set(session.execute(text("""
        SELECT DISTINCT month FROM crime_records UNION SELECT month FROM police_api_months""")).scalars())


def stored_pieces(session: Session, month: date, area_key: str) -> dict[str, list[dict[str, Any]]]:
    """The answers kept so far for this month and area; pieces of any other area are dropped."""
    session.execute(text("DELETE FROM police_api_pieces WHERE month = :month AND area_key <> :area"),
                    {"month": month, "area": area_key})
    rows = session.execute(text("""
        SELECT piece, crimes FROM police_api_pieces WHERE month = :month AND area_key = :area"""),
        {"month": month, "area": area_key}).all()
    return {piece: crimes for piece, crimes in rows}


def save_piece(session: Session, month: date, area_key: str, piece: str, crimes: list[dict[str, Any]]) -> None:
    session.execute(text("""
        INSERT INTO police_api_pieces (month, area_key, piece, crimes)
        VALUES (:month, :area, :piece, CAST(:crimes AS jsonb))
        ON CONFLICT (month, area_key, piece) DO UPDATE SET crimes = EXCLUDED.crimes, fetched_at = now()"""),
        {"month": month, "area": area_key, "piece": piece, "crimes": json.dumps(crimes)})


def clear_pieces(session: Session, month: date) -> None:
    session.execute(text("DELETE FROM police_api_pieces WHERE month = :month"), {"month": month})


def record_month(session: Session, month: date, *, fetched_at: datetime, api_last_updated: date | None, api_url: str,
                 records: int, inserted: int, requests: int, import_id: int | None) -> None:
    session.execute(text("""
        INSERT INTO police_api_months (month, fetched_at, api_last_updated, api_url, records, inserted, requests,
                                       import_id)
        VALUES (:month, :fetched_at, :last_updated, :url, :records, :inserted, :requests, :import_id)
        ON CONFLICT (month) DO UPDATE SET fetched_at = EXCLUDED.fetched_at,
            api_last_updated = EXCLUDED.api_last_updated, api_url = EXCLUDED.api_url, records = EXCLUDED.records,
            inserted = EXCLUDED.inserted,
            requests = EXCLUDED.requests, import_id = EXCLUDED.import_id"""),
        {"month": month, "fetched_at": fetched_at, "last_updated": api_last_updated, "url": api_url,
         "records": records, "inserted": inserted, "requests": requests, "import_id": import_id})


def api_months(session: Session, month_from: date | None = None, month_to: date | None = None) -> list[dict[str, Any]]:
    """Provenance of the months fetched from the API (oldest first), optionally within month_from..month_to."""
    rows = session.execute(text("""
        SELECT month, fetched_at, api_last_updated, api_url, records, inserted, requests FROM police_api_months
        WHERE month >= coalesce(CAST(:month_from AS date), '-infinity')
          AND month <= coalesce(CAST(:month_to AS date), 'infinity')
        ORDER BY month"""), {"month_from": month_from, "month_to": month_to}).mappings().all()
    return [dict(r) for r in rows]


def lsoa_of_points(session: Session, points: list[tuple[float, float]], month: date) -> dict[tuple[float, float],
                                                                                               tuple[str, str]]:
    """(code, name) of the LSOA of each (longitude, latitude) snap point: the one police.uk gave the same point in
    the loaded record of the nearest month; failing that, the loaded LSOA polygon that covers it (newest set).
    Points with neither are left out."""
    if not points:
        return {}
    rows = session.execute(text("""
        WITH p AS (SELECT DISTINCT lon, lat, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
                   FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS u(lon, lat))
        SELECT p.lon, p.lat, coalesce(seen.lsoa_code, polygon.code), coalesce(seen.lsoa_name, polygon.name)
        FROM p
        LEFT JOIN LATERAL (
            SELECT r.lsoa_code, r.lsoa_name FROM crime_records r
            WHERE r.geom && p.geom AND r.longitude = p.lon AND r.latitude = p.lat AND r.lsoa_code <> ''
            ORDER BY abs(r.month - CAST(:month AS date)), r.month DESC LIMIT 1) seen ON true
        LEFT JOIN LATERAL (
            SELECT a.code, a.name FROM areas a JOIN boundary_sets s ON s.id = a.set_id AND s.kind = 'lsoa'
            WHERE a.geom && p.geom AND ST_Covers(a.geom, p.geom)
            ORDER BY s.valid_from DESC NULLS LAST, a.code LIMIT 1) polygon ON true
        WHERE coalesce(seen.lsoa_code, polygon.code) IS NOT NULL"""),
        {"lons": [lon for lon, _ in points], "lats": [lat for _, lat in points], "month": month}).all()
    return {(lon, lat): (code, name) for lon, lat, code, name in rows}


def end_stale_fetch_jobs(session: Session, cache_key: str, hours: float) -> int:
    """Mark as failed the fetch jobs still 'running' (or 'queued') after `hours`: their worker died, and a job that
    stays active would make every later fetch follow it for ever. The next fetch resumes from the kept pieces."""
    return session.execute(text("""
        UPDATE jobs SET status = 'failed', finished_at = now(), message = 'failed',
               error = 'the fetch stopped without finishing (its worker ended); a later fetch goes on from there'
        WHERE cache_key = :key AND status IN ('queued', 'running')
          AND coalesce(started_at, created_at) < now() - make_interval(secs => :seconds)"""),
        {"key": cache_key, "seconds": hours * 3600}).rowcount
