"""Hotspot statistics in British National Grid metres: Getis-Ord Gi*, kernel density and DBSCAN point clusters.

Plain numbers and geometries in, plain results out: no Flask and no database (server.domain.spatial_analysis
fetches the data and serves the results as map layers). All distances are metres in EPSG:27700.

- **Gi\\*** (esda.G_Local with star=True, binary weights): the z-score is the permutation z (``z_sim``: the observed
  G* standardised by the mean and spread of its conditional permutations, esda's conditional randomisation), and the
  p-value is its two-sided normal tail, so the 90/95/99 % bins match ArcGIS's Gi_Bin. Each confidence level is
  corrected for the false discovery rate with esda.fdr (Benjamini-Hochberg), as ArcGIS does with its FDR option.
  ``inference="pseudo"`` uses the two-sided pseudo p-value ``2 × p_sim`` instead (the smallest it can be is
  2 / (permutations + 1), so with FDR over many areas it needs many permutations) and ``"analytical"`` uses the
  normal-theory z of Getis and Ord (ArcGIS's own).
- **Neighbours**: generalised polygons do not share vertices, so Queen/Rook contiguity makes islands. Areas are
  neighbours when they are closer than a tolerance (libpysal fuzzy contiguity, each polygon buffered by half of
  it); hexagons are neighbours when their centres are one cell apart (libpysal distance band).
- **Kernel density**: a Gaussian kernel evaluated exactly at each cell centre (no binning), in points (or weight)
  per km². Default bandwidth: Esri's spatial variant of Silverman's rule of thumb,
  h = 0.9 × min(SD, √(1/ln 2) × Dm) × n^-0.2, with SD the standard distance, Dm the median distance from the mean
  centre and n the total weight (ArcGIS Pro, "How Kernel Density works").
- **DBSCAN** (scikit-learn) with eps in metres and a minimum weight per neighbourhood; each cluster has its
  record count, total weight and convex hull.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from shapely import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from server.domain.errors import DomainError

BNG = "EPSG:27700"
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # Gi_Bin level and its two-sided alpha
GI_INFERENCE = ("z_sim", "pseudo", "analytical")


class HotspotError(DomainError, ValueError):
    """Inputs a statistic cannot use (HTTP 400); the message says what would work."""


# --- geometry ---------------------------------------------------------------------------------------------------


def hex_grid(outline: BaseGeometry, cell: float) -> gpd.GeoDataFrame:
    """Flat-topped hexagons covering `outline` (BNG); `cell` is the distance between neighbouring centres.

    Columns: id ("c{column}r{row}"), geometry. Only hexagons that intersect the outline are kept.
    """
    if cell <= 0:
        raise HotspotError("the hexagon cell size must be positive")
    radius = cell / math.sqrt(3)  # centre to corner
    minx, miny, maxx, maxy = outline.bounds
    columns = math.ceil((maxx - minx) / (1.5 * radius)) + 2
    rows = math.ceil((maxy - miny) / cell) + 2
    corners = [(radius * math.cos(math.radians(a)), radius * math.sin(math.radians(a))) for a in range(0, 360, 60)]
    ids, polygons = [], []
    for column in range(columns):
        x = minx - radius + column * 1.5 * radius
        offset = cell / 2 if column % 2 else 0.0
        for row in range(rows):
            y = miny - cell / 2 + row * cell + offset
            ids.append(f"c{column}r{row}")
            # rounded to the millimetre so that neighbours share their corners exactly (no slivers between them)
            polygons.append(Polygon([(round(x + dx, 3), round(y + dy, 3)) for dx, dy in corners]))
    grid = gpd.GeoDataFrame({"id": ids}, geometry=polygons, crs=BNG)
    return grid[grid.intersects(outline)].reset_index(drop=True)


def count_points_in_polygons(polygons: gpd.GeoDataFrame, xy: np.ndarray) -> tuple[np.ndarray, int]:
    """Points per polygon (polygons must not overlap) and how many points fell in none."""
    if len(xy) == 0:
        return np.zeros(len(polygons), dtype=int), 0
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=polygons.crs)
    point_index, polygon_index = polygons.sindex.query(points, predicate="intersects")
    first = np.full(len(xy), -1)
    first[point_index[::-1]] = polygon_index[::-1]  # a point on a shared edge counts once (its first polygon)
    placed = first >= 0
    counts = np.bincount(first[placed], minlength=len(polygons))
    return counts, int((~placed).sum())


# --- neighbours -------------------------------------------------------------------------------------------------


@dataclass
class Neighbours:
    weights: object  # libpysal.weights.W
    description: str
    islands: list[str]
    cardinalities: dict[str, int]

    def summary(self) -> dict:
        counts = list(self.cardinalities.values())
        return {"description": self.description, "islands": self.islands,
                "neighbours_min": min(counts) if counts else 0, "neighbours_max": max(counts) if counts else 0,
                "neighbours_mean": round(float(np.mean(counts)), 2) if counts else 0.0}


def area_neighbours(areas: gpd.GeoDataFrame, tolerance: float, id_column: str = "code") -> Neighbours:
    """Fuzzy contiguity: areas (in BNG) closer than `tolerance` metres are neighbours."""
    from libpysal import weights

    if tolerance < 0:
        raise HotspotError("the contiguity tolerance must be 0 or more metres")
    frame = gpd.GeoDataFrame(geometry=areas.geometry.values, index=areas[id_column].astype(str).values, crs=areas.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands and disconnected components
        if tolerance > 0:
            w = weights.fuzzy_contiguity(frame, buffering=True, buffer=tolerance / 2)
        else:
            w = weights.Queen.from_dataframe(frame, use_index=True)
    how = (f"fuzzy contiguity: areas within {tolerance:g} m of each other are neighbours (each polygon buffered by "
           f"{tolerance / 2:g} m), because generalised boundaries do not share vertices" if tolerance > 0
           else "Queen contiguity (shared vertex or edge)")
    return Neighbours(w, how, [str(i) for i in w.islands], {str(k): int(v) for k, v in w.cardinalities.items()})


def hex_neighbours(grid: gpd.GeoDataFrame, cell: float) -> Neighbours:
    """Hexagons whose centres are one cell apart (the six around each, fewer at the edge)."""
    from libpysal import weights

    centres = np.column_stack([grid.geometry.centroid.x, grid.geometry.centroid.y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = weights.DistanceBand(centres, threshold=cell * 1.01, binary=True, ids=grid["id"].tolist(),
                                 silence_warnings=True)
    return Neighbours(w, f"hexagons with centres {cell:g} m apart (the 6 around each cell)",
                      [str(i) for i in w.islands], {str(k): int(v) for k, v in w.cardinalities.items()})


# --- Getis-Ord Gi* ----------------------------------------------------------------------------------------------


@dataclass
class GiResult:
    z: np.ndarray
    p: np.ndarray  # two-sided p used for the bins
    p_sim: np.ndarray | None  # esda's folded one-sided pseudo p-value
    gi_bin: np.ndarray  # -3..3 like ArcGIS's Gi_Bin
    thresholds: dict[int, float]  # level -> FDR-adjusted p cut-off
    inference: str
    permutations: int
    notes: list[str] = field(default_factory=list)


def getis_ord(values: np.ndarray, neighbours: Neighbours, permutations: int = 999, seed: int = 12345,
              inference: str = "z_sim", fdr: bool = True) -> GiResult:
    """Gi* of each observation with permutation inference and FDR-corrected ArcGIS-style confidence bins."""
    from esda import G_Local
    from scipy import stats

    y = np.asarray(values, dtype=float)
    if inference not in GI_INFERENCE:
        raise HotspotError(f"inference must be one of {', '.join(GI_INFERENCE)}")
    if len(y) < 3:
        raise HotspotError("Gi* needs at least 3 areas")
    if neighbours.islands:
        shown = ", ".join(neighbours.islands[:5]) + (" …" if len(neighbours.islands) > 5 else "")
        raise HotspotError(f"{len(neighbours.islands)} of {len(y)} areas have no neighbours ({shown}), so Gi* is "
                           "undefined for them; use a larger contiguity tolerance (generalised boundaries do not "
                           "share vertices)")
    if y.sum() <= 0 or np.all(y == y[0]):
        raise HotspotError("Gi* needs values that differ between areas (all are equal here; is the period empty?)")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        local = G_Local(y, neighbours.weights, transform="B", permutations=permutations, star=True, seed=seed,
                        n_jobs=1, keep_simulations=True)
    if inference == "z_sim":
        z = np.nan_to_num(np.asarray(local.z_sim, dtype=float))
        p = 2 * stats.norm.sf(np.abs(z))
    elif inference == "pseudo":
        z = np.nan_to_num(np.asarray(local.z_sim, dtype=float))
        p = np.minimum(1.0, 2 * np.asarray(local.p_sim, dtype=float))
    else:
        z = np.nan_to_num(np.asarray(local.Zs, dtype=float))
        p = 2 * stats.norm.sf(np.abs(z))
    gi_bin, thresholds = confidence_bins(z, p, fdr)
    notes = []
    if inference == "pseudo" and fdr:
        notes.append(f"pseudo p-values cannot go below {2 / (permutations + 1):.4g} with {permutations} "
                     "permutations, which limits what survives the FDR correction")
    return GiResult(z, p, np.asarray(local.p_sim, dtype=float), gi_bin, thresholds, inference, permutations, notes)


def confidence_bins(z: np.ndarray, p: np.ndarray, fdr: bool = True) -> tuple[np.ndarray, dict[int, float]]:
    """ArcGIS's Gi_Bin: ±3 at 99 %, ±2 at 95 %, ±1 at 90 % confidence (sign of z), 0 not significant."""
    from esda import fdr as fdr_cutoff

    bins = np.zeros(len(z), dtype=int)
    thresholds: dict[int, float] = {}
    for level, alpha in reversed(CONFIDENCE_LEVELS):  # 90 % first, so stricter levels overwrite
        cutoff = float(fdr_cutoff(p, alpha)) if fdr else alpha
        thresholds[level] = cutoff
        significant = p < cutoff
        bins[significant] = level * np.sign(z[significant]).astype(int)
    return bins, thresholds


