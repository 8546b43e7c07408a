"""Hotspot analysis served as map layers: Gi* hot and cold spots of police.uk crime over LSOAs (or any boundary set)
or a hexagon grid, kernel density surfaces and DBSCAN clusters of crime or of a hotspot layer's points.

Each builder checks its parameters (AnalysisError -> HTTP 400 naming what is valid), reads the data through the
store, runs the statistic from server.domain.spatial_statistics in British National Grid metres and returns an RFC 7946
FeatureCollection (lon/lat) with a `legend` and `metadata`. Access to a hotspot layer used as a source is checked
by the caller (server.domain.hotspot_records) before anything is read or served from a cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import mapping

from server.domain import classify as classification
from server.domain import crime_data
from server.domain import spatial_statistics as stats
from server.domain.crime_data import type_filters
from server.domain.errors import DomainError, NotFoundError
from server.domain.metrics import POLICE_SOURCE, Metric
from server.domain.periods import Period
from server.store import boundaries as boundary_store
from server.store import crime as crime_store
from server.store import frames
from server.store import hotspots as store

CRIME = "crime"
GEOGRAPHIES_HELP = "lsoa (the LSOA set), hex (a hexagon grid in British National Grid) or a boundary set id"
GI_CLASSES = (  # Gi_Bin, label, colour (ArcGIS's hot spot renderer)
    (-3, "Cold spot – 99% confidence", "#4575b5"),
    (-2, "Cold spot – 95% confidence", "#849eba"),
    (-1, "Cold spot – 90% confidence", "#c0ccbe"),
    (0, "Not significant", "#ffffbf"),
    (1, "Hot spot – 90% confidence", "#fab984"),
    (2, "Hot spot – 95% confidence", "#ed7551"),
    (3, "Hot spot – 99% confidence", "#d62f27"),
)
CLUSTER_COLORS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
                  "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3")  # ColorBrewer Set1 and Set2
KDE_SHOWN_SHARE = 0.01  # cells below 1 % of the highest density are left out of the layer
KDE_MAX_CELLS = 250_000
LIMITS = {
    "cell": (150.0, 5000.0), "tolerance": (0.0, 200.0), "permutations": (99, 9999), "seed": (0, 2**31 - 1),
    "bandwidth": (25.0, 10000.0), "kde_cell": (25.0, 2000.0), "eps": (5.0, 5000.0), "min_points": (1, 100000),
}
DEFAULTS = {"cell": 500.0, "tolerance": 10.0, "permutations": 999, "seed": 12345, "kde_cell": 200.0,
            "eps": 100.0, "min_points": 10}


class AnalysisError(DomainError, ValueError):
    """Parameters that cannot be answered (HTTP 400)."""


class AnalysisNotFound(NotFoundError, LookupError):
    """No such boundary set (HTTP 404)."""


@dataclass(frozen=True)
class GiRequest:
    metric: str = "all-crime"
    period: str | None = None
    geography: str = "lsoa"
    cell: float = DEFAULTS["cell"]
    tolerance: float = DEFAULTS["tolerance"]
    permutations: int = DEFAULTS["permutations"]
    seed: int = DEFAULTS["seed"]
    inference: str = "z_sim"
    fdr: bool = True


@dataclass(frozen=True)
class PointSource:
    """Crime (metric and period) or a hotspot layer (observed between date_from and date_to)."""

    source: str = CRIME
    metric: str | None = None
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class KdeRequest:
    points: PointSource
    bandwidth: float | None = None
    cell: float = DEFAULTS["kde_cell"]


@dataclass(frozen=True)
class ClusterRequest:
    points: PointSource
    eps: float = DEFAULTS["eps"]
    min_points: int = DEFAULTS["min_points"]


def check_range(name: str, value: float, limits: str | None = None) -> None:
    low, high = LIMITS[limits or name]
    if not low <= value <= high:
        raise AnalysisError(f"{name} must be from {low:g} to {high:g}, not {value:g}")


# --- inputs -------------------------------------------------------------------------------------------------------


@dataclass
class PointData:
    xy: np.ndarray  # BNG metres
    weights: np.ndarray
    description: dict[str, Any]


def _police_metric(session: Any, metric_id: str) -> Metric:
    return crime_data.police_metric(crime_data.metric_catalogue(session), metric_id, AnalysisError)


def _crime_period(session: Any, text: str | None) -> tuple[Period, list[date]]:
    return crime_data.crime_period(session, text, AnalysisError)


def _to_bng(lonlat: list[tuple[float, float]]) -> np.ndarray:
    if not lonlat:
        return np.empty((0, 2))
    points = gpd.GeoSeries(gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]), crs=4326)
    projected = points.to_crs(stats.BNG)
    return np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])


def crime_points(session: Any, metric_id: str, period_text: str | None) -> PointData:
    metric = _police_metric(session, metric_id)
    period, months = _crime_period(session, period_text)
    include, exclude = type_filters(metric)
    lonlat, missing = store.crime_coordinates(session, period.start, period.end, include, exclude)
    return PointData(_to_bng(lonlat), np.ones(len(lonlat)), {
        "source": CRIME, "metric": {"id": metric.id, "title": metric.title}, "period": period.label,
        "months_loaded": len(months), "records": len(lonlat), "records_without_location": missing,
        "attribution": POLICE_SOURCE})


def layer_points(session: Any, layer: dict[str, Any], date_from: date | None, date_to: date | None) -> PointData:
    rows = store.layer_coordinates(session, layer["id"], date_from, date_to)
    weights = np.array([1.0 if count is None else float(count) for _x, _y, count in rows])
    return PointData(_to_bng([(x, y) for x, y, _ in rows]), weights, {
        "source": layer["id"], "title": layer["title"], "from": _iso(date_from), "to": _iso(date_to),
        "records": len(rows), "weight": f"count of each record ({layer['count_unit']}; a record without a count "
                                        "weighs 1)",
        "total_weight": float(weights.sum())})


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def study_outline(session: Any) -> tuple[Any, str]:
    set_id = store.study_area_set(session)
    if set_id is None:
        raise AnalysisError("no boundary sets are loaded, so there is no study area")
    return frames.areas(session, set_id).to_crs(stats.BNG).union_all(), set_id


# --- Gi* ----------------------------------------------------------------------------------------------------------


def _lsoa_set(session: Any) -> str:
    sets = [s for s in boundary_store.list_boundary_sets(session) if s["kind"] == "lsoa" and s["feature_count"]]
    if not sets:
        raise AnalysisError("no LSOA boundary set is loaded; use geography=hex or a ward set")
    return sets[-1]["id"]


def build_gi(session: Any, request: GiRequest) -> dict[str, Any]:
    started = time.perf_counter()
    metric = _police_metric(session, request.metric)
    period, months = _crime_period(session, request.period)
    _check_gi(request)
    include, exclude = type_filters(metric)
    if request.geography == "hex":
        units, values, neighbours, extra = _hex_units(session, request, period, include, exclude)
    else:
        units, values, neighbours, extra = _area_units(session, request, period, include, exclude)
    try:
        result = stats.getis_ord(values, neighbours, request.permutations, request.seed, request.inference,
                                 request.fdr)
    except stats.HotspotError as error:
        raise AnalysisError(str(error)) from None
    features = _gi_features(units, values, result, neighbours)
    legend = {"title": f"Gi* hot and cold spots: {metric.title}", "field": "gi_bin",
              "classes": [{"gi_bin": b, "label": label, "color": color,
                           "count": int((result.gi_bin == b).sum())} for b, label, color in GI_CLASSES]}
    metadata = {
        "analysis": "Getis-Ord Gi* (esda.G_Local, star=True, binary weights)",
        "metric": {"id": metric.id, "title": metric.title, "source": metric.source}, "period": period.label,
        "months_loaded": len(months), "geography": extra.pop("geography"), "neighbours": neighbours.summary(),
        "permutations": request.permutations, "seed": request.seed, "inference": _inference_text(request),
        "fdr": request.fdr, "p_thresholds": {str(k): v for k, v in result.thresholds.items()},
        "records": int(np.sum(values)), **extra, "notes": result.notes, "attribution": POLICE_SOURCE,
        "compute_seconds": round(time.perf_counter() - started, 3)}
    return {"type": "FeatureCollection", "features": features, "legend": legend, "metadata": metadata}


def _check_gi(request: GiRequest) -> None:
    check_range("cell", request.cell)
    check_range("tolerance", request.tolerance)
    check_range("permutations", request.permutations)
    check_range("seed", request.seed)
    if request.inference not in stats.GI_INFERENCE:
        raise AnalysisError(f"inference must be one of {', '.join(stats.GI_INFERENCE)}")


def _inference_text(request: GiRequest) -> str:
    return {"z_sim": "z = permutation z-score (observed G* against its conditional permutations); two-sided "
                     "normal p-value",
            "pseudo": "two-sided pseudo p-value 2 × p_sim from the permutations; z = permutation z-score",
            "analytical": "z and p under the normality assumption of Getis and Ord (as ArcGIS)"}[request.inference]


def _area_units(session: Any, request: GiRequest, period: Period, include: list[str] | None,
                exclude: list[str] | None) -> tuple[gpd.GeoDataFrame, np.ndarray, stats.Neighbours, dict[str, Any]]:
    set_id = _lsoa_set(session) if request.geography == "lsoa" else request.geography
    info = boundary_store.get_boundary_set(session, set_id)
    if info is None:
        raise AnalysisNotFound(f"no boundary set '{set_id}'; geography is {GEOGRAPHIES_HELP}")
    areas = frames.areas(session, set_id).to_crs(stats.BNG)
    counts = crime_store.count_by_area(session, set_id, period.start, period.end, include, exclude)
    values = np.array([counts.get(code, 0) for code in areas["code"]], dtype=float)
    neighbours = stats.area_neighbours(areas, request.tolerance)
    unplaced = crime_store.unplaced_counts(session, period.start, period.end, include, exclude).get(set_id, 0)
    units = areas.assign(id=areas["code"])
    return units, values, neighbours, {
        "geography": {"kind": info["kind"], "boundary_set": set_id, "title": info["title"], "units": len(areas),
                      "tolerance_m": request.tolerance},
        "records_outside_units": unplaced}


def _hex_units(session: Any, request: GiRequest, period: Period, include: list[str] | None,
               exclude: list[str] | None) -> tuple[gpd.GeoDataFrame, np.ndarray, stats.Neighbours, dict[str, Any]]:
    outline, set_id = study_outline(session)
    grid = stats.hex_grid(outline, request.cell)
    lonlat, missing = store.crime_coordinates(session, period.start, period.end, include, exclude)
    counts, outside = stats.count_points_in_polygons(grid, _to_bng(lonlat))
    neighbours = stats.hex_neighbours(grid, request.cell)
    area_km2 = (np.sqrt(3) / 2) * request.cell ** 2 / 1e6
    return grid, counts.astype(float), neighbours, {
        "geography": {"kind": "hex", "cell_m": request.cell, "cell_area_km2": round(area_km2, 4),
                      "units": len(grid), "crs": "EPSG:27700 (British National Grid)",
                      "study_area": f"hexagons that touch the union of {set_id}"},
        "records_outside_units": outside, "records_without_location": missing}


def _gi_features(units: gpd.GeoDataFrame, values: np.ndarray, result: stats.GiResult,
                 neighbours: stats.Neighbours) -> list[dict[str, Any]]:
    labels = {b: (label, color) for b, label, color in GI_CLASSES}
    geometries = units.to_crs(4326).geometry
    features = []
    for index, (unit_id, geometry) in enumerate(zip(units["id"], geometries, strict=True)):
        gi_bin = int(result.gi_bin[index])
        properties = {"id": str(unit_id), "value": float(values[index]), "gi_z": round(float(result.z[index]), 4),
                      "p_value": float(f"{result.p[index]:.4g}"), "gi_bin": gi_bin, "label": labels[gi_bin][0],
                      "color": labels[gi_bin][1], "neighbours": neighbours.cardinalities.get(str(unit_id), 0)}
        if result.p_sim is not None:
            properties["p_sim"] = float(f"{result.p_sim[index]:.4g}")
        if "name" in units.columns:
            properties.update(code=str(unit_id), name=units["name"].iloc[index])
        features.append({"type": "Feature", "id": str(unit_id), "geometry": _geojson(geometry),
                         "properties": properties})
    return features


def _geojson(geometry: Any) -> dict[str, Any]:
    """RFC 7946 geometry: counter-clockwise exterior rings, 6 decimals (about 0.1 m)."""
    from shapely import get_coordinates, orient_polygons, set_coordinates

    oriented = orient_polygons(geometry)
    rounded = set_coordinates(oriented, np.round(get_coordinates(oriented), 6))
    return mapping(rounded)


# --- kernel density -----------------------------------------------------------------------------------------------


def build_kde(session: Any, request: KdeRequest, data: PointData) -> dict[str, Any]:
    started = time.perf_counter()
    if request.bandwidth is not None:
        check_range("bandwidth", request.bandwidth)
    check_range("cell", request.cell, "kde_cell")
    outline, set_id = study_outline(session)
    try:
        grid = stats.kernel_density(data.xy, data.weights, outline.bounds, request.cell, request.bandwidth,
                                    KDE_MAX_CELLS)
    except stats.HotspotError as error:
        raise AnalysisError(str(error)) from None
    peak = float(grid.density.max())
    rows, columns = np.nonzero(grid.density >= peak * KDE_SHOWN_SHARE) if peak > 0 else (np.array([]), np.array([]))
    values = [float(grid.density[r, c]) for r, c in zip(rows, columns, strict=True)]
    cells = gpd.GeoSeries([grid.cell_polygon(r, c) for r, c in zip(rows, columns, strict=True)], crs=stats.BNG)
    classes, colors = _density_classes(values)
    features = []
    for index, (geometry, value) in enumerate(zip(cells.to_crs(4326), values, strict=True)):
        klass = classes.assignments[index] if classes else None
        features.append({"type": "Feature", "id": f"r{rows[index]}c{columns[index]}", "geometry": _geojson(geometry),
                         "properties": {"density": float(f"{value:.4g}"), "class": klass,
                                        "color": colors[klass] if klass is not None else "#bd0026"}})
    legend = classes.as_legend(colors) if classes else {"classes": []}
    legend.update(title=f"Kernel density ({_unit(data)} per km²)", palette=classification.DEFAULT_SEQUENTIAL,
                  unit=f"{_unit(data)} per km²")
    rule = ("given" if request.bandwidth is not None else
            "default: Esri's spatial Silverman rule 0.9 × min(SD, √(1/ln 2) × Dm) × n^-0.2 on British National "
            "Grid coordinates (SD standard distance, Dm median distance from the mean centre, n total weight)")
    metadata = {"analysis": "Gaussian kernel density, evaluated exactly at cell centres", **data.description,
                "bandwidth_m": round(grid.bandwidth, 1), "bandwidth_rule": rule, "cell_m": request.cell,
                "grid": {"rows": grid.shape[0], "columns": grid.shape[1], "crs": "EPSG:27700",
                         "extent": f"bounding box of {set_id}"},
                "peak_density": float(f"{peak:.4g}"), "cells_shown": len(features),
                "cells_shown_rule": f"cells with at least {KDE_SHOWN_SHARE:.0%} of the peak density",
                "compute_seconds": round(time.perf_counter() - started, 3)}
    return {"type": "FeatureCollection", "features": features, "legend": legend, "metadata": metadata}


def _density_classes(values: list[float]) -> tuple[classification.Classification | None, list[str]]:
    """Natural breaks (up to 5 classes) and YlOrRd colours; None when the values cannot be split."""
    distinct = len(set(values))
    if distinct < 2:
        return None, []
    classes = classification.classify(values, "natural_breaks", min(5, distinct))
    return classes, classification.palette(classification.DEFAULT_SEQUENTIAL, classes.k) if classes.k else []


def _unit(data: PointData) -> str:
    return "crimes" if data.description["source"] == CRIME else "weighted records"


# --- DBSCAN -------------------------------------------------------------------------------------------------------


def build_clusters(request: ClusterRequest, data: PointData) -> dict[str, Any]:
    started = time.perf_counter()
    check_range("eps", request.eps)
    check_range("min_points", request.min_points)
    try:
        result = stats.dbscan_clusters(data.xy, data.weights, request.eps, request.min_points)
    except stats.HotspotError as error:
        raise AnalysisError(str(error)) from None
    hulls = gpd.GeoSeries([c.hull for c in result.clusters], crs=stats.BNG).to_crs(4326)
    centres = gpd.GeoSeries(gpd.points_from_xy([c.centre[0] for c in result.clusters],
                                               [c.centre[1] for c in result.clusters]), crs=stats.BNG).to_crs(4326)
    features = []
    for cluster, hull, centre in zip(result.clusters, hulls, centres, strict=True):
        color = CLUSTER_COLORS[(cluster.label - 1) % len(CLUSTER_COLORS)]
        features.append({"type": "Feature", "id": cluster.label, "geometry": _geojson(hull), "properties": {
            "cluster": cluster.label, "records": cluster.records, "weight": cluster.weight,
            "centre": [round(centre.x, 6), round(centre.y, 6)], "hull_area_km2": round(cluster.hull.area / 1e6, 5),
            "hull_type": cluster.hull.geom_type, "color": color}})
    legend = {"title": "DBSCAN point clusters", "field": "cluster",
              "classes": [{"cluster": f["properties"]["cluster"], "color": f["properties"]["color"],
                           "records": f["properties"]["records"]} for f in features]}
    metadata = {"analysis": "DBSCAN (scikit-learn) in British National Grid metres; a core point has at least "
                            "min_points of weight within eps (itself included); hull = convex hull of the members",
                **data.description, "eps_m": request.eps, "min_points": request.min_points,
                "clusters": len(features), "noise_records": result.noise_records,
                "clustered_records": int(sum(c.records for c in result.clusters)),
                "compute_seconds": round(time.perf_counter() - started, 3)}
    return {"type": "FeatureCollection", "features": features, "legend": legend, "metadata": metadata}
