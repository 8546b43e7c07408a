"""The query parameters of /ogc, declared once as marshmallow schemas: per route, and per kind of collection (the
filters its rows take, and a classified layer's own parameters). Requests are parsed with the contract's parser (one
unknown-parameter check, one 400 format, one whole-number and one true/false field), and the /ogc part of the
OpenAPI document takes its parameters from the same declarations (server.api.openapi_ogc).

Values whose meaning depends on another parameter (bbox on bbox-crs) or on the collection (properties) are checked
by server.domain.ogc after parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields

from server.api.contract import Query, flag, load_query, text, whole
from server.api.layers import LayerQuery
from server.domain import ogc
from server.store import ogc as store

KINDS = ("areas", "clusters", "classified", "classified_clusters", "crime", "hotspots")
# The properties and filters of each kind of collection (the same whatever set or layer it is of).
SHAPES = {"areas": store.area_source(""), "clusters": store.cluster_source(""),
          "classified": store.classified_source("", "[]"),
          "classified_clusters": store.classified_cluster_source("", "[]"), "crime": store.crime_source(),
          "hotspots": store.hotspot_source("")}
MAX_FILTER_NUMBER = 999_999_999

_FORMAT = {"f": text("json (the default; GeoJSON for features): this server answers in JSON only", max_length=40)}
_CRS = {"crs": text(f"the CRS of the geometries: {ogc.CRS84} (default) or {ogc.BNG} (EPSG:27700 also accepted); "
                    "the answer names it in the Content-Crs header", max_length=120)}
_PROPERTIES = {"properties": text("only these properties, comma-separated (e.g. code,name)", max_length=2000)}
_TILE_PROPERTIES = {"properties": text("only these attributes, comma-separated (e.g. code,color: a lighter tile for "
                                       "a map that needs only the colours)", max_length=2000)}
_PAGE = {
    "limit": whole(1, ogc.MAX_LIMIT, "features per page; follow the `next` link for more", default=ogc.DEFAULT_LIMIT),
    "offset": whole(0, ogc.MAX_OFFSET, "features to skip (the `next` link carries it)", default=0),
    "bbox": text("minx,miny,maxx,maxy in bbox-crs: features that intersect it", max_length=400,
                 example="0.45,51.2,0.6,51.3"),
    "bbox_crs": text(f"the CRS of bbox: {ogc.CRS84} (default, lon/lat) or {ogc.BNG} (easting/northing)",
                     max_length=120, data_key="bbox-crs"),
    "datetime": text("an RFC 3339 instant or interval (2022-06-01, 2022-01-01/2022-06-30, ../2022-06-30). Crime "
                     "records: the months touched; hotspot points: their observed days; boundary sets: their "
                     "validity (a set not valid then has no features)", max_length=120),
    "skipGeometry": flag("true: every geometry null (e.g. the values of a classified layer for a table)",
                         default=False),
}
ROUTES: dict[str, dict[str, fields.Field]] = {
    "items": {**_FORMAT, **_PAGE, **_CRS, **_PROPERTIES},
    "item": {**_FORMAT, **_CRS, **_PROPERTIES},
    "tileset": dict(_FORMAT),
    "tile": dict(_TILE_PROPERTIES),
}
FILTERED = ("items",)  # the routes whose answers the collection's filters narrow


def _filter_field(found: store.Filter, description: str | None = None) -> fields.Field:
    if found.type == "integer":
        return whole(-MAX_FILTER_NUMBER, MAX_FILTER_NUMBER, description or found.description)
    return text(description or found.description)


def _schema(route: str, kind: str) -> type[Schema]:
    filters = {name: _filter_field(found) for name, found in SHAPES[kind].filters.items()} if route in FILTERED else {}
    return (LayerQuery if kind in ogc.CLASSIFIED_KINDS else Query).from_dict(
        {**ROUTES[route], **filters}, name=f"Ogc{route.title()}{kind.title().replace('_', '')}")


SCHEMAS = {(route, kind): _schema(route, kind) for route in ROUTES for kind in KINDS}


def parse(route: str, kind: str, args: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of a request to `route` on a collection of `kind`; 400 for one that is unknown or invalid."""
    return load_query(SCHEMAS[route, kind](), args)


def documented(route: str) -> type[Schema]:
    """Every parameter `route` takes on some kind of collection, each saying which kinds take it."""
    if route not in FILTERED:
        return LayerQuery.from_dict(dict(ROUTES[route]), name=f"Ogc{route.title()}")
    kinds_of: dict[str, list[str]] = {}
    for kind in KINDS:
        for name in SHAPES[kind].filters:
            kinds_of.setdefault(name, []).append(kind)
    filters = {name: _filter_field(SHAPES[kinds[0]].filters[name],
                                   f"{SHAPES[kinds[0]].filters[name].description} ({', '.join(kinds)} only)")
               for name, kinds in kinds_of.items()}
    return LayerQuery.from_dict({**ROUTES[route], **filters}, name=f"Ogc{route.title()}")
