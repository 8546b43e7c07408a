"""SQL for patrol areas, their history, and what lies inside a patrol area."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

PATROL_COLUMNS = """p.id, p.name, p.team, p.buffer_m, p.date_from, p.date_to, p.notes, p.created_by, p.created_at,
    p.updated_at, p.archived_at, ST_AsGeoJSON(ST_ForcePolygonCCW(p.geom), 6) AS geometry,
    ST_AsGeoJSON(p.route, 6) AS route, ST_Area(p.geom::geography) / 1e6 AS area_km2"""
EDITABLE = ("name", "team", "date_from", "date_to", "notes", "geometry", "route", "buffer_m")
GEOM = "ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326)"


def _patrol(row: Any) -> dict[str, Any]:
    item = dict(row)
    item["geometry"] = json.loads(item["geometry"])
    item["route"] = json.loads(item["route"]) if item["route"] else None
    for key in ("date_from", "date_to", "created_at", "updated_at", "archived_at"):
        item[key] = item[key].isoformat() if item[key] else None
    return item


def create_patrol(session: Session, fields: dict[str, Any], username: str) -> dict[str, Any]:
    patrol_id = session.execute(text(f"""
        INSERT INTO patrol_areas (name, team, geom, route, buffer_m, date_from, date_to, notes, created_by)
        VALUES (:name, :team, ST_Multi({GEOM}),
                ST_SetSRID(ST_GeomFromGeoJSON(CAST(:route AS text)), 4326),
                :buffer_m, :date_from, :date_to, :notes, :user) RETURNING id"""),
        {**_params(fields), "user": username}).scalar_one()
    created = get_patrol(session, patrol_id)
    _record(session, patrol_id, "create", username, None, _history_view(created))
    return created


def _params(fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": fields["name"], "team": fields["team"], "geom": json.dumps(fields["geometry"]),
            "route": json.dumps(fields["route"]) if fields.get("route") else None,
            "buffer_m": fields.get("buffer_m"), "date_from": fields.get("date_from"),
            "date_to": fields.get("date_to"), "notes": fields.get("notes") or ""}


def get_patrol(session: Session, patrol_id: int) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {PATROL_COLUMNS} FROM patrol_areas p WHERE p.id = :id"),
                          {"id": patrol_id}).mappings().first()
    return _patrol(row) if row else None


def list_patrols(session: Session, team: str | None, include_archived: bool) -> list[dict[str, Any]]:
    """team None means every team (admins)."""
    clauses = ["TRUE"]
    if team is not None:
        clauses.append("p.team = :team")
    if not include_archived:
        clauses.append("p.archived_at IS NULL")
    rows = session.execute(text(f"SELECT {PATROL_COLUMNS} FROM patrol_areas p WHERE {' AND '.join(clauses)} "
                                "ORDER BY p.updated_at DESC, p.id DESC"), {"team": team}).mappings().all()
    return [_patrol(r) for r in rows]


def update_patrol(session: Session, patrol_id: int, fields: dict[str, Any], username: str) -> dict[str, Any]:
    before = get_patrol(session, patrol_id)
    merged = {**before, **fields}
    session.execute(text(f"""
        UPDATE patrol_areas SET name = :name, team = :team, geom = ST_Multi({GEOM}),
            route = ST_SetSRID(ST_GeomFromGeoJSON(CAST(:route AS text)), 4326),
            buffer_m = :buffer_m, date_from = :date_from, date_to = :date_to, notes = :notes, updated_at = now()
        WHERE id = :id"""), {**_params(merged), "id": patrol_id})
    after = get_patrol(session, patrol_id)
    old, new = _history_view(before), _history_view(after)
    changed = {k for k in new if old.get(k) != new.get(k)}
    _record(session, patrol_id, "update", username, {k: old[k] for k in changed}, {k: new[k] for k in changed})
    return after


def set_archived(session: Session, patrol_id: int, archived: bool, username: str) -> dict[str, Any]:
    session.execute(text("UPDATE patrol_areas SET archived_at = CASE WHEN :a THEN now() END, updated_at = now() "
                         "WHERE id = :id"), {"a": archived, "id": patrol_id})
    _record(session, patrol_id, "archive" if archived else "restore", username, None, None)
    return get_patrol(session, patrol_id)


def _history_view(patrol: dict[str, Any]) -> dict[str, Any]:
    return {k: patrol[k] for k in EDITABLE if k in patrol}


def _record(session: Session, patrol_id: int, action: str, username: str, old: dict | None, new: dict | None) -> None:
    session.execute(text("INSERT INTO patrol_area_history (patrol_area_id, action, changed_by, old, new) "
                         "VALUES (:id, :action, :user, CAST(:old AS jsonb), CAST(:new AS jsonb))"),
                    {"id": patrol_id, "action": action, "user": username,
                     "old": json.dumps(old, default=str) if old is not None else None,
                     "new": json.dumps(new, default=str) if new is not None else None})


def history(session: Session, patrol_id: int) -> list[dict[str, Any]]:
    rows = session.execute(text("SELECT action, changed_by, changed_at, old, new FROM patrol_area_history "
                                "WHERE patrol_area_id = :id ORDER BY id"), {"id": patrol_id}).mappings().all()
    return [{**dict(r), "changed_at": r["changed_at"].isoformat()} for r in rows]


def user_team(session: Session, username: str) -> str | None:
    return session.execute(text("SELECT team FROM users WHERE username = :u"), {"u": username}).scalar()


def set_user_team(session: Session, username: str, team: str | None) -> bool:
    return session.execute(text("UPDATE users SET team = :t WHERE username = :u"),
                           {"t": team, "u": username}).rowcount == 1


# --- what lies inside ----------------------------------------------------------------------------------


def overlapping_areas(session: Session, geometry: dict[str, Any]) -> list[dict[str, Any]]:
    """Every area of every boundary set the geometry touches, with the shares of each inside it."""
    rows = session.execute(text(f"""
        WITH g AS (SELECT {GEOM} AS geom), patrol AS (SELECT geom, ST_Area(geom::geography) AS size FROM g)
        SELECT a.set_id, s.title, s.kind, a.code, a.name, c.name AS cluster,
               ST_Area(ST_Intersection(a.geom, patrol.geom)::geography) / (a.area_km2 * 1e6) AS share_of_area,
               ST_Area(ST_Intersection(a.geom, patrol.geom)::geography) / patrol.size AS share_of_patrol
        FROM patrol JOIN areas a ON ST_Intersects(a.geom, patrol.geom)
        JOIN boundary_sets s ON s.id = a.set_id AND atlas_shows_set(s.id)
        LEFT JOIN cluster_members m ON m.set_id = a.set_id AND m.area_code = a.code
        LEFT JOIN ward_clusters c ON c.id = m.cluster_id
        ORDER BY s.kind, a.set_id, share_of_patrol DESC"""), {"geom": json.dumps(geometry)}).mappings().all()
    return [dict(r) for r in rows if r["share_of_patrol"] > 1e-6]


def crimes_inside(session: Session, geometry: dict[str, Any], period: tuple[date, date],
                  previous: tuple[date, date]) -> list[dict[str, Any]]:
    rows = session.execute(text(f"""
        SELECT r.crime_type AS type, r.crime_type_slug AS slug,
               count(*) FILTER (WHERE r.month BETWEEN :a AND :b) AS count,
               count(*) FILTER (WHERE r.month BETWEEN :pa AND :pb) AS previous
        FROM crime_records r
        WHERE ST_Covers({GEOM}, r.geom) AND (r.month BETWEEN :a AND :b OR r.month BETWEEN :pa AND :pb)
        GROUP BY r.crime_type, r.crime_type_slug ORDER BY count DESC, r.crime_type"""),
        {"geom": json.dumps(geometry), "a": period[0], "b": period[1], "pa": previous[0], "pb": previous[1]})
    return [dict(r) for r in rows.mappings()]


def borough_density(session: Session, set_id: str, period: tuple[date, date], codes: list[str]) -> float | None:
    """Crimes per km² over the areas `codes` of a boundary set (the borough's, where crime data covers it)."""
    row = session.execute(text("""
        SELECT (SELECT count(*) FROM crime_placements p JOIN crime_records r ON r.id = p.record_id
                WHERE p.set_id = :s AND p.area_code = ANY(:codes) AND r.month BETWEEN :a AND :b) AS crimes,
               (SELECT sum(area_km2) FROM areas WHERE set_id = :s AND code = ANY(:codes)) AS km2"""),
        {"s": set_id, "a": period[0], "b": period[1], "codes": codes}).mappings().one()
    return row["crimes"] / row["km2"] if row["km2"] else None


def current_ward_set(session: Session) -> str | None:
    return session.execute(text("SELECT id FROM boundary_sets WHERE kind = 'ward' AND atlas_shows_set(id) "
                                "ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST LIMIT 1")).scalar()