# --- kernel density ---------------------------------------------------------------------------------------------


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def default_bandwidth(xy: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Esri's spatial Silverman rule: 0.9 × min(SD, √(1/ln 2) × Dm) × n^-0.2 (metres); SD alone when Dm is 0."""
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    n = float(w.sum())
    if len(xy) < 2 or n <= 1:
        raise HotspotError("the default bandwidth needs at least two points; give bandwidth= in metres")
    centre = (xy * w[:, None]).sum(axis=0) / n
    squared = ((xy - centre) ** 2).sum(axis=1)
    standard_distance = math.sqrt(float((squared * w).sum()) / n)
    median_distance = weighted_median(np.sqrt(squared), w)
    # A median distance of 0 (most points at the mean centre) would give no bandwidth: use SD alone then.
    spread = (min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance) if median_distance > 0
              else standard_distance)
    if spread <= 0:
        raise HotspotError("the points are all at one place, so no default bandwidth exists; give bandwidth=")
    return 0.9 * spread * n ** -0.2


@dataclass
class DensityGrid:
    origin: tuple[float, float]  # lower-left corner of the grid (BNG)
    cell: float
    shape: tuple[int, int]  # rows, columns
    density: np.ndarray  # rows × columns, weight per km²
    bandwidth: float

    def cell_polygon(self, row: int, column: int) -> Polygon:
        x0 = self.origin[0] + column * self.cell
        y0 = self.origin[1] + row * self.cell
        return Polygon([(x0, y0), (x0 + self.cell, y0), (x0 + self.cell, y0 + self.cell), (x0, y0 + self.cell)])


