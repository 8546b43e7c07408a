"""OGC API – Features (Part 1 Core with GeoJSON and OpenAPI 3.0, Part 2 CRS, queryables) and OGC API – Tiles (Mapbox
Vector Tiles on WebMercatorQuad, with TileJSON) under /ogc, for GIS clients such as QGIS, ArcGIS and GDAL.

Collections: every boundary set (with its validity), its ward clusters, the police.uk crime records, the classified
layer of each set and of its ward clusters, and the hotspot layers the caller may read. A hotspot layer the caller
may not read is absent: not listed and 404, the same as a layer that does not exist. Public answers come from the
shared response cache, keyed by the data version (ETags, 304); hotspot answers are private and never shared.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from server.api import engine, ogc_params
from server.api.caching import cache_key, cached_gzip, cached_response
from server.api.contract import load_query
from server.api.errors import ApiError
from server.api.hotspot_layers import caller
from server.api.layers import LAYER_PARAMS, LayerQuery, layer_request
from server.api.ogc_params import SHAPES
from server.domain import hotspot_records as records
from server.domain import ogc
from server.store import boundaries as boundary_store
from server.store import ogc as store
from server.store.db import transaction

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
TMS = "WebMercatorQuad"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
MIN_TILE_ZOOM, MAX_TILE_ZOOM = 0, 22
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


@dataclass
class Collection:
    id: str
    kind: str
    key: str
    title: str
    description: str
    bbox: tuple[float, float, float, float] | None
    interval: tuple[date | None, date | None] | None
    source: Callable[[Session], store.Source]  # the rows (for a classified layer, after its values are built)
    queryables: dict[str, store.Filter]
    properties: dict[str, store.Property]
    hotspot_layer: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None


def _bad(error: Exception) -> ApiError:
    return ApiError(400, str(error))


def _base() -> str:
    return request.url_root.rstrip("/") + "/ogc"  # url_root keeps a partnership's /p/{slug}


def _link(href: str, rel: str, media: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": media, "title": title, **extra}


def _iso_instant(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00Z" if day else None


def _json(body: dict[str, Any], status: int = 200, private: bool = False) -> Response:
    response = jsonify(body)
    response.status_code = status
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _check_format() -> None:
    wanted = request.args.get("f")
    if wanted not in (None, "", "json", "geojson", "application/json", GEOJSON):
        raise ApiError(400, f"f must be json: this server answers in JSON and GeoJSON only, not '{wanted[:40]}'")


# --- landing page, conformance, tile matrix sets ----------------------------------------------------------------


@bp.get("")
@bp.get("/")
def landing():
    _check_format()
    base = _base()
    return _json({
        "title": "CSP Atlas",
        "description": "Boundary sets with their validity, ward clusters, police.uk crime records, classified "
                       "layers and (with a bearer token) the partnership's hotspot layers, as OGC API – Features "
                       "and vector tiles.",
        "links": [
            _link(base, "self", "application/json", "this document"),
            _link(request.url_root.rstrip("/") + "/api/openapi.json", "service-desc", OPENAPI,
                  "the API definition (OpenAPI 3.0)"),
            _link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            _link(f"{base}/collections", "data", "application/json", "the collections"),
            _link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                  "application/json", "tile matrix sets"),
        ]})


@bp.get("/conformance")
def conformance():
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


@bp.get("/tileMatrixSets")
def tile_matrix_sets():
    href = f"{_base()}/tileMatrixSets/{TMS}"
    return _json({"tileMatrixSets": [{"id": TMS, "title": "Google Maps Compatible for the World",
                                      "uri": ogc.web_mercator_quad()["uri"],
                                      "links": [_link(href, "self", "application/json", TMS)]}]})


@bp.get(f"/tileMatrixSets/{TMS}")
def tile_matrix_set():
    return _json(ogc.web_mercator_quad())


# --- collections --------------------------------------------------------------------------------------------------


def _validity_text(info: dict[str, Any]) -> str:
    start = info["valid_from"].isoformat() if info["valid_from"] else "no recorded start"
    end = f"until {info['valid_to'].isoformat()}" if info["valid_to"] else "to date (current)"
    return f"Valid from {start} {end}."


def _set_extra(info: dict[str, Any]) -> dict[str, Any]:
    return {"boundary_set": {
        "id": info["id"], "kind": info["kind"], "title": info["title"],
        "valid_from": info["valid_from"].isoformat() if info["valid_from"] else None,
        "valid_to": info["valid_to"].isoformat() if info["valid_to"] else None,
        "source": info["source"], "licence": info["licence"]}}


def _set_collections(db: Session, info: dict[str, Any], extents: dict[str, Any],
                     with_clusters: bool) -> list[Collection]:
    set_id, validity = info["id"], _validity_text(info)
    interval = (info["valid_from"], info["valid_to"])
    credit = " ".join(f"{label}: {info[key].rstrip('.')}." for label, key in (("Source", "source"),
                                                                            ("Licence", "licence")) if info[key])
    found = [Collection(set_id, "areas", set_id, info["title"], f"{info['title']}. {validity} {credit}".strip(),
                        extents.get(set_id), interval, lambda _db: store.area_source(set_id),
                        store.area_source(set_id).filters, store.area_source(set_id).properties,
                        extra=_set_extra(info))]
    if with_clusters:
        clusters = store.cluster_source(set_id)
        found.append(Collection(
            ogc.collection_id("clusters", set_id), "clusters", set_id, f"{info['title']}: ward clusters",
            f"The ward clusters of {set_id}, with the codes and names of their member wards (each ward's cluster "
            f"is also a property of the {set_id} collection). {validity}", extents.get(set_id), interval,
            lambda _db: clusters, clusters.filters, clusters.properties, extra=_set_extra(info)))
    classified = store.classified_source(set_id, "[]")
    found.append(Collection(
        ogc.collection_id("classified", set_id), "classified", set_id, f"{info['title']}: classified layer",
        f"The areas of {set_id} with the value, class, class colour and rank of a metric for a period. Choose "
        "the layer with the query parameters metric, period, measure, base, method, k, palette and breaks "
        f"(as GET /api/layers/{set_id}); the default is all crime, count, over all loaded months. {validity}",
        extents.get(set_id), interval, lambda db: _classified_source(db, set_id), classified.filters,
        classified.properties, extra=_set_extra(info)))
    if with_clusters:
        classified_clusters = ogc_params.SHAPES["classified_clusters"]
        found.append(Collection(
            ogc.collection_id("classified_clusters", set_id), "classified_clusters", set_id,
            f"{info['title']}: classified layer of the ward clusters",
            f"The ward clusters of {set_id} with the value, class, class colour and rank of a metric for a period "
            "(the figures of the clusters, classified among the clusters). Choose the layer with the query parameters "
            "metric, period, measure, base, method, k, palette and breaks (as GET "
            f"/api/layers/{set_id}/clusters); the default is all crime, count, over all loaded months. {validity}",
            extents.get(set_id), interval, lambda db: _classified_source(db, set_id, clusters=True),
            classified_clusters.filters, classified_clusters.properties, extra=_set_extra(info)))
    return found


def _crime_collection(db: Session, extents: dict[str, Any]) -> Collection:
    source = store.crime_source()
    months = store.crime_months(db)
    interval = None
    if months:
        last = months[1]
        interval = (months[0], date(last.year + last.month // 12, last.month % 12 + 1, 1))
    return Collection(
        ogc.CRIME, "crime", "", "police.uk street-level crime and anti-social behaviour",
        "Records published by police.uk at their anonymised map points (records without a location are not "
        "features). Each record's time is its month: datetime selects the months an instant or interval touches; "
        "month=2022-06 and crime_type=burglary filter too. Contains public sector information licensed under the "
        "Open Government Licence v3.0.", extents.get("crime"), interval, lambda _db: source, source.filters,
        source.properties)


def _hotspot_collection(db: Session, layer: dict[str, Any]) -> Collection:
    source = store.hotspot_source(layer["id"])
    return Collection(
        ogc.collection_id("hotspots", layer["id"]), "hotspots", layer["id"], layer["title"],
        f"{layer['description']} ({layer['sensitivity']}; owner: {layer['owner_team'] or 'not recorded'}). "
        "The points that have a location, their own or their named place's.",
        store.extent(db, source), store.hotspot_observed(db, layer["id"]), lambda _db: source, source.filters,
        source.properties, hotspot_layer=layer)


def _all_collections(db: Session) -> list[Collection]:
    extents = store.public_extents(db)
    clustered = store.ward_sets_with_clusters(db)
    found: list[Collection] = []
    for info in boundary_store.list_boundary_sets(db):
        full = boundary_store.get_boundary_set(db, info["id"])
        found.extend(_set_collections(db, full, extents, info["id"] in clustered))
    found.append(_crime_collection(db, extents))
    for layer in records.visible_layers(db, caller()):
        found.append(_hotspot_collection(db, layer))
    return found


def _collection(db: Session, collection_id: str) -> Collection:
    """The collection, or 404: also for a hotspot layer the caller may not read (the denial is audited)."""
    wanted = ogc.parse_collection_id(collection_id)
    missing = ApiError(404, f"no collection '{collection_id[:100]}'")
    if wanted.kind == "crime":
        return _crime_collection(db, store.public_extents(db))
    if wanted.kind == "hotspots":
        return _hotspot_collection(db, _readable_layer(db, wanted.key, missing))
    info = boundary_store.get_boundary_set(db, wanted.key)
    if info is None:
        raise missing
    with_clusters = wanted.key in store.ward_sets_with_clusters(db)
    for each in _set_collections(db, info, store.public_extents(db), with_clusters):
        if each.id == collection_id:
            return each
    raise missing


def _readable_layer(db: Session, layer_id: str, missing: ApiError) -> dict[str, Any]:
    who = caller()
    if who is None:
        raise missing
    try:
        return records.require_layer(db, layer_id, who, records.READ, "ogc-read")
    except records.AccessDenied as denied:
        if denied.audit_layer:
            with transaction(engine()) as audit_db:
                records.audit_denied(audit_db, who, denied, {"method": request.method, "path": request.path})
        raise missing from None


def _collection_json(each: Collection) -> dict[str, Any]:
    base = f"{_base()}/collections/{each.id}"
    item: dict[str, Any] = {
        "id": each.id, "title": each.title, "description": each.description, "itemType": "feature",
        "links": [
            _link(base, "self", "application/json", "this collection"),
            _link(f"{base}/items", "items", GEOJSON, "the features"),
            _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "queryables"),
            _link(f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json",
                  "vector tiles"),
        ],
        "crs": list(ogc.CRS_SRIDS), "storageCrs": ogc.CRS84, "extent": {}}
    if each.bbox:
        item["extent"]["spatial"] = {"bbox": [[round(v, 6) for v in each.bbox]], "crs": ogc.CRS84}
    if each.interval:
        item["extent"]["temporal"] = {"interval": [[_iso_instant(d) for d in each.interval]], "trs": GREGORIAN}
    if each.extra:
        item.update(each.extra)
    if each.hotspot_layer:
        item["hotspot_layer"] = records.layer_json(each.hotspot_layer)
    return item


@bp.get("/collections")
def collections():
    _check_format()
    with transaction(engine()) as db:
        found = _all_collections(db)
    base = _base()
    private = any(each.hotspot_layer for each in found)
    return _json({"links": [_link(f"{base}/collections", "self", "application/json", "the collections")],
                  "collections": [_collection_json(each) for each in found]}, private=private)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    _check_format()
    with transaction(engine()) as db:
        each = _collection(db, collection_id)
    return _json(_collection_json(each), private=each.hotspot_layer is not None)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    _check_format()
    with transaction(engine()) as db:
        each = _collection(db, collection_id)
    properties: dict[str, Any] = {"geometry": {"$ref": "https://geojson.org/schema/Geometry.json"}}
    for name, found in each.queryables.items():
        properties[name] = {"title": name, "description": found.description, "type": found.type}
    if each.interval is not None:
        properties["datetime"] = {"title": "datetime", "type": "string", "format": "date-time",
                                  "description": "an RFC 3339 instant or interval (see the collection's description)"}
    response = _json({"$schema": "https://json-schema.org/draft/2019-09/schema",
                      "$id": f"{_base()}/collections/{each.id}/queryables", "type": "object",
                      "title": each.title, "properties": properties, "additionalProperties": False},
                     private=each.hotspot_layer is not None)
    response.mimetype = "application/schema+json"
    return response


# --- items --------------------------------------------------------------------------------------------------------


def _classified_layer(db: Session, set_id: str, clusters: bool = False) -> dict[str, Any]:
    """The classified values of the request's layer of areas or of clusters (built once per data version, kept in
    the shared cache)."""
    query = load_query(LayerQuery(), {name: request.args[name] for name in LAYER_PARAMS if name in request.args})
    wanted = layer_request(set_id, clusters, query)
    digest = cache_key(db, "ogc-classified|" + json.dumps(wanted.__dict__, sort_keys=True, default=str), False)

    def build(session: Session) -> bytes:
        return json.dumps(ogc.classified_values(session, wanted), separators=(",", ":")).encode()

    return json.loads(gzip.decompress(cached_gzip(db, digest, build)))


def _classified_source(db: Session, set_id: str, layer: dict[str, Any] | None = None,
                       clusters: bool = False) -> store.Source:
    values = json.dumps((layer or _classified_layer(db, set_id, clusters))["values"], separators=(",", ":"))
    return store.classified_cluster_source(set_id, values) if clusters else store.classified_source(set_id, values)


def _resolved_first(collection_id: str) -> tuple[str, Collection | None]:
    """The kind of a collection, and the collection itself when access must be checked before anything else (hotspot
    layers). A public collection is resolved only when its answer is built, so a cached answer costs no query."""
    kind = ogc.parse_collection_id(collection_id).kind
    if kind != "hotspots":
        return kind, None
    with transaction(engine()) as db:
        return kind, _collection(db, collection_id)


def _filter_values(shape: store.Source, params: dict[str, Any]) -> dict[str, Any]:
    found = {name: params[name] for name in shape.filters if name in params}
    if "month" in found:
        found["month"] = ogc.parse_month(found["month"])
    return found


def _query(kind: str, params: dict[str, Any]) -> tuple[store.Query, str]:
    """The query of the request's parsed parameters and the CRS URI of the answer."""
    shape = SHAPES[kind]
    try:
        crs = ogc.parse_crs(params.get("crs"))
        bbox_crs = ogc.parse_crs(params.get("bbox_crs"), "bbox-crs")
        query = store.Query(
            srid=ogc.CRS_SRIDS[crs], bbox=ogc.parse_bbox(params.get("bbox"), bbox_crs),
            bbox_srid=ogc.CRS_SRIDS[bbox_crs], days=ogc.parse_datetime(params.get("datetime")),
            filters=_filter_values(shape, params),
            properties=ogc.parse_properties(params.get("properties"), list(shape.properties)),
            geometry=not params.get("skipGeometry", False))
    except ogc.OgcError as error:
        raise _bad(error) from None
    return query, crs


