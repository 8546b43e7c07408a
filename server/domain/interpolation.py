"""Areal interpolation of counts from one boundary set to another (e.g. 2013 wards to 2024 wards).

Each source value is shared among its pieces (source ∩ target), always conserving the source total:
- `area`: tobler's area-weighted interpolation (each source value is shared by the area of each piece);
- `crime_points`: by the number of police.uk crime points in each piece, with a small area-based prior so that a
  piece with no points still gets a share in proportion to its size (weights pooled over every month given);
- `dasymetric`: by estimated residents: the 2011 LSOAs are treated as equal-population units (LSOAs were drawn to
  hold 1,000-3,000 people) spread by area inside each LSOA; no LSOA populations are loaded;
- `shrunk`: crime-point shares shrunk toward the dasymetric shares: (points + k·dasymetric share) / (points + k)
  per source area, so a piece's share rests on its points when the source area has many and on its residents
  when it has few (k = SHRINK_STRENGTH pseudo-points).
The held-out comparison (server/domain/accuracy.py, `scripts/atlas crime interpolation-accuracy`) picked `shrunk`
(BENCHMARKS.md). Geometries are handled in British National Grid (EPSG:27700) so that areas are in square metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from tobler.area_weighted import area_interpolate

BNG = 27700
AREA_PRIOR_POINTS = 0.5  # pseudo-points per source area, spread by area, for pieces without crime
SHRINK_STRENGTH = 40.0  # pseudo-points per source area pulling the crime-point shares toward the dasymetric ones
BEST_METHOD = "shrunk"

METHODS = {
    "area": "areal interpolation weighted by area (tobler area_interpolate)",
    "crime_points": "areal interpolation weighted by where police.uk crime points fall "
                    f"(with an area prior of {AREA_PRIOR_POINTS} points per source area)",
    "dasymetric": "areal interpolation weighted by residents (2011 LSOAs as equal-population units, spread by area)",
    "shrunk": f"areal interpolation by police.uk crime points shrunk toward residents (k = {SHRINK_STRENGTH:g})",
}


@dataclass
class Interpolated:
    values: dict[str, float]
    method: str
    description: str


def area_weighted(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float]) -> Interpolated:
    """source/target: GeoDataFrames with a `code` column; values by source code (extensive, e.g. counts)."""
    src = _with_values(source, values).to_crs(BNG)
    result = area_interpolate(src, target.to_crs(BNG), extensive_variables=["value"])
    estimates = dict(zip(target["code"], result["value"].astype(float), strict=True))
    return Interpolated(estimates, "area", METHODS["area"])


def point_weighted(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float],
                   points: gpd.GeoSeries) -> Interpolated:
    """Share each source value among its pieces by the crime points inside each piece."""
    pieces = _pieces(source, target)
    counts = _points_in(pieces, points)
    weights = counts + AREA_PRIOR_POINTS * _area_shares(pieces)
    return _shared(pieces, target, values, weights, "crime_points")


def dasymetric_weighted(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float],
                        lsoas: gpd.GeoDataFrame) -> Interpolated:
    """Share each source value by the residents of each piece (equal-population LSOAs spread by area)."""
    pieces = _pieces(source, target)
    return _shared(pieces, target, values, _resident_shares(pieces, lsoas), "dasymetric")


def shrunk_point_weighted(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float],
                          points: gpd.GeoSeries, lsoas: gpd.GeoDataFrame,
                          strength: float = SHRINK_STRENGTH) -> Interpolated:
    """Crime-point shares shrunk toward resident shares: few points in a source area, more weight on residents."""
    pieces = _pieces(source, target)
    weights = _points_in(pieces, points) + strength * _resident_shares(pieces, lsoas)
    return _shared(pieces, target, values, weights, "shrunk")


def interpolate(method: str, source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float],
                points: gpd.GeoSeries, lsoas: gpd.GeoDataFrame | None) -> Interpolated:
    """One of METHODS by name; without LSOAs the resident-based methods fall back to area shares inside them."""
    if method == "area":
        return area_weighted(source, target, values)
    if method == "crime_points":
        return point_weighted(source, target, values, points)
    if lsoas is None or lsoas.empty:
        lsoas = source[["code", "geometry"]]
    if method == "dasymetric":
        return dasymetric_weighted(source, target, values, lsoas)
    if method == "shrunk":
        return shrunk_point_weighted(source, target, values, points, lsoas)
    raise ValueError(f"unknown interpolation method {method!r}; known: {', '.join(METHODS)}")


def _points_in(pieces: gpd.GeoDataFrame, points: gpd.GeoSeries) -> pd.Series:
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points.to_crs(BNG)), pieces[["geometry"]],
                        predicate="within", how="inner")
    return located.groupby("index_right").size().reindex(pieces.index, fill_value=0).astype(float)


def _area_shares(pieces: gpd.GeoDataFrame) -> pd.Series:
    return pieces["piece_area"] / pieces.groupby("code_source")["piece_area"].transform("sum")


def _resident_shares(pieces: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame) -> pd.Series:
    """Each piece's share of its source area's residents, every LSOA holding the same number spread by area."""
    units = lsoas[["geometry"]].to_crs(BNG)
    units["unit_area"] = units.geometry.area
    overlap = gpd.overlay(pieces.reset_index()[["index", "geometry"]], units, how="intersection",
                          keep_geom_type=True)
    overlap["residents"] = overlap.geometry.area / overlap["unit_area"]
    residents = overlap.groupby("index")["residents"].sum().reindex(pieces.index, fill_value=0.0)
    totals = residents.groupby(pieces["code_source"]).transform("sum")
    # A source area outside every LSOA (none in practice) falls back to its area shares.
    return (residents / totals).where(totals > 0, _area_shares(pieces))


def _shared(pieces: gpd.GeoDataFrame, target: gpd.GeoDataFrame, values: dict[str, float], weights: pd.Series,
            method: str) -> Interpolated:
    totals_by_source = weights.groupby(pieces["code_source"]).transform("sum")
    shares = (weights / totals_by_source).where(totals_by_source > 0, _area_shares(pieces))
    shared = pieces["code_source"].map(values).fillna(0.0) * shares
    totals = shared.groupby(pieces["code_target"]).sum()
    estimates = {code: float(totals.get(code, 0.0)) for code in target["code"]}
    return Interpolated(estimates, method, METHODS[method])


def share_inside(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> dict[str, float]:
    """Per target code, the share of its area that the source areas cover (0 to 1)."""
    outline = gpd.GeoSeries([source.to_crs(BNG).union_all()], crs=BNG)
    tgt = target[["code", "geometry"]].to_crs(BNG)
    inside = tgt.geometry.intersection(outline.iloc[0]).area
    return {code: float(part / whole) if whole else 0.0
            for code, part, whole in zip(tgt["code"], inside, tgt.geometry.area, strict=True)}


def _pieces(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    src = source[["code", "geometry"]].to_crs(BNG)
    tgt = target[["code", "geometry"]].to_crs(BNG)
    pieces = gpd.overlay(src, tgt, how="intersection", keep_geom_type=True)
    pieces = pieces.rename(columns={"code_1": "code_source", "code_2": "code_target"})
    pieces["piece_area"] = pieces.geometry.area
    return pieces[pieces["piece_area"] > 0].reset_index(drop=True)


def _with_values(frame: gpd.GeoDataFrame, values: dict[str, float]) -> gpd.GeoDataFrame:
    out = frame[["code", "geometry"]].copy()
    out["value"] = out["code"].map(values).astype(float).fillna(0.0)
    return out


@dataclass
class AccuracyReport:
    method: str
    median_abs_pct_error: float
    worst_abs_pct_error: float
    worst_area: str
    total_estimated: float
    total_actual: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def area_errors(estimated: dict[str, float], actual: dict[str, float]) -> dict[str, float]:
    """Absolute % error of each estimate against the directly counted value (areas with actual > 0)."""
    return {code: abs(estimated.get(code, 0.0) - count) / count * 100 for code, count in actual.items() if count > 0}


def accuracy(estimated: dict[str, float], actual: dict[str, float], method: str) -> AccuracyReport:
    errors = pd.Series(area_errors(estimated, actual))
    return AccuracyReport(method=method, median_abs_pct_error=float(np.median(errors)),
                          worst_abs_pct_error=float(errors.max()), worst_area=str(errors.idxmax()),
                          total_estimated=float(sum(estimated.values())), total_actual=float(sum(actual.values())))