def grid_for(bounds: tuple[float, float, float, float], cell: float, max_cells: int) -> tuple[tuple[float, float],
                                                                                             tuple[int, int]]:
    """Origin (snapped to whole cells) and shape of a grid covering `bounds`."""
    if cell <= 0:
        raise HotspotError("the cell size must be positive")
    minx, miny, maxx, maxy = bounds
    x0, y0 = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    columns = max(1, math.ceil((maxx - x0) / cell))
    rows = max(1, math.ceil((maxy - y0) / cell))
    if rows * columns > max_cells:
        raise HotspotError(f"a {cell:g} m grid over this area has {rows * columns:,} cells; at most {max_cells:,} "
                           "are allowed, so use a larger cell")
    return (x0, y0), (rows, columns)


def kernel_density(xy: np.ndarray, weights: np.ndarray | None, bounds: tuple[float, float, float, float],
                   cell: float, bandwidth: float | None = None, max_cells: int = 250_000) -> DensityGrid:
    """Gaussian kernel density at the centre of each cell, in weight per km² (it integrates to the total weight)."""
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    if len(xy) == 0:
        raise HotspotError("there are no points to estimate a density from")
    h = default_bandwidth(xy, w) if bandwidth is None else float(bandwidth)
    if h <= 0:
        raise HotspotError("the bandwidth must be positive")
    origin, (rows, columns) = grid_for(bounds, cell, max_cells)
    points, point_weights = _merge_duplicates(xy, w)
    xs = origin[0] + (np.arange(columns) + 0.5) * cell
    ys = origin[1] + (np.arange(rows) + 0.5) * cell
    # The Gaussian kernel is separable: K(dx, dy) = k(dx) k(dy), so the grid is one matrix product.
    across = np.exp(-((xs[:, None] - points[None, :, 0]) ** 2) / (2 * h * h))  # columns × points
    up = np.exp(-((ys[:, None] - points[None, :, 1]) ** 2) / (2 * h * h))  # rows × points
    density = (up * point_weights[None, :]) @ across.T * (1e6 / (2 * math.pi * h * h))  # per m² -> per km²
    return DensityGrid(origin, cell, (rows, columns), density, h)


