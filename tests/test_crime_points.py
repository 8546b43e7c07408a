"""GET /api/crime/points: police.uk records as GeoJSON points for the hotspot map (no browser)."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import text

from server.domain.metrics import AGAINST_SOCIETY_TYPES, ASB, VICTIM_BASED_TYPES
from server.store.db import transaction


def points(client, query: str = "", **headers):
    response = client.get(f"/api/crime/points{'?' + query if query else ''}", headers=headers)
    return response


def records(engine, where: str = "TRUE", **params) -> int:
    with transaction(engine) as db:
        return db.execute(text(f"SELECT count(*) FROM crime_records WHERE geom IS NOT NULL AND {where}"),
                          params).scalar_one()


@pytest.fixture(scope="module")
def loaded_months(engine) -> list[str]:
    with transaction(engine) as db:
        return list(db.execute(text("SELECT DISTINCT to_char(month, 'YYYY-MM') FROM crime_records ORDER BY 1"))
                    .scalars())


def test_default_is_all_crime_without_asb_over_every_loaded_month(client, engine, loaded_months):
    response = points(client)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["metadata"]["metric"]["id"] == "all-crime"
    assert body["metadata"]["period"] in (f"{loaded_months[0]}/{loaded_months[-1]}", loaded_months[0][:4])
    assert len(body["features"]) == body["metadata"]["count"] == records(engine, "crime_type_slug <> :asb", asb=ASB)
    feature = body["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert feature["geometry"]["type"] == "Point" and -1 < lon < 1.5 and 50.9 < lat < 51.6  # Maidstone, lon/lat
    assert set(feature["properties"]) == {"crime_type", "month", "location"}
    assert feature["properties"]["location"].startswith("On or near")
    assert all(f["properties"]["crime_type"] != ASB for f in body["features"])
    assert body["metadata"]["crime_types"]["burglary"] == "Burglary"
    assert "police.uk" in body["metadata"]["source"]


@pytest.mark.parametrize(("metric", "types"), [
    ("asb", {ASB}), ("vbc", set(VICTIM_BASED_TYPES)), ("cas", set(AGAINST_SOCIETY_TYPES)), ("burglary", {"burglary"}),
])
def test_metric_groups_and_types_resolve_like_the_layers(client, engine, metric, types):
    body = points(client, f"metric={metric}").get_json()
    found = {f["properties"]["crime_type"] for f in body["features"]}
    assert found and found <= types
    assert body["metadata"]["count"] == records(engine, "crime_type_slug = ANY(:types)", types=list(types))


def test_metrics_joined_by_commas_give_their_union(client, engine):
    body = points(client, "metric=all-crime,asb").get_json()
    assert body["metadata"]["count"] == records(engine)  # every record with a location
    assert body["metadata"]["metric"]["id"] == "all-crime,asb"
    assert "Anti-social behaviour" in body["metadata"]["metric"]["title"]
    two = points(client, "metric=burglary,robbery").get_json()
    assert {f["properties"]["crime_type"] for f in two["features"]} == {"burglary", "robbery"}
    assert points(client, "metric=asb,seed-asb-by-ward").status_code == 400


def test_period_month_range_and_year(client, engine, loaded_months):
    month = loaded_months[len(loaded_months) // 2]
    one = points(client, f"period={month}").get_json()
    assert {f["properties"]["month"] for f in one["features"]} == {month}
    assert one["metadata"]["period"] == month and one["metadata"]["data_date"] == month
    span = f"{loaded_months[0]}/{loaded_months[2]}"
    three = points(client, f"period={span}").get_json()
    assert {f["properties"]["month"] for f in three["features"]} == set(loaded_months[:3])
    year = loaded_months[0][:4]
    whole = points(client, f"period={year}").get_json()
    in_year = [m for m in loaded_months if m.startswith(year)]
    if len(in_year) < 12:
        assert f"covers {len(in_year)} of the 12 months of {year}" in " ".join(whole["metadata"]["notes"])


def test_points_match_the_layer_counts(client, loaded_months):
    """The same filter gives as many points as the classified layer counts over a boundary set (all placed)."""
    month = loaded_months[-1]
    layer = client.get(f"/api/layers/wards-2024?metric=asb&period={month}").get_json()
    placed = sum(f["properties"]["value"] for f in layer["features"])
    unplaced = layer["metadata"]["records"]["unplaced_by_boundary_set"]["wards-2024"]
    no_location = layer["metadata"]["records"]["no_location"]
    assert points(client, f"metric=asb&period={month}").get_json()["metadata"]["count"] == (
        placed + unplaced - no_location)


def test_bbox_keeps_only_points_inside(client):
    bbox = (0.50, 51.26, 0.54, 51.28)
    body = points(client, "bbox=" + ",".join(map(str, bbox))).get_json()
    everything = points(client).get_json()["metadata"]["count"]
    assert 0 < body["metadata"]["count"] < everything
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    assert body["metadata"]["bbox"] == list(bbox)


@pytest.mark.parametrize(("query", "message"), [
    ("metric=nonsense", "unknown metric 'nonsense'"),
    ("metric=seed-crimes-by-ward", "no locations"),
    ("period=2022-13", "not a period"),
    ("period=1999", "no police.uk records for 1999; loaded months"),
    ("period=2022-05/2022-01", "ends before it starts"),
    ("bbox=1,2,3", "bbox must be four numbers"),
    ("bbox=3,51,1,52", "min < max"),
    ("colour=red", "unknown parameter(s) colour"),
])
def test_bad_requests_are_400_with_a_clear_message(client, query, message):
    response = points(client, query)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_gzip_and_etag(client):
    zipped = points(client, "metric=asb", **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    plain = points(client, "metric=asb")
    assert "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    again = points(client, "metric=asb", **{"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    assert points(client, "metric=burglary").headers["ETag"] != plain.headers["ETag"]


def test_points_route_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    documented = spec["paths"]["/api/crime/points"]["get"]
    assert {p["name"] for p in documented["parameters"]} == {"metric", "period", "bbox"}
