"""SQL for the partnership's annotations (statements of the assessment tied to places) and the borough-level
figures of hotspot layers. Who may see a layer's figures is decided in server/domain/hotspot_records.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

ANNOTATION_COLUMNS = ("id", "kind", "title", "boundary_set", "area_codes", "paragraph", "source_line", "quote",
                      "figure", "note")
STATISTIC_COLUMNS = ("key", "label", "value", "unit", "period", "geography", "paragraph", "source_line", "quote",
                     "source")


def annotations_source(session: Session) -> str | None:
    return session.execute(text("SELECT min(source) FROM partnership_annotations")).scalar()


def missing_area_codes(session: Session, boundary_set: str, codes: list[str]) -> list[str]:
    found = set(session.execute(text("SELECT code FROM areas WHERE set_id = :s AND code = ANY(:codes)"),
                                {"s": boundary_set, "codes": codes}).scalars())
    return [code for code in codes if code not in found]


def replace_annotations(session: Session, rows: list[dict[str, Any]], source: str) -> int:
    """All or nothing: each outline is the union of its areas in its boundary set."""
    session.execute(text("DELETE FROM partnership_annotations"))
    for row in rows:
        session.execute(text(f"""
            INSERT INTO partnership_annotations ({', '.join(ANNOTATION_COLUMNS)}, source, geom)
            SELECT :id, :kind, :title, CAST(:boundary_set AS varchar), CAST(:area_codes AS text[]), :paragraph,
                   :source_line, :quote, :figure, :note, :source,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3))
            FROM areas
            WHERE set_id = CAST(:boundary_set AS varchar) AND code = ANY(CAST(:area_codes AS text[]))"""),
            {**row, "source": source})
    return len(rows)


def annotation_features(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(f"""
        SELECT {', '.join(ANNOTATION_COLUMNS)}, ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 6) AS geometry,
               ST_Y(ST_PointOnSurface(geom)) AS label_lat, ST_X(ST_PointOnSurface(geom)) AS label_lon
        FROM partnership_annotations ORDER BY kind, id""")).mappings().all()
    return [{"type": "Feature", "id": row["id"], "geometry": json.loads(row["geometry"]),
             "properties": {**{key: row[key] for key in ANNOTATION_COLUMNS},
                            "label_point": [round(row["label_lat"], 6), round(row["label_lon"], 6)]}}
            for row in rows]


def annotations_touching(session: Session, geometry_json: str) -> list[dict[str, Any]]:
    """Annotations whose outline shares some area with the given GeoJSON geometry (WGS84)."""
    rows = session.execute(text("""
        SELECT id, kind, title, paragraph, source_line, figure FROM partnership_annotations
        WHERE ST_Intersects(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))
          AND ST_Area(ST_Intersection(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))) > 0
        ORDER BY kind, id"""), {"g": geometry_json}).mappings().all()
    return [dict(row) for row in rows]


def layer_statistics_source(session: Session) -> str | None:
    return session.execute(text("SELECT min(source) FROM hotspot_layer_statistics")).scalar()


def replace_layer_statistics(session: Session, rows: list[dict[str, Any]], source: str) -> int:
    session.execute(text("DELETE FROM hotspot_layer_statistics"))
    for row in rows:
        session.execute(text("""
            INSERT INTO hotspot_layer_statistics (layer_id, key, label, value, unit, period, geography, paragraph,
                                                  source_line, quote, source)
            VALUES (:layer_id, :key, :label, :value, :unit, :period, :geography, :paragraph, :source_line, :quote,
                    :source)"""), {**row, "source": source})
    return len(rows)


def layer_statistics(session: Session, layer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Figures by layer id, for the layers named (the caller has checked that they may be read)."""
    rows = session.execute(text(f"""
        SELECT layer_id, {', '.join(STATISTIC_COLUMNS)} FROM hotspot_layer_statistics
        WHERE layer_id = ANY(:ids) ORDER BY layer_id, key"""), {"ids": layer_ids}).mappings().all()
    result: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        item = {key: row[key] for key in STATISTIC_COLUMNS}
        item["value"] = float(item["value"]) if item["value"] % 1 else int(item["value"])
        result.setdefault(row["layer_id"], []).append(item)
    return result
