"""Classified layers and the metrics catalogue, with ETags and a cache that any data change invalidates."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from server.api.caching import cached_response
from server.api.errors import ApiError
from server.domain import layers
from server.domain.metrics import catalogue
from server.store import crime as crime_store
from server.store import statistics as statistics_store

bp = Blueprint("layers", __name__, url_prefix="/api")
LAYER_PARAMS = ("metric", "period", "measure", "base", "method", "k", "palette", "breaks")


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, not '{raw}'") from None


def _breaks_arg() -> tuple[float, ...] | None:
    raw = request.args.get("breaks")
    if not raw:
        return None
    try:
        return tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ApiError(400, f"breaks must be numbers separated by commas, e.g. 10,50,100; not '{raw}'") from None


def layer_request(set_id: str, clusters: bool, extra_params: tuple[str, ...] = ()) -> layers.LayerRequest:
    """The layer a request asks for; `extra_params` are the other query parameters the route accepts."""
    valid = LAYER_PARAMS + extra_params
    unknown = sorted(set(request.args) - set(valid))
    if unknown:
        raise ApiError(400, f"unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    args = request.args
    return layers.LayerRequest(
        set_id=set_id, clusters=clusters, metric=args.get("metric") or "all-crime", period=args.get("period") or None,
        measure=args.get("measure") or "count", base=args.get("base") or None,
        method=args.get("method") or "natural_breaks", k=int_arg("k", 5), palette=args.get("palette") or None,
        breaks=_breaks_arg())


def _layer(set_id: str, clusters: bool) -> Response:
    layer = layer_request(set_id, clusters)
    key = json.dumps(layer.__dict__, sort_keys=True, default=str)

    def build(db) -> bytes:
        return json.dumps(build_layer_or_error(db, layer), separators=(",", ":")).encode()

    return cached_response(key, build, "application/geo+json")


def build_layer_or_error(db, layer: layers.LayerRequest) -> dict:
    try:
        return layers.build_layer(db, layer)
    except layers.LayerNotFound as error:
        raise ApiError(404, str(error)) from None
    except layers.LayerError as error:
        raise ApiError(400, str(error)) from None


@bp.get("/layers/<set_id>")
def area_layer(set_id: str):
    return _layer(set_id, clusters=False)


@bp.get("/layers/<set_id>/clusters")
def cluster_layer(set_id: str):
    return _layer(set_id, clusters=True)


def _metric_json(db, metric) -> dict:
    item = {"id": metric.id, "title": metric.title, "source": metric.source, "unit": metric.unit,
            "kind": metric.kind, "geography": metric.geography, "description": metric.description,
            "notes": list(metric.notes)}
    if metric.is_police:
        months = crime_store.available_months(db)
        item["periods"] = {"first_month": f"{months[0]:%Y-%m}" if months else None,
                           "last_month": f"{months[-1]:%Y-%m}" if months else None}
        item["boundary_sets"] = "any"
        item["measures"] = list(layers.MEASURES)
    else:
        item["periods"] = {"years": statistics_store.metric_years(db, metric.id)}
        item["measures"] = ["rate", "change", "pct_change"] if metric.kind == "rate" else list(layers.MEASURES)
    return item


def _json_bytes(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@bp.get("/metrics")
def list_metrics():
    """The catalogue, built once per data version (the client asks for it on every page load)."""
    def build(db) -> bytes:
        metrics = catalogue([(slug, name) for slug, name, _ in crime_store.crime_types(db)])
        return _json_bytes({"metrics": [_metric_json(db, m) for m in metrics.values()], "measures": layers.MEASURES})

    return cached_response("metrics", build, "application/json")


@bp.get("/metrics/<metric_id>")
def metric_detail(metric_id: str):
    def build(db) -> bytes:
        metrics = catalogue([(slug, name) for slug, name, _ in crime_store.crime_types(db)])
        if metric_id not in metrics:
            raise ApiError(404, f"no metric '{metric_id}'")
        item = _metric_json(db, metrics[metric_id])
        if not metrics[metric_id].is_police:
            item["series"] = statistics_store.monthly_series(db, metric_id)
        return _json_bytes(item)

    return cached_response(f"metric|{metric_id}", build, "application/json")
