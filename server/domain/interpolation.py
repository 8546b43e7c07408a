"""Areal interpolation of counts from one boundary set to another (e.g. 2013 wards to 2024 wards).

Two weightings, both conserving the source total:
- `area`: tobler's area-weighted interpolation (each source value is shared by the area of each piece);
- `crime_points`: each source value is shared by the number of police.uk crime points in each piece,
  with a small area-based prior so that a piece with no points still gets a share in proportion to
  its size (and a source area with no points at all falls back to area weighting).
Geometries are handled in British National Grid (EPSG:27700) so that areas are in square metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from tobler.area_weighted import area_interpolate

BNG = 27700
AREA_PRIOR_POINTS = 0.5  # pseudo-points per source area, spread by area, for pieces without crime

METHODS = {
    "area": "areal interpolation weighted by area (tobler area_interpolate)",
    "crime_points": "areal interpolation weighted by where police.uk crime points fall "
                    f"(with an area prior of {AREA_PRIOR_POINTS} points per source area)",
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
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points.to_crs(BNG)), pieces[["geometry"]],
                        predicate="within", how="inner")
    pieces["points"] = located.groupby("index_right").size().reindex(pieces.index, fill_value=0)
    source_area = pieces.groupby("code_source")["piece_area"].transform("sum")
    pieces["weight"] = pieces["points"] + AREA_PRIOR_POINTS * pieces["piece_area"] / source_area
    pieces["share"] = pieces["weight"] / pieces.groupby("code_source")["weight"].transform("sum")
    pieces["value"] = pieces["code_source"].map(values).fillna(0.0) * pieces["share"]
    totals = pieces.groupby("code_target")["value"].sum()
    estimates = {code: float(totals.get(code, 0.0)) for code in target["code"]}
    return Interpolated(estimates, "crime_points", METHODS["crime_points"])


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


def accuracy(estimated: dict[str, float], actual: dict[str, float], method: str) -> AccuracyReport:
    """Absolute % error of each estimate against the directly counted value (areas with actual > 0)."""
    codes = [c for c in actual if actual[c] > 0]
    errors = pd.Series({c: abs(estimated.get(c, 0.0) - actual[c]) / actual[c] * 100 for c in codes})
    return AccuracyReport(method=method, median_abs_pct_error=float(np.median(errors)),
                          worst_abs_pct_error=float(errors.max()), worst_area=str(errors.idxmax()),
                          total_estimated=float(sum(estimated.values())), total_actual=float(sum(actual.values())))
