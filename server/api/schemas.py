"""The bodies the API answers with, as JSON Schema components of the OpenAPI document (referenced by name from the
routes' `responds` declarations)."""

from __future__ import annotations

from typing import Any

_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {**_TIME, "nullable": True}

SCHEMAS: dict[str, Any] = {
    "BoundarySet": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"}, "title": {"type": "string"},
        "valid_from": {"type": "string", "format": "date", "nullable": True},
        "valid_to": {"type": "string", "format": "date", "nullable": True},
        "feature_count": {"type": "integer"}, "source": {"type": "string"},
        "population": {"type": "object", "nullable": True, "description": "loaded population (rates need "
                       "it): number of areas and year; null when none is loaded",
                       "properties": {"areas": {"type": "integer"}, "year": {"type": "integer"}}}}},
    "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}}}},
    "CrimeImport": {"type": "object", "properties": {
    "id": {"type": "integer"}, "import_id": {"type": "integer", "description": "the id, in an import's summary"},
    "file": {"type": "string"}, "checksum": {"type": "string"},
    "imported_at": {"type": "string", "format": "date-time"},
    "imported_by": {"type": "string", "nullable": True},
    "rows_read": {"type": "integer"}, "inserted": {"type": "integer"},
    "duplicates": {"type": "integer", "description": "rows already loaded (same identity), skipped"},
    "no_location": {"type": "integer", "description": "rows published without coordinates (kept)"},
    "unplaced": {"type": "object", "additionalProperties": {"type": "integer"},
                 "description": "per boundary set id: inserted records in no area of that set (kept)"},
    "per_month": {"type": "object", "description": "per YYYY-MM: rows_read and inserted",
                  "additionalProperties": {"type": "object", "properties": {
                      "rows_read": {"type": "integer"}, "inserted": {"type": "integer"}}}}}},
    "Job": {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "kind": {"type": "string"},
    "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
    "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"},
                                                  "message": {"type": "string"}}},
    "result": {"type": "string", "nullable": True, "description": "the URL that now answers 200, once done"},
    "error": {"type": "string", "nullable": True},
    "outcome": {"type": "object", "nullable": True, "description": "an upload's import summary or load report"},
    "error_details": {"type": "object", "nullable": True,
                      "description": "a failed upload's file, problems (line or feature, reason) and more_problems"},
    "created_at": {"type": "string", "format": "date-time"},
    "finished_at": {"type": "string", "format": "date-time", "nullable": True}}},
    "HotspotLayer": {"type": "object", "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "sensitivity": {"type": "string", "enum": ["internal", "restricted"]}, "owner_team": {"type": "string"},
        "retention": {"type": "object", "properties": {"months": {"type": "integer"}, "text": {"type": "string"},
                                                       "note": {"type": "string"}}},
        "count_unit": {"type": "string"}, "access": {"type": "string", "enum": ["read", "write"]}}},
    "HotspotPoint": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "integer"},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "properties": {
            "id": {"type": "integer"}, "layer": {"type": "string"},
            "observed_from": {"type": "string", "format": "date"}, "observed_to": {"type": "string", "format": "date"},
            "count": {"type": "integer", "nullable": True}, "category": {"type": "string"},
            "notes": {"type": "string"}, "place": {"type": "string", "nullable": True},
            "place_id": {"type": "integer", "nullable": True},
            "located_by": {"type": "string", "enum": ["point", "place"], "nullable": True},
            "recorded_by": {"type": "string"}, "recorded_at": {"type": "string", "format": "date-time"},
            "updated_by": {"type": "string", "nullable": True}, "deleted": {"type": "boolean"}}}}},
    "AccountUser": {"type": "object", "properties": {
        "username": {"type": "string"}, "role": {"type": "string"}, "team": {"type": "string", "nullable": True},
        "active": {"type": "boolean"}, "created_at": _TIME,
        "sessions": {"type": "integer", "description": "browser sessions open now"},
        "last_sign_in_at": _NULLABLE_TIME,
        "tokens": {"type": "integer", "description": "API tokens neither expired nor revoked"}}},
    "ApiToken": {"type": "object", "properties": {
        "id": {"type": "integer"}, "username": {"type": "string"}, "label": {"type": "string"},
        "created_at": _TIME, "last_used_at": _NULLABLE_TIME, "expires_at": _TIME, "revoked_at": _NULLABLE_TIME,
        "status": {"type": "string", "enum": ["active", "expired", "revoked"]}}},
    "SecurityAuditEntry": {"type": "object", "properties": {
        "id": {"type": "integer"}, "at": _TIME, "event": {"type": "string"}, "username": {"type": "string"},
        "actor": {"type": "string", "description": "who acted: a username, cli:<os user>, anonymous or system"},
        "client_address": {"type": "string", "nullable": True}, "detail": {"type": "object"}}},
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

