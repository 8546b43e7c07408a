"""The OpenAPI description of OGC API – Features and Tiles under /ogc, written by hand (the /ogc blueprint is not yet
declared through server.api.contract) and added to the generated /api/openapi.json by create_app."""

from __future__ import annotations

from typing import Any

from server.domain import registry

ERROR = {"$ref": "#/components/responses/Error"}

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"
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


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"},
            "style": "form", "explode": False}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


COLLECTION_ID = _path("collectionId", "wards-2024, wards-2024.clusters, wards-2024.classified, "
                                      "wards-2024.clusters.classified, crime.records, hotspots.needle-finds ... "
                                      "(GET /ogc/collections lists them)")
CRS_PARAM = _query("crs", f"the CRS of the geometries: {CRS84} (default) or {BNG} (EPSG:27700 also accepted); the "
                          "answer names it in the Content-Crs header", {"type": "string", "enum": [CRS84, BNG]})
BBOX_CRS = _query("bbox-crs", f"the CRS of bbox: {CRS84} (default, lon/lat) or {BNG} (easting/northing)",
                  {"type": "string", "enum": [CRS84, BNG]})
PROPERTIES = _query("properties", "only these properties, comma-separated (e.g. code,name)",
                    {"type": "array", "items": {"type": "string"}})