def _page_links(each: Collection, offset: int, limit: int, returned: int, matched: int) -> list[dict[str, Any]]:
    href = f"{_base()}/collections/{each.id}/items"
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "offset"]

    def at(position: int) -> str:
        return f"{href}?{urlencode([*args, ('offset', str(position))])}"

    links = [_link(at(offset), "self", GEOJSON, "this page"),
             _link(f"{_base()}/collections/{each.id}", "collection", "application/json", each.title)]
    if offset + returned < matched:
        links.append(_link(at(offset + limit), "next", GEOJSON, "the next page"))
    if offset > 0:
        links.append(_link(at(max(offset - limit, 0)), "prev", GEOJSON, "the previous page"))
    return links


def _items_body(db: Session, each: Collection, query: store.Query, crs: str, limit: int, offset: int) -> bytes:
    clusters = each.kind == "classified_clusters"
    layer = _classified_layer(db, each.key, clusters) if each.kind in ogc.CLASSIFIED_KINDS else None
    source = _classified_source(db, each.key, layer, clusters) if layer else each.source(db)
    features, returned, matched = store.features_page(db, source, query, ogc.PRECISION[ogc.CRS_SRIDS[crs]],
                                                      limit, offset)
    head: dict[str, Any] = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": returned,
                            "links": _page_links(each, offset, limit, returned, matched)}
    if layer:
        head.update(legend=layer["legend"], metadata=layer["metadata"])
    if each.hotspot_layer:
        records.audit_read(db, each.hotspot_layer, caller(), "ogc-items", returned,
                           {"limit": limit, "offset": offset, "bbox": query.bbox})
    return json.dumps(head, separators=(",", ":"), default=str).encode()[:-1] + b',"features":' + features + b"}"


