"""Report-ready outputs of a classified layer: static map images and GIS exports."""

from __future__ import annotations

import json
from dataclasses import replace

from flask import request

from server.api import engine, settings
from server.api.caching import NotForKeeping, cached_response, job_progress
from server.api.contract import BINARY, Blueprint, Query, choice, flag, responds, text, whole
from server.api.errors import ApiError
from server.api.layers import LayerQuery, layer_request
from server.domain import exports, layers, rendering
from server.domain.annotations import annotations_collection, with_annotations
from server.domain.figure_pack import build_figure_pack
from server.store import boundaries as boundaries_store
from server.store import partnerships as partnership_store
from server.store.db import transaction
from server.tiles import basemap_source

bp = Blueprint("maps", __name__, url_prefix="/api", description="Static maps, GIS exports and figure packs")
ANNOTATIONS = ("true outlines the Strategic Assessment's statements about places (GET /api/annotations), numbered, "
               "and lists them in the notes")
# Maps and exports of sets larger than this are queued as jobs (England's LSOAs take tens of seconds; a district's
# wards well under one).
LARGE_SET_AREAS = 2000


def _job_kind_for(set_id: str, kind: str) -> str | None:
    with transaction(engine()) as db:
        return kind if boundaries_store.area_count(db, set_id) > LARGE_SET_AREAS else None


class MapQuery(LayerQuery):
    width = whole(rendering.MIN_SIZE_PX, rendering.MAX_SIZE_PX, "pixels", default=1600)
    height = whole(rendering.MIN_SIZE_PX, rendering.MAX_SIZE_PX, "pixels", default=1200)
    dpi = whole(rendering.MIN_DPI, rendering.MAX_DPI, "dots per inch", default=200)
    title = text("title instead of '<metric>, <period>'")
    labels = flag("name every area in full where it fits, else number it with a key", default=True)
    page = choice(rendering.PAGES, "paper size at true size instead of width and height")
    annotations = flag(ANNOTATIONS, default=False)


class FigurePackQuery(Query):
    annotations = flag(ANNOTATIONS, default=False)


def _map_spec(fmt: str, query: dict) -> rendering.MapSpec:
    return rendering.MapSpec(format=fmt, width_px=query["width"], height_px=query["height"], dpi=query["dpi"],
                             title=query.get("title"), labels=query["labels"], page=query.get("page")).validate()


def _drawn_layer(db, layer, annotations: bool) -> dict:
    built = layers.build_layer(db, layer)
    return with_annotations(built, annotations_collection(db)) if annotations else built


def _static_map(set_id: str, fmt: str, clusters: bool, query: dict):
    if fmt not in rendering.FORMATS:
        raise ApiError(404, f"no map format '.{fmt}'; use .png, .svg or .pdf")
    layer = layer_request(set_id, clusters, query)
    spec = _map_spec(fmt, query)
    annotations = query["annotations"]
    basemap = basemap_source(settings())
    key = json.dumps(["map", layer.__dict__, spec.__dict__, annotations, settings().basemap_url], sort_keys=True,
                     default=str)

    def build(db) -> bytes:
        whose = replace(spec, partnership=partnership_store.acting_name(db))  # the cache key has the partnership
        body = rendering.render_layer(_drawn_layer(db, layer, annotations), whose, basemap)
        if basemap is not None and basemap.failed:
            raise NotForKeeping(body)
        return body

    return cached_response(key, build,
                           rendering.FORMATS[fmt], job_kind=_job_kind_for(set_id, "static-map"))


def _file(filename: str, set_id: str | None) -> tuple[str, str, bool]:
    """The set, format and whether of its clusters: 'wards-2024.shp.zip' -> ('wards-2024', 'shp.zip', False) (set
    ids have no dots, formats may); under a set's id the file is its clusters', e.g. 'clusters.png'."""
    stem, dot, fmt = filename.partition(".")
    if not dot:
        raise ApiError(404, f"name a format, e.g. {filename}.png")
    if set_id is None:
        return stem, fmt, False
    if stem != "clusters":
        raise ApiError(404, f"no such file '{filename}'; use clusters.{fmt}")
    return set_id, fmt, True