CLASSIFIED_PARAMETERS = [
    _query("metric", f"{CLASSIFIED}: all-crime (default), asb, burglary, ... (GET /api/metrics)"),
    _query("period", f"{CLASSIFIED}: a month (2022-06), a year (2022) or a range (2022-01/2022-11)"),
    _query("measure", f"{CLASSIFIED}: count (default), density, rate, change, pct_change",
           {"type": "string", "enum": list(registry.MEASURES)}),
    _query("base", f"{CLASSIFIED}: the base period of change and pct_change"),
    _query("method", f"{CLASSIFIED}: the classification method (default natural_breaks)",
           {"type": "string", "enum": list(registry.CLASSIFICATION_METHODS)}),
    _query("k", f"{CLASSIFIED}: number of classes, 2-9", {"type": "integer", "minimum": 2, "maximum": 9}),
    _query("palette", f"{CLASSIFIED}: ColorBrewer palette, e.g. YlOrRd"),
    _query("breaks", f"{CLASSIFIED}: upper class bounds for method=user_defined"),
]
ITEM_PARAMETERS = [
    COLLECTION_ID,
    _query("limit", "features per page, 1-10000 (default 100); follow the `next` link for more",
           {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}),
    _query("offset", "features to skip (the `next` link carries it)", {"type": "integer", "minimum": 0}),
    _query("bbox", "minx,miny,maxx,maxy in bbox-crs: features that intersect it",
           {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
    BBOX_CRS, CRS_PARAM,
    _query("datetime", "an RFC 3339 instant or interval (2022-06-01, 2022-01-01/2022-06-30, ../2022-06-30). Crime "
                       "records: the months touched; hotspot points: their observed days; boundary sets: their "
                       "validity (a set not valid then has no features)"),
    PROPERTIES,
    _query("skipGeometry", "true: every geometry null (e.g. the values of a classified layer for a table)",
           {"type": "boolean", "default": False}),
    _query("month", "crime.records only: a month, e.g. 2022-06"),
    _query("crime_type", "crime.records only: a crime type slug (burglary) or name (Burglary)"),
    _query("lsoa_code", "crime.records only: the LSOA police.uk gives"),
    _query("code", "boundary sets and classified layers: one area code"),
    _query("cluster_number", "boundary sets: the areas of one ward cluster", {"type": "integer"}),
    _query("type", "{set}.clusters and {set}.clusters.classified only: urban or rural clusters"),
    _query("class", f"{CLASSIFIED}: the areas (or clusters) of one class", {"type": "integer"}),
    *CLASSIFIED_PARAMETERS,
]
FEATURES = {"description": "a GeoJSON FeatureCollection with numberMatched, numberReturned and links (next, prev); "
                           f"{CLASSIFIED.removesuffix(' only')} add `legend` and `metadata`",
            "headers": {"Content-Crs": {"schema": {"type": "string"}, "description": "<CRS URI>"}},
            "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}
TILE_PATH = "/ogc/collections/{collectionId}/tiles/WebMercatorQuad"

OGC_PATHS: dict[str, Any] = {
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
        "summary": "A page of features as GeoJSON, in CRS84 or British National Grid. Public collections are cached "
                   "by data version (ETag, 304); hotspot layers are private and audited when restricted",
        "tags": ["OGC API"], "security": OPTIONAL_TOKEN, "parameters": ITEM_PARAMETERS,
        "responses": {"200": FEATURES, "400": ERROR, "404": ERROR}}},
    "/ogc/collections/{collectionId}/items/{featureId}": {"get": {
        "summary": "One feature: an area code, a cluster number, a crime record id or a hotspot point id",
        "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
        "parameters": [COLLECTION_ID, _path("featureId", "the feature's id"), CRS_PARAM, PROPERTIES,
                       *CLASSIFIED_PARAMETERS],
        "responses": {"200": {"description": "a GeoJSON Feature",
                              "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                      "404": ERROR}}},
    "/ogc/tileMatrixSets": {"get": {"summary": "The tile matrix sets (WebMercatorQuad)", "tags": ["OGC API"],
                                    "responses": {"200": _json("tile matrix sets")}}},
    "/ogc/tileMatrixSets/WebMercatorQuad": {"get": {"summary": "The WebMercatorQuad definition", "tags": ["OGC API"],
                                                    "responses": {"200": _json("tile matrix set")}}},
    "/ogc/collections/{collectionId}/tiles": {"get": {
        "summary": "The vector tilesets of a collection", "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
        "parameters": [COLLECTION_ID, *CLASSIFIED_PARAMETERS],
        "responses": {"200": _json("tilesets"), "404": ERROR}}},
    TILE_PATH: {"get": {
        "summary": "The tileset's metadata: its tile URL template, layer and attribute schema", "tags": ["OGC API"],
        "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID, *CLASSIFIED_PARAMETERS],
        "responses": {"200": _json("tileset"), "404": ERROR}}},
    f"{TILE_PATH}/tilejson.json": {"get": {
        "summary": "TileJSON 3.0 for web map clients (MapLibre, Leaflet.VectorGrid, QGIS)", "tags": ["OGC API"],
        "security": OPTIONAL_TOKEN, "parameters": [COLLECTION_ID, *CLASSIFIED_PARAMETERS],
        "responses": {"200": _json("TileJSON"), "404": ERROR}}},
    f"{TILE_PATH}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}": {"get": {
        "summary": "A Mapbox Vector Tile (one layer named after the collection) built by PostGIS: clipped, "
                   "simplified to the zoom (detail under 4 units of the 4096 grid), with the same attributes as the "
                   "items ({set}.classified and {set}.clusters.classified: value, class, color, rank), or those "
                   "`properties` names. Public tiles are cached by data version with ETags",
        "tags": ["OGC API"], "security": OPTIONAL_TOKEN,
        "parameters": [COLLECTION_ID, _path("tileMatrix", "zoom, 0-22"), _path("tileRow", "y"),
                       _path("tileCol", "x"),
                       _query("properties", "only these attributes, comma-separated (e.g. code,color: a lighter "
                                            "tile for a map that needs only the colours)",
                              {"type": "array", "items": {"type": "string"}}),
                       *CLASSIFIED_PARAMETERS],
        "responses": {"200": {"description": "the tile (empty when no feature touches it)",
                              "content": {"application/vnd.mapbox-vector-tile": {
                                  "schema": {"type": "string", "format": "binary"}}}},
                      "400": ERROR, "404": ERROR}}},
}