def _request_key(prefix: str) -> str:
    return "|".join([prefix, request.host_url, request.path, *sorted(f"{k}={v}" for k, v in
                                                                    request.args.items(multi=True))])


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    _check_format()
    kind, resolved = _resolved_first(collection_id)
    params = ogc_params.parse("items", kind, request.args)
    query, crs = _query(kind, params)
    limit, offset = params["limit"], params["offset"]
    headers = {"Content-Crs": f"<{crs}>"}
    if resolved:
        with transaction(engine()) as db:
            body = _items_body(db, resolved, query, crs, limit, offset)
        return _private(body, GEOJSON, headers)
    return cached_response(_request_key("ogc-items"), lambda db: _items_body(
        db, _collection(db, collection_id), query, crs, limit, offset), GEOJSON, headers)


def _private(body: bytes, mimetype: str, headers: dict[str, str]) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers.update(headers)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    _check_format()
    kind, resolved = _resolved_first(collection_id)
    query, crs = _query(kind, ogc_params.parse("item", kind, request.args))
    numeric = SHAPES[kind].id_type in ("integer", "bigint")
    if (numeric and (not feature_id.isdigit() or len(feature_id) > 18)) or len(feature_id) > 64:
        raise ApiError(404, f"no feature '{feature_id[:64]}' in '{collection_id[:100]}'")

    def build(db: Session) -> bytes:
        each = resolved or _collection(db, collection_id)
        body = store.feature(db, each.source(db), feature_id, query, ogc.PRECISION[ogc.CRS_SRIDS[crs]])
        if body is None:
            raise ApiError(404, f"no feature '{feature_id}' in '{each.id}'")
        links = [_link(f"{_base()}/collections/{each.id}/items/{feature_id}", "self", GEOJSON, "this feature"),
                 _link(f"{_base()}/collections/{each.id}", "collection", "application/json", each.title)]
        if each.hotspot_layer:
            records.audit_read(db, each.hotspot_layer, caller(), "ogc-item", 1, {"feature": feature_id})
        return body[:-1] + b',"links":' + json.dumps(links).encode() + b"}"

    headers = {"Content-Crs": f"<{crs}>"}
    if resolved:
        with transaction(engine()) as db:
            return _private(build(db), GEOJSON, headers)
    return cached_response(_request_key("ogc-item"), build, GEOJSON, headers)


