"""Hotspot statistics on constructed inputs with known answers (Gi*, kernel density, DBSCAN, hexagons), neighbours
of the real Maidstone polygons, and the parsing of points and import files."""

from __future__ import annotations

import json
import math
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from server.domain import spatial_statistics as stats
from server.domain.hotspot_input import ImportFileError, PointInputError, parse_point, read_import_file
from server.store import frames
from server.store.db import transaction

TODAY = date(2024, 6, 30)


# --- Gi* ----------------------------------------------------------------------------------------------------------


def lattice(size: int, cell: float = 100.0) -> gpd.GeoDataFrame:
    """size × size square cells in BNG; code 'r{row}c{column}'."""
    cells = [(f"r{r}c{c}", box(c * cell, r * cell, (c + 1) * cell, (r + 1) * cell))
             for r in range(size) for c in range(size)]
    return gpd.GeoDataFrame({"code": [c for c, _ in cells]}, geometry=[g for _, g in cells], crs=stats.BNG)


def block(size: int, rows: range, columns: range) -> np.ndarray:
    inside = np.zeros((size, size), dtype=bool)
    inside[rows.start:rows.stop, columns.start:columns.stop] = True
    return inside.ravel()


def test_gi_star_finds_a_constructed_hot_spot_and_nothing_far_from_it():
    size = 12
    grid = lattice(size)
    rng = np.random.default_rng(7)
    values = rng.poisson(5, size * size).astype(float)
    hot = block(size, range(7, 10), range(7, 10))
    values[hot] = 40
    result = stats.getis_ord(values, stats.area_neighbours(grid, 1.0), permutations=999, seed=1)
    codes = list(grid["code"])
    assert result.gi_bin[codes.index("r8c8")] == 3, "the centre of the block is a 99 % hot spot"
    assert all(result.gi_bin[hot] >= 2)
    near = block(size, range(6, 11), range(6, 11))
    assert not np.any(result.gi_bin[~near] > 0), "no hot spot away from the block"
    assert result.z[codes.index("r8c8")] > 5


def test_gi_star_finds_a_cold_spot_in_a_busy_area():
    size = 12
    values = np.random.default_rng(3).poisson(30, size * size).astype(float)
    cold = block(size, range(2, 5), range(2, 5))
    values[cold] = 0
    result = stats.getis_ord(values, stats.area_neighbours(lattice(size), 1.0), permutations=999, seed=1)
    assert result.gi_bin[list(lattice(size)["code"]).index("r3c3")] == -3
    assert not np.any(result.gi_bin > 0)


def test_gi_star_refuses_constant_values():
    with pytest.raises(stats.HotspotError, match="differ"):
        stats.getis_ord(np.ones(16), stats.area_neighbours(lattice(4), 1.0))


def test_confidence_bins_follow_arcgis_gi_bin_without_fdr():
    z = np.array([3.0, -3.0, 2.0, 1.7, -1.7, 0.5])
    p = np.array([0.001, 0.001, 0.03, 0.08, 0.08, 0.6])
    bins, thresholds = stats.confidence_bins(z, p, fdr=False)
    assert bins.tolist() == [3, -3, 2, 1, -1, 0]
    assert thresholds == {1: 0.10, 2: 0.05, 3: 0.01}


