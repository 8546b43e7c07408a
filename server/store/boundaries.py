"""SQL for boundary sets, areas, ward clusters and LSOA deprivation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store import crime


@dataclass
class BoundarySetMeta:
    id: str
    kind: str
    title: str
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""
    licence: str = ""
    code_field: str = ""
    name_field: str = ""


@dataclass
class LoadReport:
    set_id: str
    file: str
    features: int
    repaired: int
    replaced: bool
    source_crs: str
    orphaned_cluster_members: list[str]
    unplaced_crimes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class BoundaryData(Protocol):
    """A checked boundary file (server.domain.boundary_files.ValidatedBoundaries): records with code, name, wkb."""

    file: str
    source_crs: str
    checksum: str
    records: Sequence[Any]


class AreasWithoutArea(ValueError):
    """Polygons with no area once made valid; the caller names the file they came from."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__(f"{len(codes)} polygon(s) have no area once made valid: {', '.join(codes[:5])}")


def replace_boundary_set(session: Session, meta: BoundarySetMeta, data: BoundaryData) -> LoadReport:
    """Replace (or create) a set and all its areas inside the caller's transaction."""
    existed = session.execute(text("SELECT 1 FROM boundary_sets WHERE id = :id"), {"id": meta.id}).first()
    _upsert_set_row(session, meta, data)
    session.execute(text("DELETE FROM areas WHERE set_id = :id"), {"id": meta.id})
    session.execute(
        text("INSERT INTO areas (set_id, code, name, geom, area_km2) "
             "VALUES (:set_id, :code, :name, ST_GeomFromWKB(:wkb, 4326), 0)"),
        [{"set_id": meta.id, "code": r.code, "name": r.name, "wkb": r.wkb} for r in data.records],
    )
    repaired = _repair_invalid_geometries(session, meta.id)
    session.execute(
        text("UPDATE areas SET area_km2 = ST_Area(geom::geography) / 1e6 WHERE set_id = :id"),
        {"id": meta.id})
    orphans = session.execute(
        text("SELECT m.area_code FROM cluster_members m WHERE m.set_id = :id AND NOT EXISTS "
             "(SELECT 1 FROM areas a WHERE a.set_id = m.set_id AND a.code = m.area_code) "
             "ORDER BY m.area_code"), {"id": meta.id}).scalars().all()
    unplaced_crimes = crime.place_records(session, [meta.id])
    return LoadReport(set_id=meta.id, file=data.file, features=len(data.records), repaired=repaired,
                      replaced=existed is not None, source_crs=data.source_crs,
                      orphaned_cluster_members=list(orphans), unplaced_crimes=unplaced_crimes[meta.id])


def _upsert_set_row(session: Session, meta: BoundarySetMeta, data: BoundaryData) -> None:
    session.execute(
        text("""
        INSERT INTO boundary_sets (id, kind, title, valid_from, valid_to, source, licence, source_file,
                                   source_checksum, source_crs, code_field, name_field)
        VALUES (:id, :kind, :title, :valid_from, :valid_to, :source, :licence, :file, :checksum, :crs,
                :code_field, :name_field)
        ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title,
            valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, source = EXCLUDED.source,
            licence = EXCLUDED.licence, source_file = EXCLUDED.source_file,
            source_checksum = EXCLUDED.source_checksum, source_crs = EXCLUDED.source_crs,
            code_field = EXCLUDED.code_field, name_field = EXCLUDED.name_field, loaded_at = now()
        """),
        {**meta.__dict__, "file": data.file, "checksum": data.checksum, "crs": data.source_crs},
    )


def _repair_invalid_geometries(session: Session, set_id: str) -> int:
    repaired = session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) "
             "WHERE set_id = :id AND NOT ST_IsValid(geom) RETURNING code"), {"id": set_id}).scalars().all()
    collapsed = session.execute(
        text("SELECT code FROM areas WHERE set_id = :id AND (ST_IsEmpty(geom) OR ST_Area(geom) = 0)"),
        {"id": set_id}).scalars().all()
    if collapsed:
        raise AreasWithoutArea(list(collapsed))
    return len(repaired)


def boundary_set_checksum(session: Session, set_id: str) -> str | None:
    return session.execute(text("SELECT source_checksum FROM boundary_sets WHERE id = :id"),
                           {"id": set_id}).scalar()