# --- tiles --------------------------------------------------------------------------------------------------------


def _layer_query_string(each: Collection) -> str:
    """The classified layer's parameters, carried into the tile URLs."""
    if each.kind not in ogc.CLASSIFIED_KINDS:
        return ""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k in LAYER_PARAMS]
    return f"?{urlencode(kept)}" if kept else ""


def _tile_template(each: Collection) -> str:
    return (f"{_base()}/collections/{each.id}/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
            f"{_layer_query_string(each)}")


def _vector_layer(each: Collection) -> dict[str, Any]:
    kinds = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "array": "string"}
    return {"id": each.id, "title": each.title, "dataType": "vector",
            "geometryDimension": 0 if each.kind in ("crime", "hotspots") else 2,
            "minTileMatrix": str(MIN_TILE_ZOOM), "maxTileMatrix": str(MAX_TILE_ZOOM),
            "propertiesSchema": {"type": "object", "properties": {
                name: {"type": kinds[p.type], "description": p.description} for name, p in each.properties.items()}}}


def _tileset_json(each: Collection) -> dict[str, Any]:
    base = f"{_base()}/collections/{each.id}/tiles/{TMS}"
    item: dict[str, Any] = {
        "title": f"{each.title} (vector tiles)", "dataType": "vector", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": ogc.web_mercator_quad()["uri"],
        "links": [
            _link(base + _layer_query_string(each), "self", "application/json", "this tileset"),
            _link(f"{_base()}/tileMatrixSets/{TMS}", "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                  "application/json", TMS),
            _link(_tile_template(each), "item", MVT, "Mapbox vector tiles", templated=True),
            _link(f"{base}/tilejson.json{_layer_query_string(each)}", "describedby", "application/json", "TileJSON"),
        ],
        "layers": [_vector_layer(each)]}
    if each.bbox:
        item["boundingBox"] = {"lowerLeft": [each.bbox[0], each.bbox[1]], "upperRight": [each.bbox[2], each.bbox[3]],
                               "crs": ogc.CRS84}
    return item


def _tile_collection(collection_id: str) -> Collection:
    _check_format()
    with transaction(engine()) as db:
        each = _collection(db, collection_id)
    ogc_params.parse("tileset", each.kind, request.args)
    return each


@bp.get("/collections/<collection_id>/tiles")
def tilesets(collection_id: str):
    each = _tile_collection(collection_id)
    tileset = _tileset_json(each)
    summary = {key: tileset[key] for key in ("title", "dataType", "crs", "tileMatrixSetURI", "links")}
    return _json({"tilesets": [summary]}, private=each.hotspot_layer is not None)


@bp.get(f"/collections/<collection_id>/tiles/{TMS}")
def tileset(collection_id: str):
    each = _tile_collection(collection_id)
    return _json(_tileset_json(each), private=each.hotspot_layer is not None)


@bp.get(f"/collections/<collection_id>/tiles/{TMS}/tilejson.json")
def tilejson(collection_id: str):
    each = _tile_collection(collection_id)
    layer = _vector_layer(each)
    body: dict[str, Any] = {
        "tilejson": "3.0.0", "name": each.title, "description": each.description, "scheme": "xyz",
        "tiles": [_tile_template(each).replace("{tileMatrix}", "{z}").replace("{tileRow}", "{y}")
                  .replace("{tileCol}", "{x}")],
        "minzoom": MIN_TILE_ZOOM, "maxzoom": MAX_TILE_ZOOM,
        "vector_layers": [{"id": each.id, "description": each.title, "minzoom": MIN_TILE_ZOOM,
                           "maxzoom": MAX_TILE_ZOOM, "fields": {name: p["type"] for name, p in
                                                                layer["propertiesSchema"]["properties"].items()}}]}
    if each.bbox:
        body["bounds"] = [round(v, 6) for v in each.bbox]
        body["center"] = [round((each.bbox[0] + each.bbox[2]) / 2, 6), round((each.bbox[1] + each.bbox[3]) / 2, 6), 10]
    return _json(body, private=each.hotspot_layer is not None)


def _tile_source(db: Session, collection_id: str) -> store.Source:
    """The rows of a public collection's tile, with no more queries than its existence needs (a tile is built for
    every view of the map; its extent and description are not needed)."""
    wanted = ogc.parse_collection_id(collection_id)
    if wanted.kind == "crime":
        return store.crime_source()
    found = store.collection_exists(db, wanted.kind, wanted.key)
    if not found:
        raise ApiError(404, f"no collection '{collection_id[:100]}'")
    if wanted.kind in ogc.CLASSIFIED_KINDS:
        return _classified_source(db, wanted.key, clusters=wanted.kind == "classified_clusters")
    return store.cluster_source(wanted.key) if wanted.kind == "clusters" else store.area_source(wanted.key)


@bp.get(f"/collections/<collection_id>/tiles/{TMS}/<tile_matrix>/<tile_row>/<tile_col>")
def vector_tile(collection_id: str, tile_matrix: str, tile_row: str, tile_col: str):
    kind, resolved = _resolved_first(collection_id)
    params = ogc_params.parse("tile", kind, request.args)
    try:
        tile = ogc.tile(tile_matrix, tile_row, tile_col)
        query = store.Query(properties=ogc.parse_properties(params.get("properties"),
                                                            list(ogc_params.SHAPES[kind].properties)))
    except ogc.OgcError as error:
        raise _bad(error) from None

    def build(db: Session) -> bytes:
        if resolved and resolved.hotspot_layer:
            records.audit_read(db, resolved.hotspot_layer, caller(), "ogc-tile", 0,
                               {"tile": f"{tile.zoom}/{tile.row}/{tile.col}"})
        source = resolved.source(db) if resolved else _tile_source(db, collection_id)
        return store.vector_tile(db, source, collection_id, tile.zoom, tile.row, tile.col,
                                 tile.tolerance_degrees, ogc.TILE_EXTENT, ogc.TILE_BUFFER, query)

    if resolved:
        with transaction(engine()) as db:
            return _private(build(db), MVT, {})
    # the simplification is part of the key: a tile built with another one is not served from the cache
    return cached_response(_request_key(f"ogc-tile-{ogc.SIMPLIFY_UNITS}"), build, MVT)
