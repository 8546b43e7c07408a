"""The OpenAPI description of the hotspot routes (merged into /api/openapi.json by server.api.openapi)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}
SECURED = [{"bearer": []}, {"session": []}]
GEOJSON = {"description": "RFC 7946 GeoJSON FeatureCollection (lon/lat) with `legend` and `metadata` members",
           "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}
ACCESS_ERRORS = {"401": ERROR, "403": ERROR, "404": ERROR}
ACCESS_RULES = (
    "Access: anonymous 401. Internal layers (needle-finds): any signed-in user reads, role officer or above writes. "
    "Restricted layers (dcsm-locations): only users an admin granted the layer (read or write) and admins; anyone "
    "else gets 403 and the layer is not listed. Reads of restricted layers and all writes are audited.")


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def _path(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": kind}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema or {"type": "string"}}


LAYER = _path("layer_id", "hotspot layer id, e.g. needle-finds or dcsm-locations")
POINT = _path("point_id", "point id", "integer")
PLACE = _path("place_id", "gazetteer place id", "integer")
USERNAME = _path("username", "the user to grant")
FROM_TO = [_query("from", "observed on or after: a date 2023-05-01, a month 2023-05 or a year 2023"),
           _query("to", "observed on or before: a date, a month (its last day) or a year (31 December)")]
POINT_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HotspotPointInput"}}}}
FEATURE = _json("the point as a GeoJSON Feature (geometry null when it has no location yet)",
                {"$ref": "#/components/schemas/HotspotPoint"})
POINT_SOURCE = [
    _query("source", "crime (default: police.uk records, public) or a hotspot layer id (needs read access)"),
    _query("metric", "for source=crime: all-crime (default), asb, vbc, cas or a police.uk crime type"),
    _query("period", "for source=crime: a month, a year or a range 2022-01/2022-11 (default: all loaded months)"),
    *FROM_TO,
]

HOTSPOT_PATHS: dict[str, Any] = {
    "/api/hotspot-layers": {"get": {
        "summary": "The hotspot layers the caller may see, with metadata (sensitivity, owner team, retention) "
                   "and the caller's access (read or write). " + ACCESS_RULES,
        "security": SECURED,
        "responses": {"200": _json("layers", {"type": "object", "properties": {"hotspot_layers": {
            "type": "array", "items": {"$ref": "#/components/schemas/HotspotLayer"}}}}), "401": ERROR}}},
    "/api/hotspot-layers/{layer_id}": {"get": {
        "summary": "One hotspot layer's metadata", "security": SECURED, "parameters": [LAYER],
        "responses": {"200": _json("layer", {"$ref": "#/components/schemas/HotspotLayer"}), **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/points": {
        "get": {"summary": "The layer's points that have a location (their own, or their named place's), as GeoJSON. "
                           "`summary` counts the records not on the map (unplaced, area-level). " + ACCESS_RULES,
                "security": SECURED,
                "parameters": [LAYER, *FROM_TO, _query("bbox", "minLon,minLat,maxLon,maxLat"),
                               _query("deleted", "exclude (default); include or only: admins",
                                      {"type": "string", "enum": ["exclude", "include", "only"]})],
                "responses": {"200": {"description": "RFC 7946 FeatureCollection with `layer` and `summary`",
                                      "content": {"application/geo+json": {"schema": {
                                          "$ref": "#/components/schemas/FeatureCollection"}}}},
                              "400": ERROR, **ACCESS_ERRORS}},
        "post": {"summary": "Record a point (write access). Body: a JSON object or a GeoJSON Feature with a Point.",
                 "security": SECURED, "parameters": [LAYER], "requestBody": POINT_BODY,
                 "responses": {"201": FEATURE, "400": ERROR, **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/points/{point_id}": {
        "get": {"summary": "One point", "security": SECURED, "parameters": [LAYER, POINT],
                "responses": {"200": FEATURE, **ACCESS_ERRORS}},
        "patch": {"summary": "Edit a point (write access): send only what changes; `location: null` removes its own "
                             "point, `place: null` its place. The old and new values go to its history.",
                  "security": SECURED, "parameters": [LAYER, POINT], "requestBody": POINT_BODY,
                  "responses": {"200": FEATURE, "400": ERROR, **ACCESS_ERRORS, "409": ERROR}},
        "delete": {"summary": "Delete a point (soft: kept with who and when; an admin can restore it)",
                   "security": SECURED, "parameters": [LAYER, POINT],
                   "responses": {"200": FEATURE, **ACCESS_ERRORS, "409": ERROR}}},
    "/api/hotspot-layers/{layer_id}/points/{point_id}/restore": {"post": {
        "summary": "Restore a deleted point (admins)", "security": SECURED, "parameters": [LAYER, POINT],
        "responses": {"200": FEATURE, **ACCESS_ERRORS, "409": ERROR}}},
    "/api/hotspot-layers/{layer_id}/points/{point_id}/history": {"get": {
        "summary": "Every change of a point: action, who, when, old and new values", "security": SECURED,
        "parameters": [LAYER, POINT], "responses": {"200": _json("the point and its history"), **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/unplaced": {"get": {
        "summary": "Records at named places that have no point yet (placing the place places them)",
        "security": SECURED, "parameters": [LAYER, *FROM_TO],
        "responses": {"200": _json("records and place names"), "400": ERROR, **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/series": {"get": {
        "summary": "Area-level records, e.g. the monthly borough totals of needle finds (area_code E07000110)",
        "security": SECURED, "parameters": [LAYER, *FROM_TO],
        "responses": {"200": _json("records"), "400": ERROR, **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/import": {"post": {
        "summary": "Import a CSV (columns lon,lat or easting,northing or place; observed or observed_from/"
                   "observed_to; count; category; notes) or a GeoJSON file of points, all or nothing. A refused "
                   "file gives 400 with problems [{file, row, reason}] (CSV row = line number, header = 1; GeoJSON "
                   "row = feature number). Unknown place names become new, unplaced gazetteer places.",
        "security": SECURED, "parameters": [LAYER],
        "requestBody": {"content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"201": _json("imported: counts, new places, ignored columns"), "400": ERROR, **ACCESS_ERRORS,
                      "413": ERROR}}},
    "/api/hotspot-layers/{layer_id}/grants": {"get": {
        "summary": "Who is granted the layer (admins)", "security": SECURED, "parameters": [LAYER],
        "responses": {"200": _json("grants"), **ACCESS_ERRORS}}},
    "/api/hotspot-layers/{layer_id}/grants/{username}": {
        "put": {"summary": "Grant a restricted layer to a user (admins); body {\"access\": \"read\"|\"write\"} "
                           "(default write)",
                "security": SECURED, "parameters": [LAYER, USERNAME],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                    "access": {"type": "string", "enum": ["read", "write"]}}}}}},
                "responses": {"200": _json("granted"), "400": ERROR, **ACCESS_ERRORS}},
        "delete": {"summary": "Revoke a user's grant (admins)", "security": SECURED, "parameters": [LAYER, USERNAME],
                   "responses": {"200": _json("revoked"), **ACCESS_ERRORS}}},
    "/api/gazetteer": {
        "get": {"summary": "Named places the caller may see (shared, and private places of restricted layers the "
                           "caller may read), with their point (null when unplaced), sources and record counts per "
                           "visible layer",
                "security": SECURED, "parameters": [_query("unplaced", "true: only places without a point")],
                "responses": {"200": _json("places"), "400": ERROR, "401": ERROR}},
        "post": {"summary": "Add a place (officer or above; with `layer`, a place private to that restricted layer, "
                            "which needs write access)",
                 "security": SECURED,
                 "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["name"],
                                                                              "properties": {
                     "name": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"},
                     "easting": {"type": "number"}, "northing": {"type": "number"}, "note": {"type": "string"},
                     "layer": {"type": "string"}}}}}},
                 "responses": {"201": _json("the place"), "400": ERROR, "401": ERROR, "403": ERROR, "409": ERROR}}},
    "/api/gazetteer/{place_id}/location": {"put": {
        "summary": "Put a place on the map (officer or above; moving a placed shared place needs gis): every record "
                   "at the place gets this location, with a history entry. Body {lon, lat} or {easting, northing}, "
                   "optional source.",
        "security": SECURED, "parameters": [PLACE],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "lon": {"type": "number", "description": "the location must lie in the partnership area (the current wards "
                "plus CSP_ATLAS_RECORD_BUFFER_METRES); lon/lat or easting/northing the wrong way round are refused "
                "with what to send"},
        "lat": {"type": "number"}, "easting": {"type": "number"},
            "northing": {"type": "number"}, "source": {"type": "string"}}}}}},
        "responses": {"200": _json("the place, with records_placed"), "400": ERROR, **ACCESS_ERRORS}}},
    "/api/hotspot-audit": {"get": {
        "summary": "The append-only audit log, newest first (admins): reads of restricted layers, every write, "
                   "grants and denied attempts on restricted layers",
        "security": SECURED,
        "parameters": [_query("layer", "layer id"), _query("user", "username"), _query("action", "e.g. read-points"),
                       _query("before", "entries with a smaller id (paging; see next_before)"),
                       _query("limit", "1-1000 (default 100)", {"type": "integer"})],
        "responses": {"200": _json("entries and next_before"), "400": ERROR, "401": ERROR, "403": ERROR}}},
    "/api/hotspots/gi": {"get": {
        "summary": "Getis-Ord Gi* hot and cold spots of police.uk crime with permutation inference and FDR-corrected "
                   "confidence bins like ArcGIS's Gi_Bin (±3 = 99 %, ±2 = 95 %, ±1 = 90 %, 0 not significant). "
                   "Public (police.uk data).",
        "parameters": [
            _query("metric", "all-crime (default), asb, vbc, cas or a police.uk crime type"),
            _query("period", "a month, a year or a range 2022-01/2022-11 (default: all loaded months)"),
            _query("geography", "lsoa (default), hex, or a boundary set id such as wards-2024"),
            _query("cell", "hexagon spacing (centre to centre) in metres, 150-5000 (default 500); geography=hex only",
                   {"type": "number"}),
            _query("tolerance", "areas closer than this many metres are neighbours (fuzzy contiguity), 0-200 "
                                "(default 10; 0 = strict Queen)", {"type": "number"}),
            _query("permutations", "99-9999 (default 999)", {"type": "integer"}),
            _query("seed", "random seed of the permutations (default 12345)", {"type": "integer"}),
            _query("inference", "z_sim (default: permutation z, two-sided normal p), pseudo (2 × p_sim) or "
                                "analytical", {"type": "string", "enum": ["z_sim", "pseudo", "analytical"]}),
            _query("fdr", "false-discovery-rate correction per confidence level (default true)",
                   {"type": "boolean"})],
        "responses": {"200": GEOJSON, "304": {"description": "not modified"}, "400": ERROR, "404": ERROR}}},
    "/api/hotspots/kde": {"get": {
        "summary": "Kernel density surface (Gaussian, in records per km², weighted by each record's count) as a grid "
                   "of square cells in British National Grid, classed with natural breaks. Default bandwidth: "
                   "Esri's spatial Silverman rule 0.9 × min(SD, √(1/ln 2) × Dm) × n^-0.2. Cells under 1 % of the "
                   "peak are left out.",
        "parameters": [*POINT_SOURCE, _query("bandwidth", "metres, 25-10000 (default: the rule above)",
                                             {"type": "number"}),
                       _query("cell", "grid cell in metres, 25-2000 (default 200)", {"type": "number"})],
        "security": [{}, *SECURED],
        "responses": {"200": GEOJSON, "304": {"description": "not modified"}, "400": ERROR, "401": ERROR,
                      "403": ERROR}}},
    "/api/hotspots/clusters": {"get": {
        "summary": "DBSCAN point clusters in metres: each cluster's records, total weight (sum of counts) and convex "
                   "hull, largest first",
        "parameters": [*POINT_SOURCE, _query("eps", "neighbourhood radius in metres, 5-5000 (default 100)",
                                             {"type": "number"}),
                       _query("min_points", "weight within eps that makes a core point, 1-100000 (default 10)",
                              {"type": "integer"})],
        "security": [{}, *SECURED],
        "responses": {"200": GEOJSON, "304": {"description": "not modified"}, "400": ERROR, "401": ERROR,
                      "403": ERROR}}},
}

HOTSPOT_SCHEMAS: dict[str, Any] = {
    "HotspotLayer": {"type": "object", "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "sensitivity": {"type": "string", "enum": ["internal", "restricted"]}, "owner_team": {"type": "string"},
        "retention": {"type": "object", "properties": {"months": {"type": "integer"}, "text": {"type": "string"},
                                                       "note": {"type": "string"}}},
        "count_unit": {"type": "string"}, "access": {"type": "string", "enum": ["read", "write"]}}},
    "HotspotPointInput": {"type": "object", "description": "a location (lon/lat or easting/northing) and/or a place "
                                                           "name; observed or observed_from[/observed_to]",
                          "properties": {
        "lon": {"type": "number", "description": "the location must lie in the partnership area (the current wards "
                "plus CSP_ATLAS_RECORD_BUFFER_METRES); lon/lat or easting/northing the wrong way round are refused "
                "with what to send"},
        "lat": {"type": "number"}, "easting": {"type": "number"},
        "northing": {"type": "number"}, "place": {"type": "string", "nullable": True},
        "location": {"type": "object", "nullable": True,
                     "description": "PATCH only: null removes the point's own location"},
        "observed": {"type": "string", "example": "2023-05"},
        "observed_from": {"type": "string", "format": "date"}, "observed_to": {"type": "string", "format": "date"},
        "count": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 1000000,
                  "description": "default 1; null = not known"},
        "category": {"type": "string"}, "notes": {"type": "string"}}},
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
}