def list_boundary_sets(session: Session, every_partnership: bool = False) -> list[dict[str, Any]]:
    """The sets the partnership this transaction acts for shows (migration 0015), or all of them."""
    shown = "TRUE" if every_partnership else "atlas_shows_set(s.id)"
    rows = session.execute(text(f"""
        SELECT s.id, s.kind, s.title, s.valid_from, s.valid_to, s.source, s.licence, s.loaded_at,
               -- counted from the (set_id, code) index, not by joining every area: 4 ms with England's LSOAs
               -- loaded, against 92 ms (every page asks for this list before it draws)
               (SELECT count(*) FROM areas a WHERE a.set_id = s.id) AS feature_count,
               (SELECT count(*) FROM populations p WHERE p.set_id = s.id) AS population_areas,
               (SELECT max(p.year) FROM populations p WHERE p.set_id = s.id) AS population_year
        FROM boundary_sets s
        WHERE {shown}
        ORDER BY s.kind, s.valid_from NULLS FIRST, s.id""")).mappings().all()
    return [dict(r) for r in rows]


def get_boundary_set(session: Session, set_id: str) -> dict[str, Any] | None:
    row = session.execute(text("SELECT * FROM boundary_sets WHERE id = :id"), {"id": set_id}).mappings().first()
    return dict(row) if row else None


# The areas of set :id with their cluster and deprivation (aliases a, m, c, d), as the features routes serve them.
_AREA_ROWS = """
    FROM areas a
    LEFT JOIN cluster_members m ON m.set_id = a.set_id AND m.area_code = a.code
    LEFT JOIN ward_clusters c ON c.id = m.cluster_id
    LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code
    WHERE a.set_id = :id"""

# One row per ward cluster of set :id: members, area and outline (the union of its wards).
_CLUSTER_ROWS = """
    SELECT c.number, c.name, c.cluster_type, c.derived, c.source,
           array_agg(a.code ORDER BY a.code) AS member_codes,
           array_agg(a.name ORDER BY a.code) AS member_names,
           sum(a.area_km2) AS area_km2,
           ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Multi(ST_Union(a.geom))), 6) AS geometry
    FROM ward_clusters c
    JOIN cluster_members m ON m.cluster_id = c.id
    JOIN areas a ON a.set_id = m.set_id AND a.code = m.area_code
    WHERE c.set_id = :id
    GROUP BY c.id"""


def _bbox_filter(set_id: str, bbox: tuple[float, float, float, float] | None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"id": set_id}
    if bbox is None:
        return "", params
    params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    return "AND a.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)", params


def area_features(session: Session, set_id: str,
                  bbox: tuple[float, float, float, float] | None = None) -> list[dict[str, Any]]:
    """Areas as GeoJSON feature dicts (right-hand rule, 6 decimals ≈ 0.1 m)."""
    bbox_filter, params = _bbox_filter(set_id, bbox)
    rows = session.execute(text(f"""
        SELECT a.code, a.name, a.area_km2, c.number AS cluster_number, c.name AS cluster_name,
               m.derived AS cluster_derived, d.imd_rank, d.imd_decile,
               ST_AsGeoJSON(ST_ForcePolygonCCW(a.geom), 6) AS geometry
        {_AREA_ROWS} {bbox_filter}
        ORDER BY a.code"""), params).mappings().all()
    return [_area_feature(row) for row in rows]


def _area_feature(row: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"code": row["code"], "name": row["name"],
                                  "area_km2": round(row["area_km2"], 4)}
    if row["cluster_number"] is not None:
        properties.update(cluster=row["cluster_name"], cluster_number=row["cluster_number"],
                          cluster_derived=row["cluster_derived"])
    if row["imd_rank"] is not None:
        properties.update(imd_rank=row["imd_rank"], imd_decile=row["imd_decile"])
    return {"type": "Feature", "id": row["code"], "properties": properties,
            "geometry": json.loads(row["geometry"])}


def cluster_features(session: Session, set_id: str) -> list[dict[str, Any]]:
    rows = session.execute(text(f"{_CLUSTER_ROWS} ORDER BY c.number"), {"id": set_id}).mappings().all()
    return [{
        "type": "Feature", "id": f"cluster-{r['number']}",
        "properties": {"number": r["number"], "name": r["name"], "type": r["cluster_type"],
                       "derived": r["derived"], "source": r["source"], "members": r["member_codes"],
                       "member_names": r["member_names"], "area_km2": round(r["area_km2"], 4)},
        "geometry": json.loads(r["geometry"]),
    } for r in rows]