MAP_TYPES = list(rendering.FORMATS.values())
MAP = "the image: choropleth, legend with class ranges and counts, title, period, boundary version, scale bar, " \
      "north arrow, source, data date, attribution; same input, same bytes"


@bp.get("/maps/<filename>")
@bp.get("/maps/<set_id>/<filename>", endpoint="static_cluster_map")
@responds(bp, 200, MAP, MAP_TYPES, BINARY, errors=(404,), queued=True)
@bp.arguments(MapQuery, location="query")
def static_map(query: dict, filename: str, set_id: str | None = None):
    """A static map of the classified layer for reports

    {set_id}.png, .svg or .pdf; under a ward set's id, clusters.png, .svg or .pdf for its ward clusters."""
    return _static_map(*_file(filename, set_id), query)


def _export(set_id: str, fmt: str, clusters: bool, query: dict):
    if fmt not in exports.FORMATS:
        raise ApiError(404, f"no export format '.{fmt}'; use one of {', '.join('.' + f for f in exports.FORMATS)}")
    layer = layer_request(set_id, clusters, query)
    stem = f"{set_id}{'-clusters' if clusters else ''}_{layer.metric}_{(layer.period or 'latest').replace('/', '_')}"

    def build(db) -> bytes:
        return exports.FORMATS[fmt].write(layers.build_layer(db, layer), stem)

    key = json.dumps(["export", fmt, layer.__dict__], sort_keys=True, default=str)
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'}
    if fmt == "csv":
        sidecar = f"{request.path.removesuffix('.csv')}.metadata.json?{request.query_string.decode()}"
        disposition["Link"] = f'<{sidecar}>; rel="describedby"'
    return cached_response(key, build, exports.FORMATS[fmt].media_type, disposition,
                           job_kind=_job_kind_for(set_id, "export"))


EXPORT_TYPES = list(dict.fromkeys(export.media_type for export in exports.FORMATS.values()))
EXPORT = ("the file: {set_id}.geojson, .gpkg (with a layer_metadata table), .shp.zip (British National Grid, with "
          "metadata.json), .csv (code, name, value, class, rank, color; a Link header names its sidecar) or "
          ".metadata.json (method, breaks, period, source, boundaries)")


@bp.get("/exports/<filename>")
@bp.get("/exports/<set_id>/<filename>", endpoint="export_cluster_layer")
@responds(bp, 200, EXPORT, EXPORT_TYPES, BINARY, errors=(404,), queued=True)
@bp.arguments(LayerQuery, location="query")
def export_layer(query: dict, filename: str, set_id: str | None = None):
    """The classified layer as a file for GIS or spreadsheets

    {set_id}.geojson, .gpkg, ...; under a ward set's id, clusters.geojson, .gpkg, ... for its ward clusters."""
    return _export(*_file(filename, set_id), query)


FIRST_YEAR, LAST_YEAR = 2000, 2100


@bp.get("/figure-packs/<int:year>.zip", parameters=[{"in": "path", "name": "year", "required": True, "schema": {
    "type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}}])
@responds(bp, 200, "zip: PNG and SVG maps, CSV tables, one PDF and a README listing what could not be produced and "
          "why", "application/zip", BINARY, errors=(404,), queued=True)
@bp.arguments(FigurePackQuery, location="query")
def figure_pack(query: dict, year: int):
    """A year's strategic-assessment figures for the wards before and after May 2024"""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ApiError(400, f"year must be a year like 2023, not {year}")
    annotations = query["annotations"]
    disposition = {"Content-Disposition": f'attachment; filename="csp-atlas-figures-{year}.zip"'}
    return cached_response(f"figure-pack|{year}{'|annotations' if annotations else ''}",
                           lambda db: build_figure_pack(db, year, progress=job_progress,
                                                        annotations=annotations).zip_bytes(),
                           "application/zip", disposition, job_kind="figure-pack")