def _merge_duplicates(xy: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Police.uk snaps crimes to a few thousand points: sum the weights of identical locations."""
    unique, inverse = np.unique(np.round(xy, 3), axis=0, return_inverse=True)
    return unique, np.bincount(inverse.ravel(), weights=weights, minlength=len(unique))


# --- DBSCAN -----------------------------------------------------------------------------------------------------


@dataclass
class PointCluster:
    label: int
    records: int
    weight: float
    hull: BaseGeometry  # BNG; a Point or LineString when the members are at one or two places / in a line
    centre: tuple[float, float]
    members: np.ndarray  # indices into the input


@dataclass
class ClusterResult:
    clusters: list[PointCluster]
    noise_records: int
    eps: float
    min_points: int


def dbscan_clusters(xy: np.ndarray, weights: np.ndarray | None, eps: float, min_points: int) -> ClusterResult:
    """DBSCAN in metres; a point is a core point when the weight within eps (itself included) is ≥ min_points.

    Clusters are numbered 1, 2, … by total weight, largest first.
    """
    from sklearn.cluster import DBSCAN

    if eps <= 0:
        raise HotspotError("eps must be a positive distance in metres")
    if min_points < 1:
        raise HotspotError("min_points must be at least 1")
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    if len(xy) == 0:
        return ClusterResult([], 0, eps, min_points)
    labels = DBSCAN(eps=eps, min_samples=int(min_points)).fit(xy, sample_weight=w).labels_
    found = []
    for label in sorted(set(labels) - {-1}):
        members = np.flatnonzero(labels == label)
        member_weights = w[members]
        total = float(member_weights.sum())
        centre = (xy[members] * member_weights[:, None]).sum(axis=0) / total if total else xy[members].mean(axis=0)
        found.append(PointCluster(int(label), len(members), total, MultiPoint(xy[members]).convex_hull,
                                  (float(centre[0]), float(centre[1])), members))
    found.sort(key=lambda c: (-c.weight, -c.records, c.centre))
    for number, cluster in enumerate(found, start=1):
        cluster.label = number
    return ClusterResult(found, int((labels == -1).sum()), eps, min_points)
