"""Spatial statistics of points: GET /api/hotspots/gi, /kde and /clusters (the URLs keep their first name; "hotspot
layers" are the partnership's own records, server.api.hotspot_layers).

Police.uk crime is public, so its analyses need no sign-in (like /api/layers). A hotspot layer as the source needs
read access to that layer, checked before the cache is consulted; reads of a restricted layer are audited on every
request, cached or not. Responses are cached per input and data version, with an ETag
(server.api.caching).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Response, request

from server.api import engine, settings
from server.api.caching import cached_response
from server.api.contract import (
    GEOJSON,
    SLUG,
    Blueprint,
    Query,
    choice,
    flag,
    number,
    period_param,
    responds,
    text,
    whole,
)
from server.api.errors import ApiError
from server.api.hotspot_layers import ObservedRange, audited, caller
from server.domain import analysis_size
from server.domain import hotspot_records as records
from server.domain import spatial_analysis as analysis
from server.domain.spatial_statistics import GI_INFERENCE
from server.store import hotspots as hotspot_store
from server.store.db import transaction

bp = Blueprint("spatial_statistics", __name__, url_prefix="/api/hotspots",
               description="Spatial statistics of points: Gi* hot spots, kernel density, DBSCAN clusters")
LIMITS, DEFAULTS = analysis.LIMITS, analysis.DEFAULTS
METRIC = "all-crime (default), asb, vbc, cas or a police.uk crime type"
METRIC_ERROR = "must be a metric id such as all-crime or burglary (GET /api/metrics lists them)"


def _limited(name: str, description: str, integer: bool = False, limits: str | None = None, **kwargs: Any) -> Any:
    """A parameter whose range is the analysis's own (spatial_analysis.LIMITS)."""
    low, high = LIMITS[limits or name]
    return (whole if integer else number)(low, high, description, **kwargs)


class PointSourceQuery(ObservedRange):
    """Which points: police.uk crime (public) or a hotspot layer the caller may read."""

    source = text("crime (default: police.uk records, public) or a hotspot layer id (needs read access)",
                  pattern=SLUG, default=analysis.CRIME, pattern_error="must be crime or a hotspot layer id")
    metric = text(f"for source=crime: {METRIC}", pattern=SLUG, pattern_error=METRIC_ERROR)
    period = period_param("for source=crime: a month, a year or a range 2022-01/2022-11 (default: all loaded months)")


class KdeQuery(PointSourceQuery):
    bandwidth = _limited("bandwidth", "metres (default: Scott's rule on the points)")
    cell = _limited("cell", "grid cell in metres", limits="kde_cell", default=DEFAULTS["kde_cell"])


class ClusterQuery(PointSourceQuery):
    eps = _limited("eps", "DBSCAN neighbourhood in metres", default=DEFAULTS["eps"])
    min_points = _limited("min_points", "records in a neighbourhood to start a cluster", integer=True,
                          default=DEFAULTS["min_points"])


class GiQuery(Query):
    metric = text(METRIC, pattern=SLUG, default="all-crime", pattern_error=METRIC_ERROR)
    period = period_param("a month, a year or a range 2022-01/2022-11 (default: all loaded months)")
    geography = text(f"areas to test: {analysis.GEOGRAPHIES_HELP}", pattern=SLUG, default="lsoa",
                     pattern_error=f"must be {analysis.GEOGRAPHIES_HELP}")
    cell = _limited("cell", f"hexagon width in metres for geography=hex (default {DEFAULTS['cell']:g})")
    tolerance = _limited("tolerance", "metres a point may lie outside the areas", default=DEFAULTS["tolerance"])
    permutations = _limited("permutations", "conditional permutations (signed in: above 999 and hexagons below "
                            "300 m are queued as jobs)", integer=True, default=DEFAULTS["permutations"])
    seed = _limited("seed", "random seed of the permutations", integer=True, default=DEFAULTS["seed"])
    inference = choice(GI_INFERENCE, "how significance is judged", default="z_sim")
    fdr = flag("false-discovery-rate correction", default=True)


def point_source(query: dict[str, Any]) -> analysis.PointSource:
    source = query["source"]
    if source == analysis.CRIME:
        if query.get("date_from") or query.get("date_to"):
            raise ApiError(400, "from/to apply to hotspot layers; for source=crime use period (e.g. 2022-01/2022-11)")
        return analysis.PointSource(analysis.CRIME, query.get("metric") or "all-crime", query.get("period"))
    if query.get("metric") or query.get("period"):
        raise ApiError(400, f"metric and period apply to source=crime; for '{source}' use from and to")
    return analysis.PointSource(source, None, None, query.get("date_from"), query.get("date_to"))


def _geojson(build: Callable[[], dict[str, Any]]) -> bytes:
    return json.dumps(build(), separators=(",", ":")).encode()


