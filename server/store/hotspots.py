"""SQL for hotspot layers: layers and grants, the gazetteer, points with their history, the audit log, and the
coordinates the hotspot statistics read (police.uk crime and layer points).

A point's location is its own point, else the point of its named place (so placing a place places its records);
records at an unplaced place, and area-level records (a borough total), have none. Deleted points stay in the table
(deleted_at set) and are left out unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store import pages

LOCATION = "COALESCE(p.geom, pl.geom)"
POINT_COLUMNS = f"""
    p.id, p.layer_id, p.place_id, pl.name AS place_name, pl.note AS place_note, p.place_name_given, p.area_code,
    p.observed_from, p.observed_to, p.count, p.category, p.notes, p.source, p.recorded_by, p.recorded_at,
    p.updated_by, p.updated_at, p.deleted_by, p.deleted_at,
    ST_X(p.geom) AS own_lon, ST_Y(p.geom) AS own_lat,
    CASE WHEN p.geom IS NOT NULL THEN 'point' WHEN pl.geom IS NOT NULL THEN 'place' END AS located_by,
    ST_AsGeoJSON({LOCATION}, 6) AS geometry"""


# --- layers and grants --------------------------------------------------------------------------------------------

def list_layers(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text("SELECT * FROM hotspot_layers ORDER BY sensitivity, id")).mappings().all()
    return [dict(r) for r in rows]


def get_layer(session: Session, layer_id: str) -> dict[str, Any] | None:
    row = session.execute(text("SELECT * FROM hotspot_layers WHERE id = :id"), {"id": layer_id}).mappings().first()
    return dict(row) if row else None


def grants_of_user(session: Session, user_id: int) -> dict[str, str]:
    rows = session.execute(text("SELECT layer_id, access FROM hotspot_grants WHERE user_id = :u"), {"u": user_id})
    return dict(rows.all())


def layer_grants(session: Session, layer_id: str) -> list[dict[str, Any]]:
    rows = session.execute(text("""
        SELECT u.username, u.role, u.active, g.access, g.granted_by, g.granted_at
        FROM hotspot_grants g JOIN users u ON u.id = g.user_id
        WHERE g.layer_id = :l ORDER BY u.username"""), {"l": layer_id}).mappings().all()
    return [dict(r) for r in rows]


def set_grant(session: Session, layer_id: str, user_id: int, access: str, granted_by: str) -> str | None:
    """Grant or change access; returns the access held before (None if there was none)."""
    before = session.execute(text("SELECT access FROM hotspot_grants WHERE layer_id = :l AND user_id = :u"),
                             {"l": layer_id, "u": user_id}).scalar()
    session.execute(text("""
        INSERT INTO hotspot_grants (layer_id, user_id, access, granted_by) VALUES (:l, :u, :a, :by)
        ON CONFLICT (layer_id, user_id) DO UPDATE SET access = EXCLUDED.access, granted_by = EXCLUDED.granted_by,
            granted_at = now()"""), {"l": layer_id, "u": user_id, "a": access, "by": granted_by})
    return before


def remove_grant(session: Session, layer_id: str, user_id: int) -> bool:
    result = session.execute(text("DELETE FROM hotspot_grants WHERE layer_id = :l AND user_id = :u"),
                             {"l": layer_id, "u": user_id})
    return result.rowcount > 0


# --- audit log ----------------------------------------------------------------------------------------------------

def audit(session: Session, username: str, role: str, action: str, layer_id: str | None, feature_count: int,
          detail: dict[str, Any] | None = None) -> None:
    session.execute(text("""
        INSERT INTO hotspot_audit (username, role, action, layer_id, feature_count, detail)
        VALUES (:user, :role, :action, :layer, :count, CAST(:detail AS jsonb))"""),
        {"user": username, "role": role, "action": action, "layer": layer_id, "count": feature_count,
         "detail": json.dumps(detail or {}, default=str, sort_keys=True)})


def audit_entries(session: Session, *, layer_id: str | None = None, username: str | None = None,
                  action: str | None = None, before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    return pages.newest_first(session, "hotspot_audit",
                              "id, at, username, role, action, layer_id, feature_count, detail",
                              {"layer_id": layer_id, "username": username, "action": action}, before_id, limit)


# --- gazetteer ----------------------------------------------------------------------------------------------------

PLACE_COLUMNS = """g.id, g.name, g.name_key, g.aliases, g.layer_id, g.note, g.sources, g.placed_by, g.placed_at,
    g.created_by, g.created_at, ST_X(g.geom) AS lon, ST_Y(g.geom) AS lat"""


def places_in_scope(session: Session, layer_ids: Iterable[str] | None) -> list[dict[str, Any]]:
    """Shared places and the places private to these layers (None: every place)."""
    scope = "TRUE" if layer_ids is None else "(g.layer_id IS NULL OR g.layer_id = ANY(:layers))"
    rows = session.execute(text(f"SELECT {PLACE_COLUMNS} FROM gazetteer_places g WHERE {scope} ORDER BY g.name, g.id"),
                           {"layers": list(layer_ids or [])}).mappings().all()
    return [dict(r) for r in rows]


def get_place(session: Session, place_id: int) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {PLACE_COLUMNS} FROM gazetteer_places g WHERE g.id = :id"),
                          {"id": place_id}).mappings().first()
    return dict(row) if row else None


def record_counts_by_place(session: Session, layer_ids: list[str]) -> dict[int, dict[str, int]]:
    """place id -> layer id -> records (not deleted), for these layers only."""
    rows = session.execute(text("""
        SELECT place_id, layer_id, count(*) FROM hotspot_points
        WHERE place_id IS NOT NULL AND deleted_at IS NULL AND layer_id = ANY(:layers)
        GROUP BY place_id, layer_id"""), {"layers": layer_ids}).all()
    counts: dict[int, dict[str, int]] = {}
    for place_id, layer_id, count in rows:
        counts.setdefault(place_id, {})[layer_id] = count
    return counts


def create_place(session: Session, *, name: str, name_key: str, layer_id: str | None, created_by: str,
                 lon: float | None = None, lat: float | None = None, note: str = "",
                 sources: list[dict[str, Any]] | None = None, aliases: list[str] | None = None) -> int:
    placed = lon is not None and lat is not None
    return session.execute(text("""
        INSERT INTO gazetteer_places (name, name_key, aliases, layer_id, geom, note, sources, placed_by, placed_at,
                                      created_by)
        VALUES (:name, :key, CAST(:aliases AS jsonb), :layer,
                CASE WHEN :placed THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END, :note,
                CAST(:sources AS jsonb), CASE WHEN :placed THEN :by END, CASE WHEN :placed THEN now() END, :by)
        RETURNING id"""),
        {"name": name, "key": name_key, "aliases": json.dumps(aliases or []), "layer": layer_id, "placed": placed,
         "lon": lon, "lat": lat, "note": note, "sources": json.dumps(sources or []), "by": created_by}).scalar_one()


def set_place_location(session: Session, place_id: int, lon: float, lat: float, placed_by: str,
                       source: dict[str, Any] | None = None) -> None:
    session.execute(text("""
        UPDATE gazetteer_places SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), placed_by = :by,
            placed_at = now(), sources = sources || CAST(:source AS jsonb)
        WHERE id = :id"""),
        {"id": place_id, "lon": lon, "lat": lat, "by": placed_by, "source": json.dumps([source] if source else [])})


def add_place_sources(session: Session, place_id: int, sources: list[dict[str, Any]]) -> None:
    session.execute(text("UPDATE gazetteer_places SET sources = sources || CAST(:s AS jsonb) WHERE id = :id"),
                    {"id": place_id, "s": json.dumps(sources)})


def points_located_by_place(session: Session, place_id: int) -> list[dict[str, Any]]:
    """Points (not deleted) whose location is their place's: placing the place moves them."""
    rows = session.execute(text("""
        SELECT id, layer_id FROM hotspot_points
        WHERE place_id = :id AND geom IS NULL AND deleted_at IS NULL ORDER BY id"""), {"id": place_id}).mappings()
    return [dict(r) for r in rows]


