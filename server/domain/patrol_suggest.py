"""Candidate patrol areas from the current hotspot analysis: the densest DBSCAN clusters of points, sized to patrol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from shapely.geometry import mapping

from server.domain.errors import DomainError
from server.domain.spatial_analysis import ClusterRequest, PointData, build_clusters

BNG = 27700
EDGE_BUFFER_M = 50.0  # points on the hull edge belong inside; a hull of two points becomes an area
LIMITS = {"n": (1, 20), "min_km2": (0.001, 10.0), "max_km2": (0.01, 60.0)}


class SuggestError(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class SuggestRequest:
    clusters: ClusterRequest
    n: int = 5
    min_km2: float = 0.05
    max_km2: float = 2.0

    @property
    def points(self):
        return self.clusters.points

    def validate(self) -> SuggestRequest:
        for name in LIMITS:
            low, high = LIMITS[name]
            if not low <= getattr(self, name) <= high:
                raise SuggestError(f"{name} must be from {low:g} to {high:g}")
        if self.min_km2 >= self.max_km2:
            raise SuggestError("min_km2 must be less than max_km2")
        return self


def suggest_areas(request: SuggestRequest, data: PointData) -> dict[str, Any]:
    """Up to n areas, most records first; each hull grown to at least min_km2; larger than max_km2 left out."""
    clusters = build_clusters(request.clusters, data)
    if not clusters["features"]:
        return {"type": "FeatureCollection", "features": [], "metadata": {**clusters["metadata"], "left_out": []}}
    frame = gpd.GeoDataFrame.from_features(clusters["features"], crs=4326).to_crs(BNG)
    candidates, left_out = [], []
    for _, row in frame.sort_values("weight", ascending=False).iterrows():
        area = _sized(row.geometry.buffer(EDGE_BUFFER_M), request.min_km2)
        size = area.area / 1e6
        if size > request.max_km2:
            left_out.append({"cluster": int(row["cluster"]), "area_km2": round(size, 3),
                             "reason": "larger than max_km2"})
            continue
        candidates.append((row, area, size))
        if len(candidates) == request.n:
            break
    shapes = gpd.GeoSeries([a for _, a, _ in candidates], crs=BNG).to_crs(4326)
    features = [{"type": "Feature", "geometry": mapping(shape_), "properties": {
        "name": f"Suggested area {rank} ({int(row['records'])} records)", "rank": rank, "cluster": int(row["cluster"]),
        "records": int(row["records"]), "weight": float(row["weight"]), "area_km2": round(size, 4)}}
        for rank, ((row, _a, size), shape_) in enumerate(zip(candidates, shapes, strict=True), start=1)]
    metadata = {**clusters["metadata"], "n": request.n, "min_km2": request.min_km2, "max_km2": request.max_km2,
                "method": f"DBSCAN cluster hulls buffered by {EDGE_BUFFER_M:g} m, grown to min_km2, most records "
                          "first; adopt one by saving it as a patrol area", "left_out": left_out}
    return {"type": "FeatureCollection", "features": features, "metadata": metadata}


def _sized(area, min_km2: float):
    """Grow an area by buffering until it reaches min_km2 (a small cluster still needs room to patrol)."""
    grown, step = area, 25.0
    while grown.area / 1e6 < min_km2:
        grown = grown.buffer(step)
    return grown