# --- the same collections as GeoJSON text, assembled by PostGIS ----------------------------------------------
# The routes send these bodies as they come: parsing each geometry in Python (json.loads) cost 3.0 s of 3.6 s for
# England's 32,844 LSOAs. Same members, properties, order and coordinates as area_features / cluster_features
# (tests/test_features_geojson.py).

# _area_feature's properties: the cluster and the deprivation keys only when the area has them.
_AREA_PROPERTIES = """
    jsonb_build_object('code', a.code, 'name', a.name, 'area_km2', round(a.area_km2::numeric, 4))
    || CASE WHEN c.number IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
           'cluster', c.name, 'cluster_number', c.number, 'cluster_derived', m.derived) END
    || CASE WHEN d.imd_rank IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
           'imd_rank', d.imd_rank, 'imd_decile', d.imd_decile) END"""


def _area_collection_sql(bbox_filter: str) -> str:
    return f"""
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce((
                SELECT json_agg(json_build_object(
                           'type', 'Feature', 'id', a.code, 'properties', {_AREA_PROPERTIES},
                           'geometry', ST_AsGeoJSON(ST_ForcePolygonCCW(a.geom), 6)::json) ORDER BY a.code)
                {_AREA_ROWS} {bbox_filter}), '[]'::json),
            'boundary_set', json_build_object('id', s.id, 'title', s.title, 'valid_from', s.valid_from,
                                              'valid_to', s.valid_to, 'licence', s.licence))::text
        FROM boundary_sets s WHERE s.id = :id"""


_CLUSTER_COLLECTION = f"""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', 'cluster-' || k.number,
        'properties', json_build_object('number', k.number, 'name', k.name, 'type', k.cluster_type,
                                        'derived', k.derived, 'source', k.source, 'members', k.member_codes,
                                        'member_names', k.member_names, 'area_km2', round(k.area_km2::numeric, 4)),
        'geometry', k.geometry::json) ORDER BY k.number), '[]'::json))::text
    FROM ({_CLUSTER_ROWS}) k"""


def area_features_geojson(session: Session, set_id: str,
                          bbox: tuple[float, float, float, float] | None = None) -> bytes | None:
    """area_features as one RFC 7946 FeatureCollection in UTF-8, with the set in a `boundary_set` member; None
    when there is no such set."""
    bbox_filter, params = _bbox_filter(set_id, bbox)
    body = session.execute(text(_area_collection_sql(bbox_filter)), params).scalar()
    return body.encode() if body is not None else None


def cluster_features_geojson(session: Session, set_id: str) -> bytes:
    """cluster_features as one RFC 7946 FeatureCollection in UTF-8."""
    return session.execute(text(_CLUSTER_COLLECTION), {"id": set_id}).scalar_one().encode()


def has_clusters(session: Session, set_id: str) -> bool:
    return session.execute(text("SELECT 1 FROM ward_clusters WHERE set_id = :id LIMIT 1"),
                           {"id": set_id}).first() is not None


@dataclass
class ClusterDefinition:
    number: int
    cluster_type: str
    members: list[str]


def replace_clusters(session: Session, set_id: str, clusters: list[ClusterDefinition], source: str) -> None:
    session.execute(text("DELETE FROM ward_clusters WHERE set_id = :id"), {"id": set_id})
    for cluster in clusters:
        cluster_id = session.execute(
            text("INSERT INTO ward_clusters (set_id, number, name, cluster_type, derived, source) "
                 "VALUES (:set_id, :number, :name, :type, false, :source) RETURNING id"),
            {"set_id": set_id, "number": cluster.number, "name": f"Cluster {cluster.number}",
             "type": cluster.cluster_type, "source": source}).scalar_one()
        session.execute(
            text("INSERT INTO cluster_members (cluster_id, set_id, area_code, derived) "
                 "VALUES (:cluster_id, :set_id, :code, false)"),
            [{"cluster_id": cluster_id, "set_id": set_id, "code": code} for code in cluster.members])