def test_fdr_is_stricter_than_the_plain_levels():
    p = np.array([0.004, 0.02, 0.04, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
    z = np.full(len(p), 2.5)
    plain, _ = stats.confidence_bins(z, p, fdr=False)
    corrected, thresholds = stats.confidence_bins(z, p, fdr=True)
    assert plain.tolist()[:3] == [3, 2, 2]
    assert corrected.tolist()[:3] == [2, 0, 0]  # BH at 95 %: 0.004 < 1 × 0.05 / 10; 0.02 > 2 × 0.05 / 10
    assert thresholds[2] == pytest.approx(0.005)


# --- neighbours of the real polygons ------------------------------------------------------------------------------


@pytest.mark.parametrize("set_id", ["lsoa-2011", "wards-2013", "wards-2024"])
def test_no_maidstone_area_is_an_island_with_the_default_tolerance(engine, set_id):
    with transaction(engine) as session:
        areas = frames.areas(session, set_id).to_crs(stats.BNG)
    neighbours = stats.area_neighbours(areas, tolerance=10)
    assert neighbours.islands == []
    assert min(neighbours.cardinalities.values()) >= 1


def test_strict_queen_contiguity_makes_every_lsoa_an_island(engine):
    """The trap: the generalised LSOA polygons share no vertices, so plain contiguity finds no neighbours."""
    with transaction(engine) as session:
        areas = frames.areas(session, "lsoa-2011").to_crs(stats.BNG)
    assert len(stats.area_neighbours(areas, tolerance=0).islands) == len(areas) == 95


# --- hexagons -----------------------------------------------------------------------------------------------------


def test_hex_grid_covers_the_outline_with_six_neighbours_inside():
    outline = box(0, 0, 5000, 3000)
    grid = stats.hex_grid(outline, 500)
    assert grid.union_all().covers(outline)
    assert np.allclose(grid.geometry.area, math.sqrt(3) / 2 * 500 ** 2, rtol=1e-5)
    neighbours = stats.hex_neighbours(grid, 500)
    centre = grid.index[grid.geometry.contains(Point(2500, 1500))][0]
    assert neighbours.cardinalities[grid["id"][centre]] == 6
    assert neighbours.islands == []


def test_points_are_counted_once_per_polygon():
    squares = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=stats.BNG)
    counts, outside = stats.count_points_in_polygons(squares, np.array([[5, 5], [10, 5], [15, 5], [50, 50]]))
    assert counts.sum() == 3 and outside == 1 and counts[1] >= 1


# --- kernel density -----------------------------------------------------------------------------------------------


def test_kernel_density_of_one_point_is_the_gaussian_kernel():
    h, cell = 100.0, 10.0
    point = np.array([[500_005.0, 200_005.0]])  # the centre of a 10 m cell
    grid = stats.kernel_density(point, None, (499_000, 199_000, 501_000, 201_000), cell, bandwidth=h)
    peak = 1e6 / (2 * math.pi * h * h)  # per km²
    row, column = np.unravel_index(np.argmax(grid.density), grid.shape)
    assert grid.density[row, column] == pytest.approx(peak, rel=1e-9)
    assert grid.density[row, column + 10] == pytest.approx(peak * math.exp(-0.5), rel=1e-9)  # 100 m east
    assert grid.density.sum() * (cell / 1000) ** 2 == pytest.approx(1.0, abs=1e-6)  # integrates to the weight
    assert grid.cell_polygon(row, column).centroid.coords[0] == pytest.approx(tuple(point[0]))


def test_kernel_density_weights_and_duplicates_add_up():
    bounds = (-1000, -1000, 1000, 1000)
    one = stats.kernel_density(np.array([[5.0, 5.0]]), np.array([3.0]), bounds, 10, bandwidth=80)
    three = stats.kernel_density(np.array([[5.0, 5.0]] * 3), None, bounds, 10, bandwidth=80)
    assert np.allclose(one.density, three.density)


def test_default_bandwidth_is_esris_spatial_silverman_rule():
    square = np.array([[100.0, 0], [-100, 0], [0, 100], [0, -100]])  # SD = Dm = 100 m, n = 4
    assert stats.default_bandwidth(square) == pytest.approx(0.9 * 100 * 4 ** -0.2)
    diagonal = 10 / math.sqrt(2)
    near = [(10, 0), (-10, 0), (0, 10), (0, -10), (diagonal, diagonal), (-diagonal, -diagonal),
            (diagonal, -diagonal), (-diagonal, diagonal)]
    concentrated = np.array([*near, (1000, 0), (-1000, 0)], dtype=float)  # Dm = 10 m, SD ≈ 447 m
    assert stats.default_bandwidth(concentrated) == pytest.approx(0.9 * math.sqrt(1 / math.log(2)) * 10 * 10 ** -0.2)
    centred = np.array([[0.0, 0], [0, 0], [0, 0], [1000, 0], [-1000, 0]])  # Dm = 0: SD alone
    assert stats.default_bandwidth(centred) == pytest.approx(0.9 * math.sqrt(2e6 / 5) * 5 ** -0.2)
    with pytest.raises(stats.HotspotError, match="two points"):
        stats.default_bandwidth(np.array([[0.0, 0.0]]))
    with pytest.raises(stats.HotspotError, match="one place"):
        stats.default_bandwidth(np.array([[5.0, 5.0], [5.0, 5.0]]))


def test_kernel_density_refuses_a_grid_that_is_too_fine():
    with pytest.raises(stats.HotspotError, match="larger cell"):
        stats.kernel_density(np.array([[0.0, 0.0], [10, 10]]), None, (0, 0, 100_000, 100_000), 10, 50,
                             max_cells=1000)


# --- DBSCAN -------------------------------------------------------------------------------------------------------


def test_dbscan_finds_two_constructed_clusters_with_their_hulls():
    ring = [(20 * math.cos(a), 20 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 10, endpoint=False)]
    first = [(0.0, 0.0), *ring]
    second = [(1000 + dx, dy) for dx, dy in [(0, 0), (10, 0), (0, 10), (-10, 0), (0, -10)]]
    noise = [(5000.0, 5000.0), (-4000.0, 300.0), (2500.0, -2500.0)]
    result = stats.dbscan_clusters(np.array(first + second + noise), None, eps=50, min_points=4)
    assert [c.records for c in result.clusters] == [11, 5]
    assert result.noise_records == 3
    big, small = result.clusters
    assert big.label == 1 and small.label == 2
    assert big.hull.area == pytest.approx(5 * 400 * math.sin(2 * math.pi / 10))  # regular decagon, r = 20 m
    assert big.centre == pytest.approx((0.0, 0.0), abs=1e-9)
    assert small.hull.area == pytest.approx(200.0)  # the diamond of side 10√2
    assert small.centre == pytest.approx((1000.0, 0.0))


def test_dbscan_counts_weights_towards_the_minimum():
    xy = np.array([[0.0, 0.0], [3000.0, 0.0]])
    result = stats.dbscan_clusters(xy, np.array([5.0, 1.0]), eps=50, min_points=5)
    assert len(result.clusters) == 1 and result.clusters[0].weight == 5
    assert result.clusters[0].hull.geom_type == "Point" and result.noise_records == 1


# --- parsing points and files -------------------------------------------------------------------------------------


def test_point_from_british_national_grid_is_converted_to_lon_lat():
    point = parse_point({"easting": 576_030, "northing": 155_670, "observed": "2023-05", "count": "4"}, today=TODAY)
    assert point.lon == pytest.approx(0.5221, abs=0.001) and point.lat == pytest.approx(51.2734, abs=0.001)
    assert (point.observed_from, point.observed_to, point.count) == (date(2023, 5, 1), date(2023, 5, 31), 4)


@pytest.mark.parametrize(("data", "reason"), [
    ({"observed": "2023-05-01"}, "no location"),
    ({"lon": 0.52, "lat": 51.27}, "observed date missing"),
    ({"lon": 0.52, "lat": 51.27, "easting": 576000, "northing": 155000, "observed": "2023"}, "not both"),
    ({"lon": 151.27, "lat": 0.52, "observed": "2023"}, "not in England"),
    ({"lon": 0.52, "observed": "2023"}, "give both lon and lat"),
    ({"place": "Whatman Park", "observed": "2023-13"}, "not a month"),
    ({"place": "Whatman Park", "observed": "2099-01-01"}, "between 1900-01-01 and today"),
    ({"place": "Whatman Park", "observed_from": "2023-05-02", "observed_to": "2023-05-01"}, "before"),
    ({"place": "Whatman Park", "observed": "2023", "count": -1}, "count must be from 1"),
    ({"place": "Whatman Park", "observed": "2023", "count": 0}, "count must be from 1"),
    ({"place": "Whatman Park", "observed": "2023", "count": 1.5}, "whole number"),
    ({"place": "Whatman Park", "observed": "2023", "colour": "red"}, "unknown field(s) colour"),
])
def test_bad_points_are_refused_with_the_reason(data, reason):
    with pytest.raises(PointInputError) as error:
        parse_point(data, today=TODAY)
    assert any(reason in problem for problem in error.value.problems), error.value.problems


def test_csv_import_reports_every_bad_row_with_file_and_row():
    csv_text = ("lon,lat,place,observed,count,notes,extra\n"
                "0.52,51.27,,2023-05-01,2,ok,x\n"
                ",,,2023-05-01,1,no location,\n"
                "0.52,51.27,,2023-02-30,1,bad date,\n"
                ",,River Steps,2023,12,ok,\n")
    with pytest.raises(ImportFileError) as error:
        read_import_file("finds.csv", csv_text.encode(), TODAY)
    problems = error.value.problems
    assert [(p["file"], p["row"]) for p in problems] == [("finds.csv", 3), ("finds.csv", 4)]
    assert "no location" in problems[0]["reason"] and "2023-02-30" in problems[1]["reason"]
    assert "2 row(s) refused, nothing imported" in error.value.message


def test_csv_import_of_good_rows_keeps_ignored_columns():
    parsed = read_import_file("finds.csv", b"Easting,Northing,Date,Count,Colour\n576030,155670,2023-05-01,3,red\n",
                              TODAY)
    assert parsed.ignored_columns == ["Colour"] and parsed.coordinates == "easting/northing"
    [(row, point)] = parsed.rows
    assert row == 2 and point.count == 3 and point.lon is not None


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("finds.txt", b"x", "unsupported file type"),
    ("finds.csv", b"", "empty"),
    ("finds.csv", b"count,notes\n1,x\n", "no location columns"),
    ("finds.csv", b"\xff\xfe\x00", "not UTF-8"),
    ("finds.geojson", b"{nope", "not valid JSON"),
    ("finds.geojson", b'{"type": "Polygon"}', "not a GeoJSON"),
])
def test_unreadable_files_are_refused_whole(name, content, reason):
    with pytest.raises(ImportFileError) as error:
        read_import_file(name, content, TODAY)
    assert reason in error.value.problems[0]["reason"] and error.value.problems[0]["row"] == 0


def test_geojson_import_reads_british_grid_and_reports_bad_features():
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
                  "features": [
                      {"type": "Feature", "geometry": {"type": "Point", "coordinates": [576030, 155670]},
                       "properties": {"observed": "2023-05-01", "count": 2}},
                      {"type": "Feature", "geometry": None,
                       "properties": {"place": "Rose Garden", "observed": "2023"}}]}
    parsed = read_import_file("finds.geojson", json.dumps(collection).encode(), TODAY)
    assert parsed.rows[0][1].lat == pytest.approx(51.2734, abs=0.001) and parsed.rows[1][1].place == "Rose Garden"
    collection["features"].append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": []},
                                   "properties": {"observed": "2023"}})
    with pytest.raises(ImportFileError) as error:
        read_import_file("finds.geojson", json.dumps(collection).encode(), TODAY)
    assert error.value.problems == [{"file": "finds.geojson", "row": 3,
                                     "reason": "geometry must be a Point (or null with a place), not LineString"}]
