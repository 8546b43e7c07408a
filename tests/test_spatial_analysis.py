"""Hotspot analysis layers over the real Maidstone data: Gi* (LSOAs and hexagons), kernel density and DBSCAN
clusters, their parameters (clear 400s), caching, and clusters of a layer's constructed points."""

from __future__ import annotations

import pytest

from tests.conftest import bearer

VIOLENCE = "metric=violence-and-sexual-offences&period=2022-01/2022-11"
HIGH_STREET_LSOA = "E01033090"


def get_layer(client, url: str, headers: dict | None = None) -> dict:
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and {"legend", "metadata"} <= set(body)
    return body


def test_high_street_town_centre_lsoa_is_a_significant_violence_hot_spot(client):
    body = get_layer(client, f"/api/hotspots/gi?{VIOLENCE}&geography=lsoa&permutations=999&seed=12345")
    by_code = {f["id"]: f["properties"] for f in body["features"]}
    assert len(by_code) == 95
    high_street = by_code[HIGH_STREET_LSOA]
    assert high_street["gi_bin"] >= 2, high_street
    assert high_street["label"].startswith("Hot spot") and high_street["gi_z"] > 1.96
    assert high_street["value"] == max(p["value"] for p in by_code.values())
    metadata = body["metadata"]
    assert metadata["neighbours"]["islands"] == [] and metadata["neighbours"]["neighbours_min"] >= 1
    assert metadata["fdr"] is True and metadata["permutations"] == 999 and metadata["period"] == "2022-01/2022-11"
    assert metadata["geography"]["boundary_set"] == "lsoa-2011"
    assert [c["gi_bin"] for c in body["legend"]["classes"]] == [-3, -2, -1, 0, 1, 2, 3]
    assert sum(c["count"] for c in body["legend"]["classes"]) == 95
    assert all(-3 <= p["gi_bin"] <= 3 and 0 <= p["p_value"] <= 1 for p in by_code.values())


def test_gi_star_on_a_hexagon_grid_in_british_national_grid(client):
    body = get_layer(client, f"/api/hotspots/gi?{VIOLENCE}&geography=hex&cell=1000")
    geography = body["metadata"]["geography"]
    assert geography["kind"] == "hex" and geography["cell_m"] == 1000 and geography["units"] == len(body["features"])
    assert 300 < len(body["features"]) < 800 and body["metadata"]["neighbours"]["islands"] == []
    hot = [f for f in body["features"] if f["properties"]["gi_bin"] == 3]
    assert hot, "the town centre is a hot spot on a 1 km grid too"
    lon, lat = hot[0]["geometry"]["coordinates"][0][0]
    assert 0.3 < lon < 0.9 and 51.1 < lat < 51.4
    assert body["metadata"]["records"] + body["metadata"]["records_outside_units"] > 6000


def test_gi_star_works_for_ward_sets(client):
    body = get_layer(client, "/api/hotspots/gi?geography=wards-2024&period=2022&permutations=99")
    assert len(body["features"]) == 22 and body["metadata"]["neighbours"]["islands"] == []


@pytest.mark.parametrize(("query", "status", "message"), [
    ("metric=burglary-of-the-moon", 400, "unknown metric"),
    ("metric=seed-crimes-by-ward", 400, "published table"),
    ("period=2031", 400, "no police.uk records"),
    ("period=June", 400, "not a period"),
    ("geography=hex&cell=10", 400, "cell must be from 150"),
    ("geography=lsoa&cell=500", 400, "geography=hex only"),
    ("permutations=5", 400, "permutations must be from 99"),
    ("permutations=99.5", 400, "whole number"),
    ("tolerance=-1", 400, "tolerance must be from 0"),
    ("tolerance=0", 400, "95 of 95 areas have no neighbours"),
    ("inference=bayes", 400, "inference must be one of"),
    ("fdr=maybe", 400, "true or false"),
    ("colour=red", 400, "unknown parameter"),
    ("geography=nowhere", 404, "no boundary set 'nowhere'"),
])
def test_gi_parameters_are_validated(client, query, status, message):
    response = client.get(f"/api/hotspots/gi?{query}")
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]