def point_analysis(kind: str, key_request: Any, build: Callable[[Any, analysis.PointData], dict[str, Any]],
                   job_kind: Callable[[Any], str | None] | None = None) -> Response:
    """Serve an analysis of points: crime for anyone, a hotspot layer only for those who may read it; `job_kind`
    decides, when the result is not built yet, whether it is queued as a job."""
    source: analysis.PointSource = key_request.points
    key = f"hotspots|{kind}|{json.dumps(asdict(key_request), default=str, sort_keys=True)}"
    if source.source == analysis.CRIME:
        return cached_response(key, lambda db: _geojson(lambda: build(db, analysis.crime_points(
            db, source.metric, source.period))), GEOJSON, job_kind=job_kind)
    who = caller()
    with audited(who), transaction(engine()) as db:
        layer = _source_layer(db, who, source.source)
        used = len(hotspot_store.layer_coordinates(db, layer["id"], source.date_from, source.date_to))
        records.audit_read(db, layer, who, f"read-{kind}", used,
                           {"from": source.date_from, "to": source.date_to, "params": dict(request.args)})
    response = cached_response(key, lambda db: _geojson(lambda: build(db, analysis.layer_points(
        db, layer, source.date_from, source.date_to))), GEOJSON, hotspot_data=True, job_kind=job_kind)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _source_layer(db: Any, who: records.Caller | None, source: str) -> dict[str, Any]:
    """A layer the caller may read; any other source, existing or not, gets the same 400 (the denial is audited)."""
    try:
        return records.require_layer(db, source, who, records.READ, "analysis")
    except records.AccessDenied as denied:
        visible = [layer["id"] for layer in records.visible_layers(db, who)] if who else []
        raise records.AccessDenied(400, f"unknown source '{source}'; valid: {', '.join([analysis.CRIME, *visible])}",
                                   audit_layer=denied.audit_layer, action=denied.action) from None


# Without a sign-in, Gi* stays within the map's own defaults: fewer permutations and no finer hexagons than these.
ANONYMOUS_MAX_PERMUTATIONS = 999
ANONYMOUS_MIN_HEX_CELL_M = 300.0


def _within_anonymous_caps(gi: analysis.GiRequest) -> None:
    analysis.check_range("permutations", gi.permutations)  # values outside the general ranges: the general message
    analysis.check_range("cell", gi.cell)
    if gi.permutations > ANONYMOUS_MAX_PERMUTATIONS:
        raise ApiError(400, f"permutations above {ANONYMOUS_MAX_PERMUTATIONS} need a sign-in")
    if gi.geography == "hex" and gi.cell < ANONYMOUS_MIN_HEX_CELL_M:
        raise ApiError(400, f"hexagons smaller than {ANONYMOUS_MIN_HEX_CELL_M:g} m need a sign-in")


ANALYSIS = "RFC 7946 GeoJSON FeatureCollection (lon/lat) with `legend` and `metadata` members"


@bp.get("/gi")
@responds(bp, 200, ANALYSIS, GEOJSON, "FeatureCollection", errors=(404,), queued=True)
@bp.arguments(GiQuery, location="query")
def gi_star(query: dict[str, Any]):
    """Getis-Ord Gi* hot and cold spots of police.uk crime on LSOAs, a boundary set or hexagons

    Anonymous requests stay within the map's defaults (at most 999 permutations, hexagons of 300 m or more)."""
    if query["geography"] != "hex" and query.get("cell") is not None:
        raise ApiError(400, "cell applies to geography=hex only")
    gi = analysis.GiRequest(
        metric=query["metric"], period=query.get("period"), geography=query["geography"],
        cell=query.get("cell") or DEFAULTS["cell"], tolerance=query["tolerance"], permutations=query["permutations"],
        seed=query["seed"], inference=query["inference"], fdr=query["fdr"])
    if caller() is None:
        _within_anonymous_caps(gi)
    key = f"hotspots|gi|{json.dumps(asdict(gi), sort_keys=True)}"
    beyond_anonymous = gi.permutations > ANONYMOUS_MAX_PERMUTATIONS or (
        gi.geography == "hex" and gi.cell < ANONYMOUS_MIN_HEX_CELL_M)

    def job_kind(db: Any) -> str | None:
        return "gi-star" if beyond_anonymous or analysis_size.gi_work(db, gi) > settings().gi_job_work else None

    return cached_response(key, lambda db: _geojson(lambda: analysis.build_gi(db, gi)), GEOJSON, job_kind=job_kind)


@bp.get("/kde")
@responds(bp, 200, ANALYSIS, GEOJSON, "FeatureCollection", errors=(401, 403, 404), queued=True)
@bp.arguments(KdeQuery, location="query")
def kernel_density(query: dict[str, Any]):
    """Kernel density of police.uk crime, or of a hotspot layer you may read, on a grid (large grids are jobs)"""
    kde = analysis.KdeRequest(point_source(query), query.get("bandwidth"), query["cell"])

    def job_kind(db: Any) -> str | None:
        return "kde" if analysis_size.kde_cells(db, kde) > settings().kde_job_cells else None

    return point_analysis("kde", kde, lambda db, data: analysis.build_kde(db, kde, data), job_kind)


@bp.get("/clusters")
@responds(bp, 200, ANALYSIS, GEOJSON, "FeatureCollection", errors=(401, 403, 404))
@bp.arguments(ClusterQuery, location="query")
def clusters(query: dict[str, Any]):
    """DBSCAN clusters of police.uk crime, or of a hotspot layer you may read, as convex hulls"""
    request_ = analysis.ClusterRequest(point_source(query), query["eps"], query["min_points"])
    return point_analysis("clusters", request_, lambda _db, data: analysis.build_clusters(request_, data))
