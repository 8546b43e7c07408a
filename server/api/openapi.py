"""GET /api/openapi.json: the OpenAPI 3 description of the API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

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
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR}

PATHS: dict[str, Any] = {
    "/api/health": {"get": {
        "summary": "Service and database health",
        "responses": {"200": _json("healthy, with PostgreSQL and PostGIS versions"),
                      "503": _json("the database is unreachable")}}},
    "/api/session": {
        "get": {"summary": "The signed-in user, or null", "responses": {"200": _json("current user")}},
        "post": {"summary": "Sign in (sets a session cookie)",
                 "requestBody": {"content": {"application/json": {"schema": {
                     "type": "object", "required": ["username", "password"],
                     "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                 "responses": {"200": _json("signed in"), "400": ERROR, "401": ERROR}},
        "delete": {"summary": "Sign out", "responses": {"200": _json("signed out")}}},
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
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CSP Atlas API", "version": "0.1.0",
             "description": "Boundaries, crime statistics and hotspot layers for Community Safety "
                            "Partnerships. Geometries are RFC 7946 GeoJSON in lon/lat (EPSG:4326)."},
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "responses": {"Error": _json("error", {"type": "object", "properties": {"error": {
            "type": "object", "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}})},
        "schemas": {
            "BoundarySet": {"type": "object", "properties": {
                "id": {"type": "string"}, "kind": {"type": "string"}, "title": {"type": "string"},
                "valid_from": {"type": "string", "format": "date", "nullable": True},
                "valid_to": {"type": "string", "format": "date", "nullable": True},
                "feature_count": {"type": "integer"}, "source": {"type": "string"}}},
            "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object"}}}},
        },
    },
}


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
