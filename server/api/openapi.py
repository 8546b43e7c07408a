"""GET /api/openapi.json: the OpenAPI 3 description of the API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from server.api import openapi_annotations
from server.api.openapi_admin import ADMIN_PATHS, ADMIN_SCHEMAS
from server.api.openapi_hotspots import HOTSPOT_PATHS, HOTSPOT_SCHEMAS
from server.api.openapi_ogc import OGC_PATHS

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/responses/Error"}
FEATURES = {"description": "RFC 7946 GeoJSON FeatureCollection (lon/lat)",
            "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


SET_ID = _path_param("set_id", "boundary set id, e.g. wards-2024")


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"}}


LAYER_PARAMETERS = [
    _query("metric", "all-crime (default), asb, vbc, cas, a police.uk crime type such as burglary, or a "
                     "partnership table such as seed-crimes-by-ward (GET /api/metrics lists them)"),
    _query("period", "a month (2022-06), a year (2022) or a range (2022-01/2022-11); default: all loaded months "
                     "(police.uk) or the latest year (tables)"),
    _query("measure", "count (default), density (per km²), rate (per 1,000 residents), change, pct_change",
           {"type": "string", "enum": ["count", "density", "rate", "change", "pct_change"]}),
    _query("base", "the period to compare with for change and pct_change (default: the previous period of the "
                   "same length)"),
    _query("method", "classification (mapclassify's definitions); natural_breaks is exact Fisher-Jenks",
           {"type": "string", "enum": ["natural_breaks", "quantiles", "equal_interval", "std_mean", "head_tail",
                                       "pretty", "maximum_breaks", "user_defined"]}),
    _query("k", "number of classes, 2-9 (default 5)", {"type": "integer", "minimum": 2, "maximum": 9}),
    _query("palette", "ColorBrewer scheme, e.g. YlOrRd (default), Blues, RdBu (default for change)"),
    _query("breaks", "upper class bounds for method=user_defined, e.g. 10,50,100"),
]
MAP_PARAMETERS = [
    _query("width", "pixels, 300-4000 (default 1600)", {"type": "integer"}),
    _query("height", "pixels, 300-4000 (default 1200)", {"type": "integer"}),
    _query("dpi", "72-600 (default 200)", {"type": "integer"}),
    _query("title", "title instead of '<metric>, <period>'"),
    _query("labels", "name every area in full where it fits, else number it with a key (default true)",
           {"type": "boolean"}),
    _query("page", "paper size at true size instead of width and height",
           {"type": "string", "enum": ["a4-portrait", "a4-landscape", "a3-landscape"]}),
]
PATROL_ID = {"name": "patrol_id", "in": "path", "required": True, "schema": {"type": "integer"}}
LAYER_DESCRIPTION = (
    "Each feature carries value, class (0-based; null = no data), color, rank (1 = highest) and rank_of. "
    "The top-level legend gives method, k, breaks and each class's lower and upper bound, colour, count and "
    "label (the range as printed on every output), and no_data_label; "
    "metadata gives metric, period, period_text (the months with data in words), measure and unit, boundary set "
    "with validity dates, source, data date, interpolation method and estimate (figures re-estimated for another "
    "boundary set) and counts of unplaced records. Areas outside the imported crime data have value null. "
    "Responses carry an ETag; any import changes it.")
LAYER = {"description": "RFC 7946 FeatureCollection with legend and metadata members",
         "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR}

PATHS: dict[str, Any] = {
    "/api/health": {"get": {
        "summary": "Service and database health",
        "responses": {"200": _json("healthy, with PostgreSQL and PostGIS versions"),
                      "503": _json("the database is unreachable")}}},
    "/api/session": {
        "get": {"summary": "The signed-in user, or null", "responses": {"200": _json("current user")}},
        "post": {"summary": "Sign in (sets a session cookie: HttpOnly, SameSite=Strict; over HTTPS Secure and named "
                            "__Host-session). JSON only. Failed attempts are throttled per account (5) and per "
                            "client address (30) in 15 minutes; a session ends after 8 idle hours or 24 hours. "
                            "With the cookie, POST/PUT/PATCH/DELETE are accepted only from this site's own origin.",
                 "requestBody": {"content": {"application/json": {"schema": {
                     "type": "object", "required": ["username", "password"],
                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                 "responses": {"200": _json("signed in"), "400": ERROR, "401": ERROR,
                               "403": _json("the request came from another site's page"),
                               "415": _json("the body is not JSON"),
                               "429": _json("too many failed sign-ins; Retry-After gives the seconds to wait")}},
        "delete": {"summary": "Sign out: the session ends on the server too",
                   "responses": {"200": _json("signed out"), "403": _json("the request came from another site")}}},
    "/api/boundary-sets": {
        "get": {"summary": "Boundary sets with validity dates and feature counts",
                "responses": {"200": _json("list", {"type": "object", "properties": {
                    "boundary_sets": {"type": "array", "items": {"$ref": "#/components/schemas/BoundarySet"}}}})}},
        "post": {"summary": "Load a boundary file (zipped Shapefile, GeoPackage or GeoJSON); replaces a set "
                            "of the same id atomically. Role gis or admin.",
                 "security": [{"bearer": []}, {"session": []}],
                 "requestBody": {"content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file", "id", "code_field", "name_field"],
                     "properties": {
                         "file": {"type": "string", "format": "binary"},
                         "id": {"type": "string", "example": "wards-2024"},
                         "kind": {"type": "string", "enum": ["ward", "lsoa", "other"]},
                         "title": {"type": "string"}, "code_field": {"type": "string", "example": "WD24CD"},
                         "name_field": {"type": "string", "example": "WD24NM"},
                         "valid_from": {"type": "string", "format": "date"},
                         "valid_to": {"type": "string", "format": "date"},
                         "crs": {"type": "string", "description": "only for files that declare no CRS",
                                 "example": "EPSG:27700"},
                         "layer": {"type": "string", "description": "GeoPackage layer"},
                         "source": {"type": "string"}, "licence": {"type": "string"}}}}}},
                 "responses": {"201": _json("created"), "200": _json("replaced"), **WRITE_ERRORS,
                               "413": ERROR}}},
    "/api/boundary-sets/{set_id}/features": {"get": {
        "summary": "Areas of a set; feature id is the ONS code",
        "parameters": [SET_ID, {"name": "bbox", "in": "query", "schema": {"type": "string"},
                                "description": "minLon,minLat,maxLon,maxLat"}],
        "responses": {"200": FEATURES, "400": ERROR, "404": ERROR}}},
    "/api/boundary-sets/{set_id}/clusters": {"get": {
        "summary": "Ward clusters of a ward set, each the union of its member wards",
        "parameters": [SET_ID], "responses": {"200": FEATURES, "404": ERROR}}},
    "/api/boundary-sets/{set_id}/clusters/{number}/members/{code}": {"put": {
        "summary": "Put a ward into a cluster (replaces a derived membership). Role gis or admin.",
        "security": [{"bearer": []}, {"session": []}],
        "parameters": [SET_ID, _path_param("number", "cluster number 1-8"), _path_param("code", "ward code")],
        "responses": {"200": _json("assigned"), "401": ERROR, "403": ERROR, "404": ERROR}}},
    "/api/crime/imports": {
        "get": {"summary": "Past imports of police.uk crime files, newest first, each with its summary. "
                           "Any signed-in user.",
                "security": [{"bearer": []}, {"session": []}],
                "responses": {"200": _json("list", {"type": "object", "properties": {
                    "imports": {"type": "array", "items": {"$ref": "#/components/schemas/CrimeImport"}}}}),
                              "401": ERROR}},
        "post": {"summary": "Import data.police.uk street-level crime files (.csv or .csv.gz) in one "
                            "transaction: a bad header or row in any file refuses them all (400 naming the "
                            "file and line). Rows already loaded are counted as duplicates, not inserted "
                            "again. Role gis or admin.",
                 "security": [{"bearer": []}, {"session": []}],
                 "requestBody": {"content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"],
                     "properties": {"file": {"type": "array", "description": "one or more files",
                                             "items": {"type": "string", "format": "binary"}}}}}}},
                 "responses": {"201": _json("imported: per file and in total, rows read, inserted, "
                                            "duplicates, no location, unplaced per boundary set, per month",
                                            {"type": "object", "properties": {
                                                "files": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/CrimeImport"}},
                                                "total": {"$ref": "#/components/schemas/CrimeImport"}}}),
                               **WRITE_ERRORS, "413": ERROR}}},
    "/api/populations/{set_id}": {
        "get": {"summary": "The population used for rates on a boundary set (derived estimates say so)",
                "parameters": [SET_ID], "responses": {"200": _json("population by area code"), "404": ERROR}},
        "post": {"summary": "Replace a set's population with a CSV (code,population,year,source; every area once). "
                            "Role gis or admin.",
                 "security": [{"bearer": []}, {"session": []}], "parameters": [SET_ID],
                 "requestBody": {"content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"],
                     "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"201": _json("loaded"), **WRITE_ERRORS, "404": ERROR}}},
    "/api/crime/points": {"get": {
        "summary": "Police.uk crime records of a metric and period as GeoJSON points, for heat maps and markers",
        "description": "Each feature is a record with coordinates: properties crime_type (slug; metadata.crime_types "
                       "gives the published names), month (YYYY-MM) and location (police.uk's anonymised "
                       "'On or near …' text). metadata gives metric, period, count, source, data date and notes "
                       "(months not loaded, records without location). Gzipped when the client accepts it; "
                       "responses carry an ETag that any import changes.",
        "parameters": [
            _query("metric", "all-crime (default), asb, vbc, cas or a police.uk crime type such as burglary; "
                             "several joined by commas give their union (all-crime,asb = every record); the "
                             "partnership's tables have no locations (400)"),
            _query("period", "a month (2022-06), a year (2022) or a range (2022-01/2022-11); default: all loaded "
                             "months"),
            _query("bbox", "minLon,minLat,maxLon,maxLat: only points inside"),
        ],
        "responses": {"200": FEATURES, "304": {"description": "not modified (If-None-Match matched the ETag)"},
                      "400": ERROR}}},
    "/api/maps/{filename}": {"get": {
        "summary": "A static map of the classified layer for reports: choropleth, legend with class ranges and "
                   "counts, title, period, boundary version, scale bar, north arrow, source, data date, attribution. "
                   "Same input, same bytes.",
        "parameters": [_path_param("filename", "{set_id}.png, .svg or .pdf, e.g. wards-2024.png"), *LAYER_PARAMETERS,
                       *MAP_PARAMETERS],
        "responses": {"200": {"description": "the image", "content": {
            "image/png": {}, "image/svg+xml": {}, "application/pdf": {}}}, "400": ERROR, "404": ERROR}}},
    "/api/maps/{set_id}/{filename}": {"get": {
        "summary": "The same static map for the ward clusters of a ward set",
        "parameters": [SET_ID, _path_param("filename", "clusters.png, clusters.svg or clusters.pdf"),
                       *LAYER_PARAMETERS, *MAP_PARAMETERS],
        "responses": {"200": {"description": "the image"}, "400": ERROR, "404": ERROR}}},
    "/api/exports/{filename}": {"get": {
        "summary": "The classified layer as a file: {set_id}.geojson, .gpkg (with a layer_metadata table), "
                   ".shp.zip (British National Grid, with metadata.json), .csv (code, name, value, class, rank, "
                   "color; Link header to its sidecar) or .metadata.json (method, breaks, period, source, boundaries)",
        "parameters": [_path_param("filename", "e.g. wards-2024.shp.zip"), *LAYER_PARAMETERS],
        "responses": {"200": {"description": "the file"}, "400": ERROR, "404": ERROR}}},
    "/api/exports/{set_id}/{filename}": {"get": {
        "summary": "The same exports for the ward clusters of a ward set (clusters.geojson, clusters.gpkg, …)",
        "parameters": [SET_ID, _path_param("filename", "e.g. clusters.csv"), *LAYER_PARAMETERS],
        "responses": {"200": {"description": "the file"}, "400": ERROR, "404": ERROR}}},
    "/api/figure-packs/{year}.zip": {"get": {
        "summary": "A year's strategic-assessment figures for the wards before and after May 2024: PNG and SVG maps, "
                   "CSV tables, one PDF, and a README listing what could not be produced and why",
        "parameters": [{"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "zip", "content": {"application/zip": {}}}, "400": ERROR}}},
    "/api/patrol-areas": {
        "get": {"summary": "Your team's patrol areas (admins: all); archived=true adds archived ones. Role officer.",
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_query("archived", "true to include archived areas", {"type": "boolean"})],
                "responses": {"200": FEATURES, "401": ERROR, "403": ERROR}},
        "post": {"summary": "Save a patrol area for your team: name, geometry (Polygon/MultiPolygon, or a LineString "
                            "route with buffer_m), date_from, date_to, notes; admins may give team",
                 "security": [{"bearer": []}, {"session": []}],
                 "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patrol"}}}},
                 "responses": {"201": _json("created (a GeoJSON Feature)"), **WRITE_ERRORS}}},
    "/api/patrol-areas/{patrol_id}": {
        "get": {"summary": "One patrol area (404 for another team's)", "parameters": [PATROL_ID],
                "security": [{"bearer": []}, {"session": []}], "responses": {"200": _json("feature"), "404": ERROR}},
        "patch": {"summary": "Edit fields or geometry (kept in the history); {\"archived\": true|false}",
                  "parameters": [PATROL_ID], "security": [{"bearer": []}, {"session": []}],
                  "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Patrol"}}}},
                  "responses": {"200": _json("feature"), **WRITE_ERRORS, "404": ERROR}},
        "delete": {"summary": "Archive (nothing is deleted; PATCH archived=false restores)", "parameters": [PATROL_ID],
                   "security": [{"bearer": []}, {"session": []}],
                   "responses": {"200": _json("archived feature"), "401": ERROR, "403": ERROR, "404": ERROR}}},
    "/api/patrol-areas/{patrol_id}/history": {"get": {
        "summary": "Who changed what and when (old and new values)", "parameters": [PATROL_ID],
        "security": [{"bearer": []}, {"session": []}], "responses": {"200": _json("history"), "404": ERROR}}},
    "/api/patrol-areas/{patrol_id}/summary": {"get": {
        "summary": "What is inside a saved patrol area (see POST /api/patrol-areas/summary)",
        "parameters": [PATROL_ID, _query("period", "crime period; default the last 3 loaded months")],
        "security": [{"bearer": []}, {"session": []}],
        "responses": {"200": _json("summary"), "400": ERROR, "404": ERROR}}},
    "/api/patrol-areas/{patrol_id}/export.{fmt}": {"get": {
        "summary": "The patrol area with its summary as GeoJSON, KML (phones, in-car systems) or a PDF briefing",
        "parameters": [PATROL_ID, _path_param("fmt", "geojson, kml or pdf"), _query("period", "crime period")],
        "security": [{"bearer": []}, {"session": []}], "responses": {"200": {"description": "the file"},
                                                                      "404": ERROR}}},
    "/api/patrol-areas/summary": {"post": {
        "summary": "Summary of a drawn geometry without saving it: area, wards (both sets), clusters and LSOAs with "
                   "the share inside, crimes by type with the change on the previous period, density against the "
                   "borough, hotspot records inside (layers you may read), significant Gi* hot spots covered",
        "parameters": [_query("period", "crime period; default the last 3 loaded months")],
        "security": [{"bearer": []}, {"session": []}],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "geometry": {"type": "object"}, "buffer_m": {"type": "number"}}}}}},
        "responses": {"200": _json("summary"), "400": ERROR, "401": ERROR, "403": ERROR}}},
    "/api/patrol-areas/suggest": {"get": {
        "summary": "Up to n candidate patrol areas from DBSCAN clusters of crime points (or of a hotspot layer you "
                   "may read), each between min_km2 and max_km2, most records first",
        "parameters": [_query("source", "crime (default) or a hotspot layer id"), _query("metric", "crime metric"),
                       _query("period", "crime period"), _query("from", "hotspot layer: observed from"),
                       _query("to", "hotspot layer: observed to"), _query("eps", "metres"),
                       _query("min_points", "records"), _query("n", "1-20 (default 5)"),
                       _query("min_km2", "default 0.05"), _query("max_km2", "default 2")],
        "security": [{"bearer": []}, {"session": []}],
        "responses": {"200": FEATURES, "400": ERROR, "401": ERROR, "403": ERROR}}},
    "/api/metrics": {"get": {
        "summary": "Metrics with their periods, measures and where they can be mapped",
        "responses": {"200": _json("metrics")}}},
    "/api/metrics/{metric_id}": {"get": {
        "summary": "One metric; for the partnership's tables also the published figures (e.g. monthly series)",
        "parameters": [_path_param("metric_id", "e.g. all-crime, asb, burglary, seed-crimes-by-ward")],
        "responses": {"200": _json("metric"), "404": ERROR}}},
    "/api/layers/{set_id}": {"get": {
        "summary": "A classified choropleth layer of a boundary set, with legend and metadata",
        "description": LAYER_DESCRIPTION,
        "parameters": [SET_ID, *LAYER_PARAMETERS],
        "responses": {"200": LAYER, "304": {"description": "not modified (If-None-Match matched the ETag)"},
                      "400": ERROR, "404": ERROR}}},
    "/api/layers/{set_id}/clusters": {"get": {
        "summary": "The same layer for the ward clusters of a ward set (values summed over member wards)",
        "parameters": [SET_ID, *LAYER_PARAMETERS],
        "responses": {"200": LAYER, "304": {"description": "not modified"}, "400": ERROR, "404": ERROR}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CSP Atlas API", "version": "0.1.0",
             "description": "Boundaries, crime statistics and hotspot layers for Community Safety "
                            "Partnerships. Geometries are RFC 7946 GeoJSON in lon/lat (EPSG:4326)."},
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                                        "description": "__Host-session when served over HTTPS"}},
        "responses": {"Error": _json("error", {"type": "object", "properties": {"error": {
            "type": "object", "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}})},
        "schemas": {
            "Patrol": {"type": "object", "properties": {
                "name": {"type": "string"}, "geometry": {"type": "object", "description": "GeoJSON, lon/lat"},
                "buffer_m": {"type": "number", "description": "route width each side, 5-1000 m"},
                "date_from": {"type": "string", "format": "date"}, "date_to": {"type": "string", "format": "date"},
                "notes": {"type": "string"}, "team": {"type": "string", "description": "admins only"},
                "archived": {"type": "boolean", "description": "PATCH only"}}},
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
        },
    },
}

SPEC["components"]["schemas"]["CrimeImport"] = {"type": "object", "properties": {
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
                      "rows_read": {"type": "integer"}, "inserted": {"type": "integer"}}}}}}


PATHS.update(HOTSPOT_PATHS)
SPEC["components"]["schemas"].update(HOTSPOT_SCHEMAS)
PATHS.update(ADMIN_PATHS)
PATHS.update(OGC_PATHS)
SPEC["components"]["schemas"].update(ADMIN_SCHEMAS)
openapi_annotations.merge(PATHS, SPEC["components"]["schemas"])

SPEC["components"]["schemas"]["Job"] = {"type": "object", "properties": {
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
    "finished_at": {"type": "string", "format": "date-time", "nullable": True}}}
JOB_ACCEPTED = _json("queued as a job (figure packs; maps and exports of sets over 2,000 areas; Gi* beyond 999 "
                     "permutations or below 300 m hexagons): follow Location, GET /api/jobs/{job_id}, until done",
                     {"type": "object", "properties": {"job": {"$ref": "#/components/schemas/Job"}}})
PATHS["/api/jobs/{job_id}"] = {"get": {
    "summary": "A queued heavy request: status, progress and, when done, the URL of its result",
    "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {"200": _json("the job", {"$ref": "#/components/schemas/Job"}), "404": ERROR}}}
for queued_path in ("/api/figure-packs/{year}.zip", "/api/maps/{filename}", "/api/maps/{set_id}/{filename}",
                    "/api/exports/{filename}", "/api/exports/{set_id}/{filename}", "/api/hotspots/gi"):
    PATHS[queued_path]["get"]["responses"]["202"] = JOB_ACCEPTED
for upload_path in ("/api/crime/imports", "/api/boundary-sets"):
    PATHS[upload_path]["post"]["responses"]["202"] = _json(
        "an upload over CSP_ATLAS_UPLOAD_JOB_BYTES, queued as a job: follow Location until done (outcome) or failed "
        "(error, error_details)", {"type": "object", "properties": {"job": {"$ref": "#/components/schemas/Job"}}})


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
