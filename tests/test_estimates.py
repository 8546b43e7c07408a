"""Re-estimates across the May 2024 boundary change: the methods compared on both held-out directions, the shrunk
weights checked by hand, and the interval every re-estimated value carries (layer, legend, exports)."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from server.domain import interpolation
from server.domain.accuracy import COMPARED, compare_interpolation, held_out_errors
from server.domain.periods import parse_period
from server.store.db import transaction

LATER, EARLIER = parse_period("2022-07/2022-11"), parse_period("2022-01/2022-06")
SEED_2024 = "/api/layers/wards-2024?metric=seed-crimes-by-ward&period=2023"


@pytest.fixture(scope="module")
def directions(engine):
    with transaction(engine) as session:
        return [compare_interpolation(session, LATER, EARLIER), compare_interpolation(session, EARLIER, LATER)]


def test_every_method_conserves_the_total_in_both_directions(directions):
    for result in directions:
        assert [r.method for r in result.reports] == list(COMPARED)
        for report in result.reports:
            assert report.total_estimated == pytest.approx(report.total_actual)


def test_the_kept_method_beats_the_old_one_and_pooling_beats_one_month(directions):
    for result in directions:
        median = {r.method: r.median_abs_pct_error for r in result.reports}
        assert median[interpolation.BEST_METHOD] < median["crime_points"] < median["crime_points_last_month"]
        assert median["crime_points"] < median["area"]


def _frames():
    bng = 27700
    source = gpd.GeoDataFrame({"code": ["S"]}, geometry=[box(0, 0, 200, 100)], crs=bng).to_crs(4326)
    target = gpd.GeoDataFrame({"code": ["L", "R"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
                              crs=bng).to_crs(4326)
    # One "LSOA" over the left half only and one over the right: equal residents in each half.
    lsoas = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
                             crs=bng).to_crs(4326)
    points = gpd.GeoSeries([Point(10, 10), Point(20, 20), Point(30, 30), Point(150, 50)], crs=bng).to_crs(4326)
    return source, target, lsoas, points


def test_shrunk_shares_by_hand():
    source, target, lsoas, points = _frames()
    result = interpolation.shrunk_point_weighted(source, target, {"S": 80.0}, points, lsoas, strength=4)
    # (3 points + 4 × 0.5) / (4 points + 4) = 0.625 of the 80 to the left half
    assert result.values["L"] == pytest.approx(50.0) and result.values["R"] == pytest.approx(30.0)
    by_points = interpolation.point_weighted(source, target, {"S": 80.0}, points)
    assert by_points.values["L"] == pytest.approx(80 * (3 + 0.25) / (4 + 0.5))
    residents = interpolation.dasymetric_weighted(source, target, {"S": 80.0}, lsoas)
    assert residents.values == pytest.approx({"L": 40.0, "R": 40.0})


def test_shrinkage_leans_on_residents_when_points_are_few():
    source, target, lsoas, points = _frames()
    weak = interpolation.shrunk_point_weighted(source, target, {"S": 80.0}, points, lsoas, strength=1000)
    strong = interpolation.shrunk_point_weighted(source, target, {"S": 80.0}, points, lsoas, strength=0.001)
    assert weak.values["L"] == pytest.approx(40.0, abs=0.2)
    assert strong.values["L"] == pytest.approx(60.0, abs=0.1)


# --- intervals ----------------------------------------------------------------------------------------------------

def _independent_errors(engine) -> dict[str, float]:
    with transaction(engine) as session:
        runs = [compare_interpolation(session, counted, weights, methods=(interpolation.BEST_METHOD,))
                for counted, weights in ((LATER, EARLIER), (EARLIER, LATER))]
    codes = set(runs[0].errors[interpolation.BEST_METHOD]) | set(runs[1].errors[interpolation.BEST_METHOD])
    return {code: max(run.errors[interpolation.BEST_METHOD].get(code, 0.0) for run in runs) for code in codes}


def test_each_re_estimated_value_has_the_held_out_interval_of_its_area(client, engine):
    layer = client.get(SEED_2024).get_json()
    errors = _independent_errors(engine)
    assert layer["legend"]["estimated"] is True
    estimate = layer["metadata"]["estimate"]
    assert estimate["method"] == interpolation.BEST_METHOD and estimate["worst_error_pct"] == pytest.approx(
        max(errors.values()), abs=0.05)
    assert any(note.startswith("estimated for these boundaries") for note in layer["metadata"]["notes"])
    shown = set()
    for feature in layer["features"]:
        p = feature["properties"]
        error = errors[p["code"]] / 100
        assert p["estimate_error_pct"] == pytest.approx(errors[p["code"]], abs=1e-3)
        assert p["estimate_low"] == pytest.approx(max(0.0, p["value"] * (1 - error)), abs=1e-3)
        assert p["estimate_high"] == pytest.approx(p["value"] * (1 + error), abs=1e-3)
        assert p["estimate_low"] < p["value"] < p["estimate_high"]
        shown.add(round(p["estimate_error_pct"], 3))
    assert len(shown) == len(layer["features"])  # per area, not one figure for all


def test_held_out_errors_split_the_loaded_months_as_the_command_does(engine):
    with transaction(engine) as session:
        memoised = held_out_errors(session, interpolation.BEST_METHOD, "wards-2013", "wards-2024")
    assert memoised == pytest.approx(_independent_errors(engine))


def test_rates_and_changes_of_re_estimates_carry_intervals(client):
    rate = client.get("/api/layers/wards-2024?metric=seed-crime-rate-by-ward&period=2023&measure=rate").get_json()
    count = {f["properties"]["code"]: f["properties"] for f in client.get(SEED_2024).get_json()["features"]}
    for feature in rate["features"]:
        p = feature["properties"]
        assert p["estimate_error_pct"] == pytest.approx(count[p["code"]]["estimate_error_pct"])
        assert p["estimate_low"] < p["value"] < p["estimate_high"]
    change = client.get(f"{SEED_2024}&measure=change").get_json()
    for feature in change["features"]:
        p = feature["properties"]
        assert p["estimate_low"] < p["value"] < p["estimate_high"] and p["estimate_error_pct"] is None
        now = count[p["code"]]
        assert p["estimate_high"] - p["estimate_low"] > now["estimate_high"] - now["estimate_low"]


def test_figures_on_their_own_boundaries_are_not_estimates(client):
    for url in ("/api/layers/wards-2013?metric=seed-crimes-by-ward&period=2023",
                "/api/layers/wards-2024?metric=all-crime&period=2022-11"):
        layer = client.get(url).get_json()
        assert layer["legend"]["estimated"] is False and layer["metadata"]["estimate"] is None
        assert all("estimate_low" not in f["properties"] for f in layer["features"])


def test_exports_add_the_interval_columns_to_re_estimates_only(client):
    estimated = client.get("/api/exports/wards-2024.csv?metric=seed-crimes-by-ward&period=2023")
    rows = list(csv.DictReader(io.StringIO(estimated.get_data(as_text=True))))
    assert list(rows[0]) == ["code", "name", "value", "class", "rank", "color", "estimate_low", "estimate_high",
                             "estimate_error_pct"]
    assert all(float(r["estimate_low"]) < float(r["value"]) < float(r["estimate_high"]) for r in rows)
    exact = client.get("/api/exports/wards-2013.csv?metric=seed-crimes-by-ward&period=2023")
    assert next(csv.reader(io.StringIO(exact.get_data(as_text=True)))) == ["code", "name", "value", "class", "rank",
                                                                          "color"]


def test_accuracy_command_compares_every_method_on_both_directions(engine):
    from click.testing import CliRunner

    from server.cli import cli

    result = CliRunner().invoke(cli, ["crime", "interpolation-accuracy", "--strengths", "80"])
    assert result.exit_code == 0, result.output
    assert "counted 2022-07/2022-11, weights 2022-01/2022-06" in result.output
    assert "counted 2022-01/2022-06, weights 2022-07/2022-11" in result.output
    rows = {line.split()[0] if not line.startswith("shrunk k=") else "shrunk k=80": line
            for line in result.output.splitlines()[3:-1]}
    assert set(rows) == {*COMPARED, "shrunk k=80"}
    assert "Senacre" in rows["crime_points"] and "the map uses 'shrunk'" in result.output
    refused = CliRunner().invoke(cli, ["crime", "interpolation-accuracy", "--strengths", "eighty"])
    assert refused.exit_code == 2 and "--strengths must be numbers" in refused.output


def test_rates_over_an_estimated_population_say_so(client):
    layer = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-11&measure=rate").get_json()
    (note,) = [n for n in layer["metadata"]["notes"] if n.startswith("rates use an estimated population")]
    assert "Interpolated by area from the wards-2013 population" in note
    counts = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-11").get_json()
    assert not any(n.startswith("rates use") for n in counts["metadata"]["notes"])
