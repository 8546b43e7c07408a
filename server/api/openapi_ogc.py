"""The OpenAPI description of OGC API – Features and Tiles under /ogc, added to the generated /api/openapi.json by
create_app. The query parameters come from their declarations (server.api.ogc_params), the ones requests are parsed
with; the paths and answers are written here (the /ogc blueprint is a plain Flask one: its answers are OGC's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema

from server.api import ogc_params

ERROR = {"$ref": "#/components/responses/Error"}

OPTIONAL_TOKEN = [{}, {"bearer": []}, {"session": []}]
COLLECTIONS_NOTE = (
    "Collections: each boundary set (id = the set's id, e.g. wards-2024; its validity dates in the extent and "
    "description), its ward clusters ({set}.clusters, with member wards), its classified layer ({set}.classified), "
    "the classified layer of its ward clusters ({set}.clusters.classified, ward sets with clusters), police.uk crime "
    "records (crime.records) and, for a caller with a bearer token, the hotspot layers that caller may read "
    "(hotspots.{layer}). A restricted layer the caller may not read is absent: not listed, and 404.")
CLASSIFIED = "{set}.classified and {set}.clusters.classified only"


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


COLLECTION_ID = _path("collectionId", "wards-2024, wards-2024.clusters, wards-2024.classified, "
                                      "wards-2024.clusters.classified, crime.records, hotspots.needle-finds ... "
                                      "(GET /ogc/collections lists them)")
LAYER_NOTE = f" metric, period, measure, base, method, k, palette and breaks apply to {CLASSIFIED}."
FEATURES = {"description": "a GeoJSON FeatureCollection with numberMatched, numberReturned and links (next, prev); "
                           f"{CLASSIFIED.removesuffix(' only')} add `legend` and `metadata`",
            "headers": {"Content-Crs": {"schema": {"type": "string"}, "description": "<CRS URI>"}},
            "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}
TILE_PATH = "/ogc/collections/{collectionId}/tiles/WebMercatorQuad"


def ogc_paths(query_parameters: Callable[[type[Schema]], list[dict[str, Any]]]) -> dict[str, Any]:
    """The /ogc paths; `query_parameters` turns a declared schema (server.api.ogc_params) into OpenAPI parameters."""
    items, item, tileset, tile = (query_parameters(ogc_params.documented(route))
                                  for route in ("items", "item", "tileset", "tile"))
    return _paths(items, item, tileset, tile)


def _paths(items: list[dict[str, Any]], item: list[dict[str, Any]], tileset: list[dict[str, Any]],
           tile: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "/ogc": {"get": {"summary": "OGC API landing page: links to the API definition, conformance and collections",
                         "tags": ["OGC API"], "responses": {"200": _json("landing page")}}},
        "/ogc/conformance": {"get": {"summary": "The OGC conformance classes this server implements",
                                     "tags": ["OGC API"], "responses": {"200": _json("conformsTo")}}},
        "/ogc/collections": {"get": {"summary": "The collections the caller may read. " + COLLECTIONS_NOTE,
                                     "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
                                     "responses": {"200": _json("collections"), "401": ERROR}}},
        "/ogc/collections/{collectionId}": {"get": {
            "summary": "One collection: extent (bbox, validity or months), CRS list, links", "tags": ["OGC API"],
            "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID],
            "responses": {"200": _json("the collection"), "404": ERROR}}},
        "/ogc/collections/{collectionId}/queryables": {"get": {
            "summary": "The properties items may be filtered by (as query parameters of the same name)",
            "tags": ["OGC API"], "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID],
            "responses": {"200": {"description": "JSON Schema",
                                  "content": {"application/schema+json": {"schema": {"type": "object"}}}},
                          "404": ERROR}}},
        "/ogc/collections/{collectionId}/items": {"get": {
            "summary": "A page of features as GeoJSON, in CRS84 or British National Grid. Public collections are "
                       "cached by data version (ETag, 304); hotspot layers are private and audited when restricted."
                       + LAYER_NOTE,
            "tags": ["OGC API"], "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID, *items],
            "responses": {"200": FEATURES, "400": ERROR, "404": ERROR}}},
        "/ogc/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature: an area code, a cluster number, a crime record id or a hotspot point id",
            "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
            "parameters": [COLLECTION_ID, _path("featureId", "the feature's id"), *item],
            "responses": {"200": {"description": "a GeoJSON Feature",
                                  "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                          "404": ERROR}}},
        "/ogc/tileMatrixSets": {"get": {"summary": "The tile matrix sets (WebMercatorQuad)", "tags": ["OGC API"],
                                        "responses": {"200": _json("tile matrix sets")}}},
        "/ogc/tileMatrixSets/WebMercatorQuad": {"get": {"summary": "The WebMercatorQuad definition",
                                                        "tags": ["OGC API"],
                                                        "responses": {"200": _json("tile matrix set")}}},
        "/ogc/collections/{collectionId}/tiles": {"get": {
            "summary": "The vector tilesets of a collection", "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
            "parameters": [COLLECTION_ID, *tileset],
            "responses": {"200": _json("tilesets"), "404": ERROR}}},
        TILE_PATH: {"get": {
            "summary": "The tileset's metadata: its tile URL template, layer and attribute schema", "tags": ["OGC API"],
            "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID, *tileset],
            "responses": {"200": _json("tileset"), "404": ERROR}}},
        f"{TILE_PATH}/tilejson.json": {"get": {
            "summary": "TileJSON 3.0 for web map clients (MapLibre, Leaflet.VectorGrid, QGIS)", "tags": ["OGC API"],
            "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID, *tileset],
            "responses": {"200": _json("TileJSON"), "404": ERROR}}},
        f"{TILE_PATH}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}": {"get": {
            "summary": "A Mapbox Vector Tile (one layer named after the collection) built by PostGIS: clipped, "
                       "simplified to the zoom (detail under 4 units of the 4096 grid), with the same attributes as "
                       "the items ({set}.classified and {set}.clusters.classified: value, class, color, rank), or "
                       "those `properties` names. Public tiles are cached by data version with ETags",
            "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
            "parameters": [COLLECTION_ID, _path("tileMatrix", "zoom, 0-22"), _path("tileRow", "y"),
                           _path("tileCol", "x"), *tile],
            "responses": {"200": {"description": "the tile (empty when no feature touches it)",
                                  "content": {"application/vnd.mapbox-vector-tile": {
                                      "schema": {"type": "string", "format": "binary"}}}},
                          "400": ERROR, "404": ERROR}}},
    }