def derive_clusters(session: Session, target_set: str, source_set: str) -> list[dict[str, Any]]:
    """Give each ward of target_set the source cluster it overlaps most (by area, in PostGIS)."""
    session.execute(text("DELETE FROM ward_clusters WHERE set_id = :id"), {"id": target_set})
    session.execute(text("""
        INSERT INTO ward_clusters (set_id, number, name, cluster_type, derived, source)
        SELECT :target, number, name, cluster_type, true,
               'Derived from ' || :source || ' clusters by largest overlapping area'
        FROM ward_clusters WHERE set_id = :source"""), {"target": target_set, "source": source_set})
    assignments = session.execute(text("""
        WITH pieces AS (
            SELECT t.code, c.number,
                   ST_Area(ST_Intersection(t.geom, s.geom)::geography) AS shared,
                   ST_Area(t.geom::geography) AS whole
            FROM areas t
            JOIN areas s ON s.set_id = :source AND ST_Intersects(t.geom, s.geom)
            JOIN cluster_members m ON m.set_id = s.set_id AND m.area_code = s.code
            JOIN ward_clusters c ON c.id = m.cluster_id
            WHERE t.set_id = :target
        ), per_cluster AS (
            SELECT code, number, sum(shared) / max(whole) AS share FROM pieces GROUP BY code, number
        )
        SELECT DISTINCT ON (code) code, number, share FROM per_cluster
        ORDER BY code, share DESC"""), {"target": target_set, "source": source_set}).mappings().all()
    session.execute(text("""
        INSERT INTO cluster_members (cluster_id, set_id, area_code, derived, overlap_share)
        SELECT c.id, c.set_id, :code, true, :share FROM ward_clusters c
        WHERE c.set_id = :target AND c.number = :number"""),
        [{"target": target_set, **a} for a in assignments])
    return [dict(a) for a in assignments]


def assign_ward_to_cluster(session: Session, set_id: str, ward_code: str, cluster_number: int) -> None:
    """A GIS officer's decision: replaces any derived membership of that ward."""
    cluster_id = session.execute(
        text("SELECT id FROM ward_clusters WHERE set_id = :s AND number = :n"),
        {"s": set_id, "n": cluster_number}).scalar()
    if cluster_id is None:
        raise LookupError(f"boundary set {set_id} has no cluster {cluster_number}")
    if not session.execute(text("SELECT 1 FROM areas WHERE set_id = :s AND code = :c"),
                           {"s": set_id, "c": ward_code}).first():
        raise LookupError(f"boundary set {set_id} has no ward {ward_code}")
    session.execute(text("DELETE FROM cluster_members WHERE set_id = :s AND area_code = :c"),
                    {"s": set_id, "c": ward_code})
    session.execute(text("INSERT INTO cluster_members (cluster_id, set_id, area_code, derived) "
                         "VALUES (:id, :s, :c, false)"), {"id": cluster_id, "s": set_id, "c": ward_code})


def upsert_deprivation(session: Session, rows: list[dict[str, Any]], source: str) -> int:
    """Add or update these LSOAs' deprivation; other LSOAs' (another partnership's) are left as they are."""
    session.execute(
        text("INSERT INTO lsoa_deprivation (lsoa_code, imd_rank, imd_decile, source) "
             "VALUES (:code, :rank, :decile, :source) ON CONFLICT (lsoa_code) DO UPDATE SET "
             "imd_rank = EXCLUDED.imd_rank, imd_decile = EXCLUDED.imd_decile, source = EXCLUDED.source"),
        [{**row, "source": source} for row in rows])
    return len(rows)


def deprivation_up_to_date(session: Session, codes: Sequence[str], source: str) -> bool:
    """Whether every one of these LSOAs already has deprivation from this source."""
    held = session.execute(text("SELECT count(*) FROM lsoa_deprivation WHERE lsoa_code = ANY(:codes) "
                                "AND source = :source"), {"codes": list(codes), "source": source}).scalar_one()
    return held == len(set(codes))


def area_codes(session: Session, set_id: str) -> set[str]:
    return set(session.execute(text("SELECT code FROM areas WHERE set_id = :id"), {"id": set_id}).scalars())


def area_count(session: Session, set_id: str) -> int:
    return session.execute(text("SELECT count(*) FROM areas WHERE set_id = :id"), {"id": set_id}).scalar_one()


def area_names(session: Session, set_id: str) -> dict[str, str]:
    rows = session.execute(text("SELECT code, name FROM areas WHERE set_id = :s"), {"s": set_id})
    return dict(rows.all())