# --- points -------------------------------------------------------------------------------------------------------

def _filters(layer_id: str, date_from: date | None, date_to: date | None, deleted: str) -> tuple[list[str],
                                                                                                dict[str, Any]]:
    clauses = ["p.layer_id = :layer"]
    params: dict[str, Any] = {"layer": layer_id}
    if date_from is not None:
        clauses.append("p.observed_to >= :date_from")
        params["date_from"] = date_from
    if date_to is not None:
        clauses.append("p.observed_from <= :date_to")
        params["date_to"] = date_to
    clauses.append({"exclude": "p.deleted_at IS NULL", "only": "p.deleted_at IS NOT NULL", "include": "TRUE"}[deleted])
    return clauses, params


def located_points(session: Session, layer_id: str, date_from: date | None = None, date_to: date | None = None,
                   bbox: tuple[float, float, float, float] | None = None,
                   deleted: str = "exclude") -> list[dict[str, Any]]:
    """Points with a location (own or their place's), oldest observation first."""
    clauses, params = _filters(layer_id, date_from, date_to, deleted)
    clauses.append(f"{LOCATION} IS NOT NULL")
    if bbox is not None:
        clauses.append(f"{LOCATION} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    rows = session.execute(text(f"""
        SELECT {POINT_COLUMNS} FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE {' AND '.join(clauses)} ORDER BY p.observed_from, p.id"""), params).mappings().all()
    return [dict(r) for r in rows]


def unlocated_points(session: Session, layer_id: str, area_level: bool, date_from: date | None = None,
                     date_to: date | None = None, deleted: str = "exclude") -> list[dict[str, Any]]:
    """area_level: records for a whole area (area_code); else records at places that have no point yet."""
    clauses, params = _filters(layer_id, date_from, date_to, deleted)
    clauses.append(f"{LOCATION} IS NULL")
    clauses.append("p.area_code IS NOT NULL AND p.place_id IS NULL" if area_level else "p.place_id IS NOT NULL")
    rows = session.execute(text(f"""
        SELECT {POINT_COLUMNS} FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE {' AND '.join(clauses)} ORDER BY pl.name NULLS FIRST, p.observed_from, p.id"""), params).mappings().all()
    return [dict(r) for r in rows]


def point_summary(session: Session, layer_id: str, date_from: date | None = None,
                  date_to: date | None = None) -> dict[str, int]:
    clauses, params = _filters(layer_id, date_from, date_to, "exclude")
    row = session.execute(text(f"""
        SELECT count(*) FILTER (WHERE {LOCATION} IS NOT NULL) AS located,
               count(*) FILTER (WHERE {LOCATION} IS NULL AND p.place_id IS NOT NULL) AS unplaced,
               count(*) FILTER (WHERE {LOCATION} IS NULL AND p.place_id IS NULL) AS area_level
        FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE {' AND '.join(clauses)}"""), params).mappings().one()
    return dict(row)


def get_point(session: Session, layer_id: str, point_id: int) -> dict[str, Any] | None:
    """One point of a layer, deleted or not (None if the layer has no such point)."""
    row = session.execute(text(f"""
        SELECT {POINT_COLUMNS} FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE p.layer_id = :layer AND p.id = :id"""), {"layer": layer_id, "id": point_id}).mappings().first()
    return dict(row) if row else None


def insert_point(session: Session, layer_id: str, values: dict[str, Any], recorded_by: str, source: str = "",
                 seed_key: str | None = None) -> int:
    """values: lon, lat, place_id, place_name_given, area_code, observed_from, observed_to, count, category, notes."""
    return session.execute(text("""
        INSERT INTO hotspot_points (layer_id, geom, place_id, place_name_given, area_code, observed_from, observed_to,
                                    count, category, notes, source, seed_key, recorded_by)
        VALUES (:layer, CASE WHEN CAST(:lon AS float8) IS NOT NULL
                             THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
                :place_id, :place_name_given, :area_code, :observed_from, :observed_to, :count, :category, :notes,
                :source, :seed_key, :by)
        RETURNING id"""),
        {"layer": layer_id, "source": source, "seed_key": seed_key, "by": recorded_by,
         **{k: values.get(k) for k in ("lon", "lat", "place_id", "area_code", "observed_from", "observed_to",
                                       "count")},
         **{k: values.get(k) or "" for k in ("place_name_given", "category", "notes")}}).scalar_one()


UPDATABLE = ("place_id", "place_name_given", "observed_from", "observed_to", "count", "category", "notes")


def update_point(session: Session, point_id: int, changes: dict[str, Any], updated_by: str) -> None:
    """changes: any of UPDATABLE, and lon/lat (None to remove the point's own location)."""
    sets = [f"{column} = :{column}" for column in UPDATABLE if column in changes]
    params = {column: changes[column] for column in UPDATABLE if column in changes}
    if "lon" in changes:
        sets.append("geom = CASE WHEN CAST(:lon AS float8) IS NOT NULL "
                    "THEN ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END")
        params.update(lon=changes["lon"], lat=changes.get("lat"))
    session.execute(text(f"""
        UPDATE hotspot_points SET {', '.join([*sets, 'updated_by = :by', 'updated_at = now()'])}
        WHERE id = :id"""), {**params, "id": point_id, "by": updated_by})


def set_deleted(session: Session, point_id: int, deleted_by: str | None) -> None:
    """Soft delete (deleted_by given) or restore (None)."""
    session.execute(text("""
        UPDATE hotspot_points SET deleted_by = :by, deleted_at = CASE WHEN :deleted THEN now() END,
            updated_by = COALESCE(:by, updated_by)
        WHERE id = :id"""), {"id": point_id, "by": deleted_by, "deleted": deleted_by is not None})


def add_history(session: Session, rows: list[dict[str, Any]]) -> None:
    """rows: point_id, layer_id, action, changed_by, old_values, new_values."""
    if not rows:
        return
    session.execute(text("""
        INSERT INTO hotspot_point_history (point_id, layer_id, action, changed_by, old_values, new_values)
        VALUES (:point_id, :layer_id, :action, :changed_by, CAST(:old AS jsonb), CAST(:new AS jsonb))"""),
        [{**{k: r[k] for k in ("point_id", "layer_id", "action", "changed_by")},
          "old": None if r.get("old_values") is None else json.dumps(r["old_values"], default=str),
          "new": None if r.get("new_values") is None else json.dumps(r["new_values"], default=str)} for r in rows])


def point_history(session: Session, point_id: int) -> list[dict[str, Any]]:
    rows = session.execute(text("""
        SELECT id, action, changed_by, changed_at, old_values, new_values FROM hotspot_point_history
        WHERE point_id = :id ORDER BY id"""), {"id": point_id}).mappings().all()
    return [dict(r) for r in rows]


def existing_seed_keys(session: Session, prefix: str) -> set[str]:
    return set(session.execute(text("SELECT seed_key FROM hotspot_points WHERE seed_key LIKE :p"),
                               {"p": prefix + "%"}).scalars())


# --- coordinates for the statistics -------------------------------------------------------------------------------

def layer_coordinates(session: Session, layer_id: str, date_from: date | None,
                      date_to: date | None) -> list[tuple[float, float, int | None]]:
    """(lon, lat, count) of a layer's located points that are not deleted."""
    clauses, params = _filters(layer_id, date_from, date_to, "exclude")
    clauses.append(f"{LOCATION} IS NOT NULL")
    rows = session.execute(text(f"""
        SELECT ST_X({LOCATION}), ST_Y({LOCATION}), p.count
        FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE {' AND '.join(clauses)} ORDER BY p.id"""), params).all()
    return [(x, y, count) for x, y, count in rows]


def crime_coordinates(session: Session, month_from: date, month_to: date, include_slugs: list[str] | None,
                      exclude_slugs: list[str] | None) -> tuple[list[tuple[float, float]], int]:
    """(lon, lat) of police.uk records of the period (crime_records only), and how many had no location."""
    clauses = ["month BETWEEN :a AND :b"]
    params: dict[str, Any] = {"a": month_from, "b": month_to}
    if include_slugs is not None:
        clauses.append("crime_type_slug = ANY(:include)")
        params["include"] = include_slugs
    if exclude_slugs:
        clauses.append("crime_type_slug <> ALL(:exclude)")
        params["exclude"] = exclude_slugs
    where = " AND ".join(clauses)
    rows = session.execute(text(f"SELECT longitude, latitude FROM crime_records WHERE {where} AND geom IS NOT NULL "
                                "ORDER BY id"), params).all()
    missing = session.execute(text(f"SELECT count(*) FROM crime_records WHERE {where} AND geom IS NULL"),
                              params).scalar_one()
    return [(x, y) for x, y in rows], missing


def study_area_set(session: Session) -> str | None:
    """The boundary set whose union outlines the study area: an LSOA set if loaded, else a ward set."""
    return session.execute(text("""
        SELECT s.id FROM boundary_sets s
        WHERE atlas_shows_set(s.id) AND EXISTS (SELECT 1 FROM areas a WHERE a.set_id = s.id)
        ORDER BY (s.kind = 'lsoa') DESC, (s.kind = 'ward') DESC, s.valid_from DESC NULLS LAST, s.id
        LIMIT 1""")).scalar()


def points_inside(session: Session, layer_id: str, geometry_geojson: str, date_from: date | None,
                  date_to: date | None) -> dict[str, Any]:
    """Records of a layer located inside a geometry (own point or their place's), and their summed count."""
    clauses, params = _filters(layer_id, date_from, date_to, "exclude")
    clauses.append(f"ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326), {LOCATION})")
    row = session.execute(text(f"""
        SELECT count(*) AS records, coalesce(sum(coalesce(p.count, 1)), 0) AS weight
        FROM hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id
        WHERE {' AND '.join(clauses)}"""), {**params, "geom": geometry_geojson}).mappings().one()
    return dict(row)


# --- the partnership area: where records may lie --------------------------------------------------------------------


def partnership_distances(session: Session, points: list[tuple[float, float]],
                          buffer_metres: float) -> tuple[str, list[float]] | None:
    """The current ward set and how far (metres) each lon/lat point lies beyond the union of its wards grown by
    buffer_metres (0 when within); None when no ward set is loaded. One query whatever the number of points, measured
    on the British National Grid."""
    found = session.execute(text("""
        WITH ward_set AS (
            SELECT s.id FROM boundary_sets s
            WHERE s.kind = 'ward' AND atlas_shows_set(s.id) AND EXISTS (SELECT 1 FROM areas a WHERE a.set_id = s.id)
            ORDER BY s.valid_to IS NULL DESC, s.valid_from DESC NULLS LAST, s.id LIMIT 1),
        area AS (SELECT ST_Transform(ST_Union(a.geom), 27700) AS geom FROM areas a
                 WHERE a.set_id = (SELECT id FROM ward_set))
        SELECT (SELECT id FROM ward_set) AS set_id,
               ARRAY(SELECT greatest(0, ST_Distance(area.geom, ST_Transform(ST_SetSRID(ST_MakePoint(p.lon, p.lat),
                                                                                       4326), 27700)) - :buffer)
                     FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, i)
                     ORDER BY p.i) AS beyond
        FROM area"""), {"lons": [p[0] for p in points], "lats": [p[1] for p in points],
                         "buffer": buffer_metres}).mappings().first()
    if found is None or found["set_id"] is None:
        return None
    return found["set_id"], [float(d) for d in found["beyond"]]