_REF = "#/components/schemas/"
SCHEMAS.update({
    "JobAccepted": {"type": "object", "required": ["job"], "properties": {"job": {"$ref": _REF + "Job"}}},
    "Metric": {"type": "object", "required": ["id", "title"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "source": {"type": "string"},
        "unit": {"type": "string"}, "kind": {"type": "string"}, "geography": {"type": "string"},
        "description": {"type": "string"}, "notes": {"type": "array", "items": {"type": "string"}},
        "periods": {"type": "object"}, "measures": {"type": "array", "items": {"type": "string"}},
        "series": {"description": "the partnership's published figures (tables only)"}}},
    "Metrics": {"type": "object", "required": ["metrics"], "properties": {
        "metrics": {"type": "array", "items": {"$ref": _REF + "Metric"}},
        "measures": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "Registries": {"type": "object", "description": "the extension points: what the API offers and the map lists",
                   "properties": {name: {"type": "array", "items": {"type": "object", "required": ["id"]}}
                                  for name in ("classification_methods", "palettes", "measures", "export_formats",
                                               "map_formats", "analyses")}},
})
SCHEMAS.update({
    "CrimeImportSummary": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"$ref": _REF + "CrimeImport"}}, "total": {"$ref": _REF + "CrimeImport"}}},
    "CrimeImports": {"type": "object", "required": ["imports"], "properties": {
        "imports": {"type": "array", "items": {"$ref": _REF + "CrimeImport"}}}},
    "BoundarySets": {"type": "object", "required": ["boundary_sets"], "properties": {
        "boundary_sets": {"type": "array", "items": {"$ref": _REF + "BoundarySet"}}}},
})
SCHEMAS["Session"] = {"type": "object", "required": ["user"], "properties": {"user": {
    "type": "object", "nullable": True, "properties": {"username": {"type": "string"}, "role": {"type": "string"}}}}}
SCHEMAS["HotspotLayers"] = {"type": "object", "required": ["hotspot_layers"], "properties": {
    "hotspot_layers": {"type": "array", "items": {"$ref": _REF + "HotspotLayer"}}}}
SCHEMAS["AccountUsers"] = {"type": "object", "required": ["users"], "properties": {
    "users": {"type": "array", "items": {"$ref": _REF + "AccountUser"}}}}
SCHEMAS["SecurityAudit"] = {"type": "object", "required": ["entries"], "properties": {
    "entries": {"type": "array", "items": {"$ref": _REF + "SecurityAuditEntry"}}}}
SCHEMAS["Health"] = {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": ["ok", "unavailable"]}}}
SCHEMAS["ApiTokens"] = {"type": "object", "required": ["username", "tokens"], "properties": {
    "username": {"type": "string"}, "tokens": {"type": "array", "items": {"$ref": _REF + "ApiToken"}}}}

_BBOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "nullable": True,
         "description": "[minLon, minLat, maxLon, maxLat] of the area; null until its boundaries are loaded"}
_PARTNERSHIP = {
    "slug": {"type": "string"}, "name": {"type": "string"},
    "lad_codes": {"type": "array", "items": {"type": "string"}, "description": "ONS local authority district codes"},
    "parent": {"type": "string", "nullable": True, "description": "the county partnership whose admins may act here"},
    "default": {"type": "boolean", "description": "answers the URLs without /p/{slug}"},
    "bbox": _BBOX, "url": {"type": "string", "description": "its map"}}
SCHEMAS["PartnershipSummary"] = {"type": "object", "required": ["slug", "name", "url"], "properties": _PARTNERSHIP}
SCHEMAS["Partnerships"] = {"type": "object", "required": ["partnerships"], "properties": {
    "partnerships": {"type": "array", "items": {"$ref": _REF + "PartnershipSummary"}}}}
SCHEMAS["Partnership"] = {"type": "object", "required": ["slug", "name", "boundary_sets"], "properties": {
    **_PARTNERSHIP,
    "boundary_sets": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"}, "title": {"type": "string"},
        "has_clusters": {"type": "boolean"},
        "valid_from": {"type": "string", "format": "date", "nullable": True},
        "valid_to": {"type": "string", "format": "date", "nullable": True}}}},
    "default_set": {"type": "string", "nullable": True},
    "area": {"type": "object", "nullable": True, "description": "GeoJSON MultiPolygon, lon/lat"},
    "default_view": {"type": "object", "properties": {"set": {"type": "string", "nullable": True}, "bbox": _BBOX}}}}
