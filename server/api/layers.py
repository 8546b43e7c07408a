"""Classified layers and the metrics catalogue, with ETags and a cache that any data change invalidates."""

from __future__ import annotations

import json

from flask import Response

from server.api.caching import cached_response
from server.api.contract import GEOJSON, SLUG, Blueprint, Numbers, Query, choice, period_param, responds, text, whole
from server.domain import crime_data, layers, registry

bp = Blueprint("layers", __name__, url_prefix="/api", description="Classified choropleth layers and metrics")


class LayerQuery(Query):
    """What a classified layer shows and how it is classified (also the parameters of its maps and exports)."""

    metric = text("all-crime (default), asb, vbc, cas, a police.uk crime type such as burglary, or a partnership "
                  "table such as seed-crimes-by-ward (GET /api/metrics lists them)", pattern=SLUG, default="all-crime",
                  pattern_error="must be a metric id such as all-crime or burglary (GET /api/metrics lists them)")
    period = period_param("a month (2022-06), a year (2022) or a range (2022-01/2022-11); default: all loaded months "
                          "(police.uk) or the latest year (tables)")
    measure = choice(registry.MEASURES, "count (default), density (per km²), rate (per 1,000 residents), change, "
                     "pct_change", default="count",
                     error="unknown measure '{input}'; valid measures: {choices}")
    base = period_param("the period to compare with for change and pct_change (default: the previous period of the "
                        "same length)")
    method = choice(registry.CLASSIFICATION_METHODS, "classification (mapclassify's definitions); natural_breaks is "
                    "exact Fisher-Jenks", default="natural_breaks",
                    error="unknown method '{input}'; valid methods: {choices}")
    k = whole(registry.MIN_CLASSES, registry.MAX_CLASSES, "number of classes", default=5)
    palette = choice(registry.PALETTES, "ColorBrewer scheme, e.g. YlOrRd (default), Blues, RdBu (default for change)",
                     error="unknown palette '{input}'; valid palettes are {choices}")
    breaks = Numbers("upper class bounds for method=user_defined, e.g. 10,50,100")


LAYER_PARAMS = tuple(LayerQuery().fields)


def layer_request(set_id: str, clusters: bool, query: dict) -> layers.LayerRequest:
    """The layer a request asks for, from its parsed LayerQuery (or a schema extending it)."""
    return layers.LayerRequest(
        set_id=set_id, clusters=clusters, metric=query["metric"], period=query.get("period"),
        measure=query["measure"], base=query.get("base"), method=query["method"], k=query["k"],
        palette=query.get("palette"), breaks=query.get("breaks"))


def _layer(set_id: str, clusters: bool, query: dict) -> Response:
    layer = layer_request(set_id, clusters, query)
    key = json.dumps(layer.__dict__, sort_keys=True, default=str)

    def build(db) -> bytes:
        return json.dumps(layers.build_layer(db, layer), separators=(",", ":")).encode()

    return cached_response(key, build, "application/geo+json")


LAYER = ("RFC 7946 FeatureCollection. Each feature carries value, class (0-based; null = no data), color, rank "
         "(1 = highest) and rank_of; the top-level legend gives method, k, breaks and each class's lower and upper "
         "bound, colour, count and label (the range as printed on every output), and no_data_label; metadata gives "
         "metric, period, period_text (the months with data in words), measure and unit, boundary set with validity "
         "dates, source, data date, interpolation method and estimate (figures re-estimated for another boundary set "
         "carry estimate_low, estimate_high and estimate_error_pct) and counts of unplaced records. Areas outside the "
         "imported crime data have value null. Responses carry an ETag; any import changes it.")


@bp.get("/layers/<set_id>")
@responds(bp, 200, LAYER, GEOJSON, "FeatureCollection", errors=(404,))
@bp.arguments(LayerQuery, location="query")
def area_layer(query: dict, set_id: str):
    """A classified choropleth layer of a boundary set, with legend and metadata"""
    return _layer(set_id, False, query)


@bp.get("/layers/<set_id>/clusters")
@responds(bp, 200, LAYER, GEOJSON, "FeatureCollection", errors=(404,))
@bp.arguments(LayerQuery, location="query")
def cluster_layer(query: dict, set_id: str):
    """The same layer for the ward clusters of a ward set (values summed over member wards)"""
    return _layer(set_id, True, query)


def _json_bytes(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@bp.get("/metrics")
@responds(bp, 200, "metrics with their periods and measures, and the registries (methods, palettes, formats)",
          schema="Metrics")
def list_metrics():
    """Metrics with their periods, measures and where they can be mapped (built once per data version)"""
    def build(db) -> bytes:
        return _json_bytes({"metrics": [crime_data.describe_metric(db, metric, list(layers.MEASURES))
                                        for metric in crime_data.metric_catalogue(db).values()],
                            "measures": layers.MEASURES})

    return cached_response("metrics", build, "application/json")


@bp.get("/metrics/<metric_id>")
@responds(bp, 200, "one metric", schema="Metric", errors=(404,))
def metric_detail(metric_id: str):
    """One metric; for the partnership's tables also the published figures (e.g. monthly series)"""
    return cached_response(f"metric|{metric_id}", lambda db: _json_bytes(
        crime_data.metric_detail(db, metric_id, list(layers.MEASURES))), "application/json")
