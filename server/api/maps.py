"""Report-ready outputs of a classified layer: static map images and GIS exports."""

from __future__ import annotations

import json

from flask import Blueprint, request

from server.api import engine, settings
from server.api.caching import NotForKeeping, cached_response, job_progress
from server.api.errors import ApiError
from server.api.layers import build_layer_or_error, int_arg, layer_request
from server.domain import exports, rendering
from server.domain.annotations import annotations_collection, with_annotations
from server.domain.figure_pack import build_figure_pack
from server.store import boundaries as boundaries_store
from server.store.db import transaction
from server.tiles import basemap_source

bp = Blueprint("maps", __name__, url_prefix="/api")
MAP_PARAMS = ("width", "height", "dpi", "title", "labels", "page", "annotations")
# Maps and exports of sets larger than this are queued as jobs (England's LSOAs take tens of seconds; a district's
# wards well under one).
LARGE_SET_AREAS = 2000


def _job_kind_for(set_id: str, kind: str) -> str | None:
    with transaction(engine()) as db:
        return kind if boundaries_store.area_count(db, set_id) > LARGE_SET_AREAS else None


def _map_spec(fmt: str) -> rendering.MapSpec:
    labels = request.args.get("labels", "true").lower()
    if labels not in ("true", "false"):
        raise ApiError(400, "labels must be true or false")
    spec = rendering.MapSpec(format=fmt, width_px=int_arg("width", 1600), height_px=int_arg("height", 1200),
                             dpi=int_arg("dpi", 200), title=request.args.get("title") or None, labels=labels == "true",
                             page=request.args.get("page") or None)
    try:
        return spec.validate()
    except rendering.RenderError as error:
        raise ApiError(400, str(error)) from None


def _annotations_asked() -> bool:
    """annotations=true outlines the assessment's statements about places (GET /api/annotations) on the maps."""
    asked = request.args.get("annotations", "false").lower()
    if asked not in ("true", "false"):
        raise ApiError(400, "annotations must be true or false")
    return asked == "true"


def _drawn_layer(db, layer, annotations: bool) -> dict:
    built = build_layer_or_error(db, layer)
    return with_annotations(built, annotations_collection(db)) if annotations else built


def _static_map(set_id: str, fmt: str, clusters: bool):
    if fmt not in rendering.FORMATS:
        raise ApiError(404, f"no map format '.{fmt}'; use .png, .svg or .pdf")
    layer = layer_request(set_id, clusters, MAP_PARAMS)
    spec = _map_spec(fmt)
    annotations = _annotations_asked()
    basemap = basemap_source(settings())
    key = json.dumps(["map", layer.__dict__, spec.__dict__, annotations, settings().basemap_url], sort_keys=True,
                     default=str)

    def build(db) -> bytes:
        body = rendering.render_layer(_drawn_layer(db, layer, annotations), spec, basemap)
        if basemap is not None and basemap.failed:
            raise NotForKeeping(body)
        return body

    return cached_response(key, build,
                           rendering.FORMATS[fmt], job_kind=_job_kind_for(set_id, "static-map"))


def _split(filename: str) -> tuple[str, str]:
    """'wards-2024.shp.zip' -> ('wards-2024', 'shp.zip'): set ids have no dots, formats may."""
    stem, dot, fmt = filename.partition(".")
    if not dot:
        raise ApiError(404, f"name a format, e.g. {filename}.png")
    return stem, fmt


def _cluster_file(filename: str) -> str:
    stem, fmt = _split(filename)
    if stem != "clusters":
        raise ApiError(404, f"no such file '{filename}'; use clusters.{fmt}")
    return fmt


@bp.get("/maps/<filename>")
def static_map(filename: str):
    set_id, fmt = _split(filename)
    return _static_map(set_id, fmt, clusters=False)


@bp.get("/maps/<set_id>/<filename>")
def static_cluster_map(set_id: str, filename: str):
    return _static_map(set_id, _cluster_file(filename), clusters=True)


def _export(set_id: str, fmt: str, clusters: bool):
    if fmt not in exports.FORMATS:
        raise ApiError(404, f"no export format '.{fmt}'; use one of {', '.join('.' + f for f in exports.FORMATS)}")
    layer = layer_request(set_id, clusters)
    stem = f"{set_id}{'-clusters' if clusters else ''}_{layer.metric}_{(layer.period or 'latest').replace('/', '_')}"

    def build(db) -> bytes:
        collection = build_layer_or_error(db, layer)
        if fmt == "geojson":
            return json.dumps(collection).encode()
        if fmt == "metadata.json":
            return json.dumps(exports.layer_metadata(collection), indent=2).encode()
        if fmt == "csv":
            return exports.to_csv(collection)
        if fmt == "gpkg":
            return exports.to_geopackage(collection, stem)
        return exports.to_zipped_shapefile(collection, stem)

    key = json.dumps(["export", fmt, layer.__dict__], sort_keys=True, default=str)
    disposition = {"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'}
    if fmt == "csv":
        sidecar = f"{request.path.removesuffix('.csv')}.metadata.json?{request.query_string.decode()}"
        disposition["Link"] = f'<{sidecar}>; rel="describedby"'
    return cached_response(key, build, exports.FORMATS[fmt], disposition, job_kind=_job_kind_for(set_id, "export"))


@bp.get("/exports/<filename>")
def export_layer(filename: str):
    set_id, fmt = _split(filename)
    return _export(set_id, fmt, clusters=False)


@bp.get("/exports/<set_id>/<filename>")
def export_cluster_layer(set_id: str, filename: str):
    return _export(set_id, _cluster_file(filename), clusters=True)


@bp.get("/figure-packs/<int:year>.zip")
def figure_pack(year: int):
    """Maps (PNG, SVG, one PDF) and CSV tables for a year's strategic assessment, for both ward sets."""
    if not 2000 <= year <= 2100:
        raise ApiError(400, f"year must be a year like 2023, not {year}")
    unknown = sorted(set(request.args) - {"annotations"})
    if unknown:
        raise ApiError(400, f"unknown parameter(s) {', '.join(unknown)}; valid: annotations")
    annotations = _annotations_asked()
    disposition = {"Content-Disposition": f'attachment; filename="csp-atlas-figures-{year}.zip"'}
    return cached_response(f"figure-pack|{year}{'|annotations' if annotations else ''}",
                           lambda db: build_figure_pack(db, year, progress=job_progress,
                                                        annotations=annotations).zip_bytes(),
                           "application/zip", disposition, job_kind="figure-pack")
