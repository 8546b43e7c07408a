"""The OpenAPI description of the partnership annotations and of re-estimates' intervals (merged into
/api/openapi.json by server.api.openapi)."""

from __future__ import annotations

from typing import Any

ANNOTATIONS_QUERY = {"name": "annotations", "in": "query", "schema": {"type": "boolean", "default": False},
                     "description": "true outlines the Strategic Assessment's statements about places "
                                    "(GET /api/annotations), numbered, and lists them in the notes"}

ANNOTATION_PATHS: dict[str, Any] = {
    "/api/annotations": {"get": {
        "summary": "The partnership's annotations (public): statements of the Strategic Assessment 2024/25 tied to "
                   "places (the LSOAs of concern, the district priority areas), each outlined as the union of the "
                   "areas it names, with its quote as printed, figure (null where none is printed), paragraph and "
                   "line of the seed text. Takes no parameters.",
        "responses": {"200": {"description": "GeoJSON FeatureCollection", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Annotations"}}}},
            "400": {"$ref": "#/components/responses/Error"}}}},
}

ANNOTATION_SCHEMAS: dict[str, Any] = {
    "Annotations": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "geometry": {"type": "object"},
            "properties": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["lsoa-of-concern", "district-priority"]},
                "kind_title": {"type": "string"}, "title": {"type": "string"}, "quote": {"type": "string"},
                "figure": {"type": "string", "nullable": True}, "paragraph": {"type": "string"},
                "source_line": {"type": "integer"}, "boundary_set": {"type": "string"},
                "area_codes": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"},
                "label_point": {"type": "array", "items": {"type": "number"}, "description": "[lat, lon]"}}}}}},
        "metadata": {"type": "object"}}},
}

ESTIMATE_NOTE = (" Figures re-estimated for other boundaries (the partnership's tables on the 2024 wards) carry "
                 "estimate_low, estimate_high and estimate_error_pct per area (± the held-out error of the method "
                 "there), legend.estimated = true and metadata.estimate; CSV, GeoPackage and Shapefile exports add "
                 "the same columns.")

STATISTICS_NOTE = (" Each layer has `statistics`: its figures with no locations (the DCSM's 2023 borough counts), "
                   "each with value, unit, period, paragraph, source_line and the quote as printed; only for layers "
                   "the caller may read.")


def merge(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    paths.update(ANNOTATION_PATHS)
    schemas.update(ANNOTATION_SCHEMAS)
    for path in ("/api/maps/{filename}", "/api/maps/{set_id}/{filename}", "/api/figure-packs/{year}.zip"):
        paths[path]["get"]["parameters"].append(ANNOTATIONS_QUERY)
    for path in ("/api/layers/{set_id}", "/api/exports/{filename}"):
        paths[path]["get"]["summary"] += ESTIMATE_NOTE
    for path in ("/api/hotspot-layers", "/api/hotspot-layers/{layer_id}"):
        paths[path]["get"]["summary"] += STATISTICS_NOTE
