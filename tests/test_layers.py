"""Classified layers: values against independent counts, legends, measures, interpolation, caching, every 400."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import text

from server.domain import classify
from server.domain.accuracy import compare_interpolation
from server.domain.periods import parse_period
from server.domain.seed_tables import read_seed_table
from server.store.db import transaction
from tests.conftest import bearer


def layer(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def values_by_code(collection: dict) -> dict[str, float | None]:
    return {f["properties"]["code"]: f["properties"]["value"] for f in collection["features"]}


def direct_counts(engine, set_id: str, start: str, end: str, where: str = "TRUE") -> dict[str, int]:
    """Count records per area with a spatial join written independently of the placement table."""
    with transaction(engine) as session:
        rows = session.execute(text(f"""
            SELECT a.code, count(r.id) FROM areas a
            LEFT JOIN crime_records r ON ST_Covers(a.geom, r.geom) AND r.month BETWEEN :s AND :e AND {where}
            WHERE a.set_id = :set GROUP BY a.code"""), {"set": set_id, "s": start, "e": end}).all()
    return dict(rows)


def test_all_crime_by_2024_ward_matches_an_independent_spatial_join(client, engine):
    collection = layer(client, "/api/layers/wards-2024?metric=all-crime&period=2022-06")
    expected = direct_counts(engine, "wards-2024", "2022-06-01", "2022-06-01",
                             "r.crime_type_slug <> 'anti-social-behaviour'")
    got = values_by_code(collection)
    # A few snap points fall just outside the generalised outline and are placed by LSOA code instead.
    assert sum(abs(got[c] - expected[c]) for c in expected) <= 5
    assert sum(got.values()) >= sum(expected.values())
    assert collection["metadata"]["records"]["unplaced_by_boundary_set"]["wards-2024"] == 0


def test_legend_counts_add_up_and_colours_follow_classes(client):
    collection = layer(client, "/api/layers/lsoa-2011?metric=asb&period=2022&k=6&palette=Blues")
    legend = collection["legend"]
    assert legend["method"] == "natural_breaks" and legend["k"] == 6 and legend["palette"] == "Blues"
    assert sum(c["count"] for c in legend["classes"]) + legend["no_data_count"] == len(collection["features"]) == 95
    colors = classify.palette("Blues", 6)
    for feature in collection["features"]:
        props = feature["properties"]
        assert props["color"] == colors[props["class"]]
        upper = legend["classes"][props["class"]]["upper"]
        assert props["value"] <= upper + 1e-6
    assert "11 of the 12 months" in " ".join(collection["metadata"]["notes"])


def test_natural_breaks_of_the_layer_equal_mapclassify(client):
    import mapclassify
    import numpy as np

    collection = layer(client, "/api/layers/wards-2013?metric=all-crime&k=5")
    values = np.array([f["properties"]["value"] for f in collection["features"]])
    expected = mapclassify.FisherJenks(values, k=5).bins
    assert np.allclose(collection["legend"]["breaks"], expected)


def test_metadata_names_everything_a_report_needs(client):
    meta = layer(client, "/api/layers/wards-2013?metric=burglary&period=2022-03&measure=density")["metadata"]
    assert meta["metric"] == {"id": "burglary", "title": "Burglary", "source": "police.uk"}
    assert meta["period"] == "2022-03" and meta["measure"] == "density" and meta["unit"] == "crimes per km²"
    assert meta["boundary_set"]["valid_to"] == "2024-05-02"
    assert "Open Government Licence" in meta["source"] and meta["data_date"] == "2022-03"
    assert meta["records"]["no_location"] == 0


def test_density_and_rate_use_area_and_population(client, engine):
    counts = values_by_code(layer(client, "/api/layers/wards-2013?metric=all-crime&period=2022"))
    density = layer(client, "/api/layers/wards-2013?metric=all-crime&period=2022&measure=density")
    rate = values_by_code(layer(client, "/api/layers/wards-2013?metric=all-crime&period=2022&measure=rate"))
    for feature in density["features"]:
        code, props = feature["id"], feature["properties"]
        assert props["value"] == pytest.approx(counts[code] / props["area_km2"], rel=1e-3)
    with transaction(engine) as session:
        population = dict(session.execute(text(
            "SELECT area_code, population FROM populations WHERE set_id = 'wards-2013'")).all())
    for code, value in rate.items():
        assert value == pytest.approx(counts[code] / population[code] * 1000, rel=1e-3)


def test_change_on_the_previous_period_is_diverging(client):
    june = values_by_code(layer(client, "/api/layers/wards-2013?period=2022-06"))
    may = values_by_code(layer(client, "/api/layers/wards-2013?period=2022-05"))
    change = layer(client, "/api/layers/wards-2013?period=2022-06&measure=change")
    assert change["metadata"]["base_period"] == "2022-05" and change["legend"]["palette"] == "RdBu"
    for feature in change["features"]:
        code = feature["id"]
        assert feature["properties"]["value"] == june[code] - may[code]
    red_side = {c for n in range(3, 10) for c in classify.palette("RdBu", n)[: n // 2]}
    blue_side = {c for n in range(3, 10) for c in classify.palette("RdBu", n)[n // 2 + 1:]}
    rises = [f["properties"]["color"] for f in change["features"] if f["properties"]["value"] > 0]
    falls = [f["properties"]["color"] for f in change["features"] if f["properties"]["value"] < 0]
    assert rises and falls
    assert not set(rises) & blue_side and not set(falls) & red_side
    assert set(rises) & red_side and set(falls) & blue_side


def test_pct_change_with_an_explicit_base(client):
    collection = layer(client, "/api/layers/wards-2013/clusters?metric=asb&period=2022-07/2022-11"
                               "&base=2022-01/2022-05&measure=pct_change")
    for props in (f["properties"] for f in collection["features"]):
        expected = (props["value_current"] - props["value_base"]) / props["value_base"] * 100
        assert props["value"] == pytest.approx(expected, abs=1e-3)


def test_clusters_sum_their_member_wards(client):
    wards = values_by_code(layer(client, "/api/layers/wards-2024?metric=vbc&period=2022"))
    clusters = layer(client, "/api/layers/wards-2024/clusters?metric=vbc&period=2022")
    assert len(clusters["features"]) == 8
    for feature in clusters["features"]:
        assert feature["properties"]["value"] == sum(wards[c] for c in feature["properties"]["members"])


def test_seed_table_on_2013_wards_is_the_table_as_printed(client):
    table = read_seed_table("table1_crimes_by_ward").values(2023, "ward_code")
    assert values_by_code(layer(client, "/api/layers/wards-2013?metric=seed-crimes-by-ward&period=2023")) == table
    clusters = layer(client, "/api/layers/wards-2013/clusters?metric=seed-vbc-by-cluster&period=2021")
    assert {f["properties"]["number"]: f["properties"]["value"] for f in clusters["features"]}[5] == 4224


def test_seed_table_interpolated_to_2024_wards_conserves_the_total(client):
    table = read_seed_table("table8_asb_by_ward").values(2022, "ward_code")
    collection = layer(client, "/api/layers/wards-2024?metric=seed-asb-by-ward&period=2022")
    assert sum(values_by_code(collection).values()) == pytest.approx(sum(table.values()), abs=0.01)  # 4-dp values
    assert "crime points" in collection["metadata"]["interpolation"]


def test_crime_point_weighting_beats_area_weighting(engine):
    with transaction(engine) as session:
        result = compare_interpolation(session, parse_period("2022-07/2022-11"), parse_period("2022-01/2022-06"))
    by_method = {r.method: r for r in result.reports}
    assert by_method["crime_points"].median_abs_pct_error < by_method["area"].median_abs_pct_error
    for report in result.reports:
        assert report.total_estimated == pytest.approx(report.total_actual)


@pytest.mark.parametrize(("query", "message"), [
    ("metric=nope", "unknown metric 'nope'; valid metrics: all-crime"),
    ("period=2022-13", "is not a period"),
    ("period=2022-05/2022-01", "ends before it starts"),
    ("period=2019", "no police.uk records for 2019; loaded months: 2022-01 to 2022-11"),
    ("k=1", "k must be from 2 to 9"),
    ("k=10", "k must be from 2 to 9"),
    ("k=five", "k must be a whole number"),
    ("palette=Rainbow", "unknown palette 'Rainbow'; valid palettes are YlOrRd"),
    ("method=jenks", "unknown method 'jenks'; valid methods: natural_breaks"),
    ("method=user_defined", "needs breaks="),
    ("method=user_defined&breaks=a,b", "breaks must be numbers"),
    ("measure=volume", "unknown measure 'volume'; valid measures: count, density, rate"),
    ("colour=red", "unknown parameter(s) colour"),
    ("metric=seed-crimes-by-ward&period=2022-06", "has yearly figures for 2022, 2023"),
    ("metric=seed-crime-rate-by-ward&measure=count", "published as a rate"),
    ("metric=seed-vbc-by-cluster", "figures for the ward clusters of wards-2013"),
    ("metric=seed-needle-finds-monthly", "borough-wide series"),
    ("period=\uff12\uff10\uff12\uff12", "is not a period"),  # full-width digits: \d would take them
])
def test_bad_requests_are_400_with_the_valid_values(client, query, message):
    response = client.get(f"/api/layers/wards-2013?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_rates_need_a_population(client):
    response = client.get("/api/layers/lsoa-2011?measure=rate")
    assert response.status_code == 400 and "no population is loaded for 'lsoa-2011'" in response.get_json()["error"][
        "message"]


def test_ward_tables_are_not_split_into_lsoas(client):
    response = client.get("/api/layers/lsoa-2011?metric=seed-crimes-by-ward&period=2023")
    assert response.status_code == 400 and "would invent detail" in response.get_json()["error"]["message"]


def test_unknown_set_and_clusters_of_lsoas_are_404(client):
    assert client.get("/api/layers/nope").status_code == 404
    assert client.get("/api/layers/lsoa-2011/clusters").status_code == 404


def test_user_defined_breaks(client):
    collection = layer(client, "/api/layers/wards-2013?method=user_defined&breaks=100,500,1000")
    assert collection["legend"]["breaks"][:3] == [100, 500, 1000]


def test_etag_304_and_invalidation_by_an_import(client, engine, tokens, tmp_path):
    url = "/api/layers/wards-2013?metric=robbery&period=2030-01"
    header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type," \
             "Last outcome category,Context\n"
    row = "etag-test-1,2030-01,Kent Police,Kent Police,0.5218,51.2734,On or near High Street,E01033090," \
          "Maidstone 014G,Robbery,,\n"
    try:
        client.post("/api/crime/imports", headers=bearer(tokens["gis"]),
                    data={"file": (io.BytesIO((header + row).encode()), "2030-01-kent-street.csv")})
        first = client.get(url)
        assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        second_row = row.replace("etag-test-1", "etag-test-2")
        client.post("/api/crime/imports", headers=bearer(tokens["gis"]),
                    data={"file": (io.BytesIO((header + second_row).encode()), "2030-01b-kent-street.csv")})
        after = client.get(url, headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["ETag"] != etag
        assert sum(v for v in values_by_code(after.get_json()).values()) == 2
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM crime_records WHERE month = :m"), {"m": date(2030, 1, 1)})
            session.execute(text("DELETE FROM crime_imports WHERE file_name LIKE '2030-01%'"))


def test_metrics_catalogue_lists_periods_and_sources(client):
    metrics = {m["id"]: m for m in client.get("/api/metrics").get_json()["metrics"]}
    assert metrics["all-crime"]["periods"] == {"first_month": "2022-01", "last_month": "2022-11"}
    assert metrics["violence-and-sexual-offences"]["source"] == "police.uk"
    assert metrics["seed-crimes-by-ward"]["periods"] == {"years": [2022, 2023]}
    assert metrics["seed-crime-rate-by-ward"]["measures"] == ["rate", "change", "pct_change"]
    series = client.get("/api/metrics/seed-needle-finds-monthly").get_json()["series"]
    assert len(series) == 60 and series[0]["year"] == 2019 and series[0]["month"] == 1
    assert client.get("/api/metrics/nope").status_code == 404


def test_population_upload_replaces_the_derived_estimate(client, tokens, engine):
    codes = [f["id"] for f in client.get("/api/boundary-sets/lsoa-2011/features").get_json()["features"]]
    good = "code,population,year,source\n" + "".join(f"{c},1500,2021,Census 2021 test\n" for c in codes)
    bad = "code,population,year,source\nE01024320,-3,2021,x\nX999,10,2021,x\n"
    url = "/api/populations/lsoa-2011"
    assert client.post(url, data={"file": (io.BytesIO(good.encode()), "p.csv")},
                       headers=bearer(tokens["officer"])).status_code == 403
    refused = client.post(url, data={"file": (io.BytesIO(bad.encode()), "p.csv")}, headers=bearer(tokens["gis"]))
    assert refused.status_code == 400
    problems = refused.get_json()["error"]["problems"]
    assert "line 2: population must be more than 0" in problems
    assert "line 3: code X999 is not an area of this boundary set" in problems
    try:
        loaded = client.post(url, data={"file": (io.BytesIO(good.encode()), "p.csv")}, headers=bearer(tokens["gis"]))
        assert loaded.status_code == 201 and loaded.get_json()["areas"] == 95
        rate = layer(client, "/api/layers/lsoa-2011?metric=all-crime&measure=rate&period=2022")
        counts = values_by_code(layer(client, "/api/layers/lsoa-2011?metric=all-crime&period=2022"))
        for code, value in values_by_code(rate).items():
            assert value == pytest.approx(counts[code] / 1500 * 1000, rel=1e-3)
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM populations WHERE set_id = 'lsoa-2011'"))


def test_a_method_that_leaves_one_class_gets_a_legend_not_a_500(client):
    """Pretty breaks of a narrow range can round into one class (reachable from the map's own controls)."""
    response = client.get("/api/layers/wards-2024?method=pretty&k=2")
    assert response.status_code == 200, response.get_data(as_text=True)
    legend = response.json["legend"]
    assert 1 <= len(legend["classes"]) <= 2
    assert len({area["properties"]["color"] for area in response.json["features"]}) == len(legend["classes"])


def test_method_not_allowed_says_which_methods_are(client):
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert response.json["error"]["status"] == 405


def test_change_against_a_base_with_missing_months_is_refused(client):
    """June-November 2022 against the six months before: December 2021 has no police.uk data."""
    response = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-06/2022-11&measure=change")
    assert response.status_code == 400
    assert "covers 5 of the 6 months of 2021-12/2022-05" in response.get_json()["error"]["message"]
    assert client.get("/api/layers/wards-2024?metric=all-crime&period=2022-07/2022-11&base=2022-01/2022-05"
                      "&measure=pct_change").status_code == 200