def test_gi_results_are_cached_with_an_etag(client):
    url = "/api/hotspots/gi?period=2022-03&permutations=99"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_kernel_density_of_crime_with_the_default_and_a_given_bandwidth(client):
    body = get_layer(client, "/api/hotspots/kde?metric=all-crime&period=2022-06")
    metadata = body["metadata"]
    assert metadata["bandwidth_rule"].startswith("default: Esri") and 100 < metadata["bandwidth_m"] < 3000
    assert metadata["records"] > 1000 and metadata["cells_shown"] == len(body["features"]) > 0
    densities = [f["properties"]["density"] for f in body["features"]]
    assert max(densities) == pytest.approx(metadata["peak_density"], rel=1e-3)
    assert min(densities) >= 0.01 * metadata["peak_density"] * 0.999
    assert body["legend"]["unit"] == "crimes per km²" and body["legend"]["classes"]
    given = get_layer(client, "/api/hotspots/kde?metric=all-crime&period=2022-06&bandwidth=300&cell=250")
    assert given["metadata"]["bandwidth_m"] == 300 and given["metadata"]["bandwidth_rule"] == "given"


@pytest.mark.parametrize(("query", "message"), [
    ("bandwidth=0", "bandwidth must be from 25"),
    ("cell=5", "cell must be from 25"),
    ("cell=abc", "must be a number"),
    ("source=crime&from=2022", "use period"),
    ("source=needle-finds&period=2022", "use from and to"),
    ("source=bins", "unknown source 'bins'; valid: crime"),
])
def test_kde_parameters_are_validated(client, query, message):
    response = client.get(f"/api/hotspots/kde?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_dbscan_clusters_of_crime_with_hulls(client):
    body = get_layer(client, "/api/hotspots/clusters?metric=all-crime&period=2022-06&eps=100&min_points=30")
    clusters = [f["properties"] for f in body["features"]]
    assert clusters and [c["cluster"] for c in clusters] == list(range(1, len(clusters) + 1))
    assert [c["weight"] for c in clusters] == sorted((c["weight"] for c in clusters), reverse=True)
    metadata = body["metadata"]
    assert metadata["clustered_records"] + metadata["noise_records"] == metadata["records"]
    assert metadata["eps_m"] == 100 and metadata["min_points"] == 30
    assert body["features"][0]["geometry"]["type"] in ("Polygon", "LineString", "Point")
    for query, message in (("eps=0", "eps must be from 5"), ("min_points=0", "min_points must be from 1"),
                           ("min_points=2.5", "whole number")):
        response = client.get(f"/api/hotspots/clusters?{query}")
        assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_clusters_and_density_of_a_layers_points(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    officer = bearer(tokens["officer"])
    park = (0.5135, 51.2808)
    for index in range(6):  # a tight group of finds (a few metres apart) and one far away
        response = client.post(f"/api/hotspot-layers/{layer}/points", headers=officer, json={
            "lon": park[0] + index * 2e-5, "lat": park[1], "observed": "2023-04-01", "count": 2})
        assert response.status_code == 201
    client.post(f"/api/hotspot-layers/{layer}/points", headers=officer,
                json={"lon": 0.60, "lat": 51.20, "observed": "2023-04-01", "count": 1})
    clusters = get_layer(client, f"/api/hotspots/clusters?source={layer}&eps=50&min_points=6",
                         bearer(tokens["viewer"]))
    assert [(f["properties"]["records"], f["properties"]["weight"]) for f in clusters["features"]] == [(6, 12.0)]
    assert clusters["metadata"]["noise_records"] == 1 and clusters["metadata"]["source"] == layer
    centre = clusters["features"][0]["properties"]["centre"]
    assert centre[0] == pytest.approx(park[0] + 5e-5, abs=1e-5) and centre[1] == pytest.approx(park[1], abs=1e-5)
    density = get_layer(client, f"/api/hotspots/kde?source={layer}&bandwidth=200&cell=100", bearer(tokens["viewer"]))
    assert density["metadata"]["total_weight"] == 13
    peak = max(density["features"], key=lambda f: f["properties"]["density"])
    ring = peak["geometry"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) - 0.001 < park[0] < max(lons) + 0.001 and min(lats) - 0.001 < park[1] < max(lats) + 0.001
    older = get_layer(client, f"/api/hotspots/clusters?source={layer}&to=2022&min_points=1", bearer(tokens["viewer"]))
    assert older["features"] == [] and older["metadata"]["records"] == 0
