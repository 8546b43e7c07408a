"""Hotspot analysis layers: GET /api/hotspots/gi, /kde and /clusters.

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

from flask import Blueprint, Response, request

from server.api import engine, settings
from server.api.caching import cached_response
from server.api.errors import ApiError
from server.api.hotspot_layers import caller, date_range, domain_errors
from server.domain import analysis_size
from server.domain import hotspot_analysis as analysis
from server.domain import hotspot_records as records
from server.store import hotspots as hotspot_store
from server.store.db import transaction

bp = Blueprint("hotspots", __name__, url_prefix="/api/hotspots")
GEOJSON = "application/geo+json"
GI_PARAMS = ("metric", "period", "geography", "cell", "tolerance", "permutations", "seed", "inference", "fdr")
SOURCE_PARAMS = ("source", "metric", "period", "from", "to")
KDE_PARAMS = (*SOURCE_PARAMS, "bandwidth", "cell")
CLUSTER_PARAMS = (*SOURCE_PARAMS, "eps", "min_points")


def _check_args(allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(allowed)}")


def number_arg(name: str, default: float | None, whole: bool = False) -> Any:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number, not '{raw}'") from None
    if whole:
        if not value.is_integer():
            raise ApiError(400, f"{name} must be a whole number, not '{raw}'")
        return int(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, f"{name} must be a finite number")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false")
    return raw == "true"


def point_source() -> analysis.PointSource:
    source = request.args.get("source", "").strip() or analysis.CRIME
    if source == analysis.CRIME:
        if request.args.get("from") or request.args.get("to"):
            raise ApiError(400, "from/to apply to hotspot layers; for source=crime use period (e.g. 2022-01/2022-11)")
        return analysis.PointSource(analysis.CRIME, request.args.get("metric") or "all-crime",
                                    request.args.get("period") or None)
    if request.args.get("metric") or request.args.get("period"):
        raise ApiError(400, f"metric and period apply to source=crime; for '{source}' use from and to")
    date_from, date_to = date_range()
    return analysis.PointSource(source, None, None, date_from, date_to)


def _geojson(build: Callable[[], dict[str, Any]]) -> bytes:
    try:
        body = build()
    except analysis.AnalysisNotFound as error:
        raise ApiError(404, str(error)) from None
    except analysis.AnalysisError as error:
        raise ApiError(400, str(error)) from None
    return json.dumps(body, separators=(",", ":")).encode()


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
    with domain_errors(who), transaction(engine()) as db:
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
    try:  # values outside the general ranges get the general message
        analysis.check_range("permutations", gi.permutations)
        analysis.check_range("cell", gi.cell)
    except analysis.AnalysisError as error:
        raise ApiError(400, str(error)) from None
    if gi.permutations > ANONYMOUS_MAX_PERMUTATIONS:
        raise ApiError(400, f"permutations above {ANONYMOUS_MAX_PERMUTATIONS} need a sign-in")
    if gi.geography == "hex" and gi.cell < ANONYMOUS_MIN_HEX_CELL_M:
        raise ApiError(400, f"hexagons smaller than {ANONYMOUS_MIN_HEX_CELL_M:g} m need a sign-in")


@bp.get("/gi")
def gi_star():
    _check_args(GI_PARAMS)
    gi = analysis.GiRequest(
        metric=request.args.get("metric") or "all-crime", period=request.args.get("period") or None,
        geography=request.args.get("geography") or "lsoa",
        cell=number_arg("cell", analysis.DEFAULTS["cell"]),
        tolerance=number_arg("tolerance", analysis.DEFAULTS["tolerance"]),
        permutations=number_arg("permutations", analysis.DEFAULTS["permutations"], whole=True),
        seed=number_arg("seed", analysis.DEFAULTS["seed"], whole=True),
        inference=request.args.get("inference") or "z_sim", fdr=_bool("fdr", True))
    if gi.geography != "hex" and request.args.get("cell"):
        raise ApiError(400, "cell applies to geography=hex only")
    if caller() is None:
        _within_anonymous_caps(gi)
    key = f"hotspots|gi|{json.dumps(asdict(gi), sort_keys=True)}"
    beyond_anonymous = gi.permutations > ANONYMOUS_MAX_PERMUTATIONS or (
        gi.geography == "hex" and gi.cell < ANONYMOUS_MIN_HEX_CELL_M)

    def job_kind(db: Any) -> str | None:
        return "gi-star" if beyond_anonymous or analysis_size.gi_work(db, gi) > settings().gi_job_work else None

    return cached_response(key, lambda db: _geojson(lambda: analysis.build_gi(db, gi)), GEOJSON, job_kind=job_kind)


@bp.get("/kde")
def kernel_density():
    _check_args(KDE_PARAMS)
    kde = analysis.KdeRequest(point_source(), number_arg("bandwidth", None),
                              number_arg("cell", analysis.DEFAULTS["kde_cell"]))

    def job_kind(db: Any) -> str | None:
        return "kde" if analysis_size.kde_cells(db, kde) > settings().kde_job_cells else None

    return point_analysis("kde", kde, lambda db, data: analysis.build_kde(db, kde, data), job_kind)


@bp.get("/clusters")
def clusters():
    _check_args(CLUSTER_PARAMS)
    request_ = analysis.ClusterRequest(point_source(), number_arg("eps", analysis.DEFAULTS["eps"]),
                                       number_arg("min_points", analysis.DEFAULTS["min_points"], whole=True))
    return point_analysis("clusters", request_, lambda _db, data: analysis.build_clusters(request_, data))
