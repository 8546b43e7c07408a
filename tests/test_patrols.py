"""Patrol areas: team visibility, history, archiving, summaries checked by independent PostGIS queries, exports."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from shapely.geometry import shape
from sqlalchemy import text

from server.domain import accounts
from server.store import patrols as patrol_store
from server.store.db import transaction
from tests.conftest import PASSWORD, bearer

TOWN_CENTRE = {"type": "Polygon", "coordinates": [[[0.515, 51.270], [0.532, 51.270], [0.532, 51.280],
                                                     [0.515, 51.280], [0.515, 51.270]]]}


@pytest.fixture(scope="module")
def teams(engine) -> dict[str, str]:
    """Tokens: 'a' and 'a2' in team A, 'b' in team B, 'none' without a team, 'admin'."""
    issued = {}
    with transaction(engine) as session:
        for key, role, team in (("a", "officer", "Town Centre Task Force"), ("a2", "officer", "Town Centre Task Force"),
                                ("b", "officer", "Rural Task Force"), ("none", "officer", None),
                                ("admin", "admin", None)):
            username = f"patrol-{key}-{uuid.uuid4().hex[:6]}"
            accounts.create_user(session, username, PASSWORD, role)
            patrol_store.set_user_team(session, username, team)
            issued[key] = accounts.issue_token(session, username, "patrol tests")
    return issued


def create(client, token: str, **extra) -> dict:
    body = {"name": "Week Street evenings", "geometry": TOWN_CENTRE, "date_from": "2022-11-01",
            "date_to": "2022-11-30", "notes": "focus on the night-time economy", **extra}
    response = client.post("/api/patrol-areas", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_team_visibility(client, teams):
    patrol = create(client, teams["a"])
    url = f"/api/patrol-areas/{patrol['id']}"
    assert patrol["properties"]["team"] == "Town Centre Task Force"
    assert client.get(url, headers=bearer(teams["a2"])).status_code == 200
    assert client.get(url, headers=bearer(teams["admin"])).status_code == 200
    assert client.get(url, headers=bearer(teams["b"])).status_code == 404
    listed_b = client.get("/api/patrol-areas", headers=bearer(teams["b"])).get_json()["features"]
    assert patrol["id"] not in [f["id"] for f in listed_b]
    listed_a = client.get("/api/patrol-areas", headers=bearer(teams["a2"])).get_json()["features"]
    assert patrol["id"] in [f["id"] for f in listed_a]
    assert client.get("/api/patrol-areas").status_code == 401


def test_saving_needs_a_team_and_only_your_own(client, teams, tokens):
    response = client.post("/api/patrol-areas", json={"name": "x", "geometry": TOWN_CENTRE},
                           headers=bearer(teams["none"]))
    assert response.status_code == 400 and "no team" in response.get_json()["error"]["message"]
    response = client.post("/api/patrol-areas", json={"name": "x", "geometry": TOWN_CENTRE, "team": "Rural Task Force"},
                           headers=bearer(teams["a"]))
    assert response.status_code == 403
    assert client.post("/api/patrol-areas", json={"name": "x", "geometry": TOWN_CENTRE},
                       headers=bearer(tokens["viewer"])).status_code == 403
    admin = create(client, teams["admin"], team="Rural Task Force")
    assert admin["properties"]["team"] == "Rural Task Force"


def test_edits_keep_history_and_archiving_is_reversible(client, teams):
    patrol = create(client, teams["a"])
    url = f"/api/patrol-areas/{patrol['id']}"
    moved = {"type": "Polygon", "coordinates": [[[0.52, 51.27], [0.53, 51.27], [0.53, 51.28], [0.52, 51.27]]]}
    edited = client.patch(url, json={"name": "Week Street late", "geometry": moved}, headers=bearer(teams["a2"]))
    assert edited.status_code == 200 and edited.get_json()["properties"]["name"] == "Week Street late"
    assert client.delete(url, headers=bearer(teams["a"])).get_json()["properties"]["archived_at"]
    listed = client.get("/api/patrol-areas", headers=bearer(teams["a"])).get_json()["features"]
    assert patrol["id"] not in [f["id"] for f in listed]
    restored = client.patch(url, json={"archived": False}, headers=bearer(teams["a"])).get_json()
    assert restored["properties"]["archived_at"] is None
    history = client.get(f"{url}/history", headers=bearer(teams["a"])).get_json()["history"]
    assert [h["action"] for h in history] == ["create", "update", "archive", "restore"]
    update = history[1]
    assert update["old"]["name"] == "Week Street evenings" and update["new"]["name"] == "Week Street late"
    assert "geometry" in update["old"] and "notes" not in update["new"]


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x"}, "send a GeoJSON geometry"),
    ({"name": "x", "geometry": {"type": "Polygon", "coordinates": [[[0.5, 51.2], [0.52, 51.22], [0.52, 51.2],
                                                                    [0.5, 51.22], [0.5, 51.2]]]}},
     "not valid: Self-intersection"),
    ({"name": "x", "geometry": {"type": "Polygon", "coordinates": [[[0.3, 51.0], [0.9, 51.0], [0.9, 51.4],
                                                                    [0.3, 51.4], [0.3, 51.0]]]}},
     "a patrol area may be at most"),
    ({"name": "x", "geometry": {"type": "Point", "coordinates": [0.5, 51.2]}}, "not a Point"),
    ({"name": "x", "geometry": {"type": "LineString", "coordinates": [[0.5, 51.2], [0.51, 51.21]]}},
     "a route needs buffer_m"),
    ({"name": "x", "geometry": {"type": "Polygon", "coordinates": [[[530000, 150000], [531000, 150000],
                                                                    [531000, 151000], [530000, 150000]]]}},
     "not in England"),
    ({"name": "", "geometry": TOWN_CENTRE}, "name is required"),
    ({"name": "x", "geometry": TOWN_CENTRE, "date_from": "2022-12-01", "date_to": "2022-11-01"},
     "date_to must not be before"),
    ({"name": "x", "geometry": {"type": "Feature';--", "coordinates": [0.5, 51.2]}}, "not a valid GeoJSON geometry"),
    ({"name": "x", "geometry": {"type": "Polygon", "coordinates": TOWN_CENTRE["coordinates"][0][:-1]}},
     "not a valid GeoJSON geometry"),
    ({"name": "x", "geometry": {"type": "Polygon", "coordinates": [TOWN_CENTRE["coordinates"][0][:-1]]}},
     "must end at the point where it starts"),
    ({"name": "x", "geometry": TOWN_CENTRE, "notes": {"text": "object"}}, "notes must be text"),
    ({"name": "x", "geometry": TOWN_CENTRE, "notes": "n" * 4001}, "at most 4000 characters"),
])
def test_bad_geometries_and_fields_are_400(client, teams, body, message):
    response = client.post("/api/patrol-areas", json=body, headers=bearer(teams["a"]))
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_archived_takes_a_json_boolean_only(client, teams):
    patrol = create(client, teams["a"])
    url = f"/api/patrol-areas/{patrol['id']}"
    response = client.patch(url, json={"archived": "false"}, headers=bearer(teams["a"]))
    assert response.status_code == 400 and "true or false" in response.get_json()["error"]["message"]
    assert client.get(url, headers=bearer(teams["a"])).get_json()["properties"]["archived_at"] is None


def test_summary_equals_independent_postgis_queries(client, teams, engine):
    response = client.post("/api/patrol-areas/summary?period=2022-09/2022-11", json={"geometry": TOWN_CENTRE},
                           headers=bearer(teams["a"]))
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    geom = json.dumps(TOWN_CENTRE)
    with transaction(engine) as session:
        expected_km2 = session.execute(text(
            "SELECT ST_Area(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)::geography) / 1e6"), {"g": geom}).scalar()
        inside = dict(session.execute(text("""
            SELECT crime_type, count(*) FROM crime_records
            WHERE month BETWEEN '2022-09-01' AND '2022-11-01'
              AND ST_Within(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)) GROUP BY crime_type"""),
            {"g": geom}).all())
        previous_total = session.execute(text("""
            SELECT count(*) FROM crime_records WHERE month BETWEEN '2022-06-01' AND '2022-08-01'
              AND ST_Within(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))"""), {"g": geom}).scalar()
        high_street_share = session.execute(text("""
            SELECT ST_Area(ST_Intersection(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))::geography)
                   / ST_Area(geom::geography)
            FROM areas WHERE set_id = 'wards-2024' AND code = 'E05015603'"""), {"g": geom}).scalar()
    assert summary["area_km2"] == pytest.approx(expected_km2, rel=1e-4)
    crime = summary["crime"]
    assert {row["type"]: row["count"] for row in crime["by_type"] if row["count"]} == inside
    assert crime["total"] == sum(inside.values()) and crime["previous_total"] == previous_total
    assert crime["previous_period"] == "2022-06/2022-08"
    assert crime["density_per_km2"] == pytest.approx(crime["total"] / expected_km2, rel=1e-3)
    assert crime["density_ratio_to_borough"] > 1, "the town centre is denser than the borough"
    wards_2024 = next(s for s in summary["areas"] if s["set"] == "wards-2024")
    high_street = next(a for a in wards_2024["areas"] if a["code"] == "E05015603")
    assert high_street["share_of_area"] == pytest.approx(high_street_share, abs=1e-4)
    assert {s["set"] for s in summary["areas"]} == {"wards-2013", "wards-2024", "lsoa-2011"}
    assert any(c["cluster"] == "Cluster 5" for c in wards_2024["clusters"])


def test_route_with_a_buffer(client, teams):
    route = {"type": "LineString", "coordinates": [[0.5215, 51.2705], [0.5225, 51.2760], [0.5240, 51.2790]]}
    patrol = create(client, teams["a"], geometry=route, buffer_m=50)
    area_km2 = patrol["properties"]["area_km2"]
    length_m = 1000  # about 1 km of route, 100 m wide
    assert 0.5 * length_m * 100 / 1e6 < area_km2 < 1.5 * length_m * 100 / 1e6
    assert patrol["properties"]["route"]["type"] == "LineString"


def test_exports_geojson_kml_and_pdf(client, teams, artifacts):
    patrol = create(client, teams["a"])
    base = f"/api/patrol-areas/{patrol['id']}/export"
    geojson = client.get(f"{base}.geojson?period=2022-11", headers=bearer(teams["a"])).get_json()
    assert shape(geojson["features"][0]["geometry"]).equals_exact(shape(patrol["geometry"]), 1e-6)
    assert geojson["summary"]["crime"]["period"] == "2022-11"
    kml = client.get(f"{base}.kml", headers=bearer(teams["a"]))
    assert kml.status_code == 200 and b"<Polygon>" in kml.data and b"Week Street evenings" in kml.data
    pdf = client.get(f"{base}.pdf", headers=bearer(teams["a"]))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (artifacts / "patrol-briefing.pdf").write_bytes(pdf.data)
    assert client.get(f"{base}.pdf", headers=bearer(teams["b"])).status_code == 404
    assert client.get(f"{base}.docx", headers=bearer(teams["a"])).status_code == 404
    assert io.BytesIO(kml.data).read(5) == b"<?xml"


def test_suggested_areas_come_from_point_clusters_and_respect_the_sizes(client, teams):
    url = "/api/patrol-areas/suggest?metric=all-crime&period=2022&eps=100&min_points=50&n=3&min_km2=0.1&max_km2=3"
    response = client.get(url, headers=bearer(teams["a"]))
    assert response.status_code == 200, response.get_json()
    suggestions = response.get_json()
    features = suggestions["features"]
    assert 1 <= len(features) <= 3
    records = [f["properties"]["records"] for f in features]
    assert records == sorted(records, reverse=True)
    for feature in features:
        assert 0.1 <= feature["properties"]["area_km2"] <= 3
    town_centre = shape(TOWN_CENTRE)
    assert shape(features[0]["geometry"]).intersects(town_centre), "the densest cluster is in the town centre"
    wide = client.get(url.replace("eps=100&min_points=50", "eps=150&min_points=40"), headers=bearer(teams["a"]))
    left_out = wide.get_json()["metadata"]["left_out"]
    assert left_out and all(item["area_km2"] > 3 for item in left_out), "too-large clusters are reported, not hidden"
    adopted = create(client, teams["a"], name="Adopted suggestion", geometry=features[0]["geometry"])
    assert adopted["properties"]["area_km2"] == pytest.approx(features[0]["properties"]["area_km2"], rel=0.01)


@pytest.mark.parametrize(("query", "message"), [
    ("n=0", "n must be from 1 to 20"),
    ("min_km2=5&max_km2=1", "min_km2 must be less than max_km2"),
    ("colour=red", "unknown parameter(s) colour"),
    ("source=dcsm-locations", "unknown source 'dcsm-locations'"),
])
def test_bad_suggestion_requests(client, teams, query, message):
    response = client.get(f"/api/patrol-areas/suggest?{query}", headers=bearer(teams["a"]))
    assert response.status_code in (400, 403)
    assert message in response.get_json()["error"]["message"]


def test_summary_lists_hotspot_layers_the_user_may_read_only(client, teams):
    summary = client.post("/api/patrol-areas/summary", json={"geometry": TOWN_CENTRE},
                          headers=bearer(teams["a"])).get_json()
    layers = {entry["layer"] for entry in summary["hotspot_points"]}
    assert "needle-finds" in layers and "dcsm-locations" not in layers
    assert all("Gi_Bin" in spot for spot in summary["gi_hot_spots"])


ROUTE = {"type": "LineString", "coordinates": [[0.5215, 51.2705], [0.5225, 51.2740], [0.5240, 51.2760]]}


def _pdf(body: bytes, tmp_path) -> tuple[str, str]:
    import subprocess

    path = tmp_path / "briefing.pdf"
    path.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    words = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return info, " ".join(words.split())


def test_briefing_pdf_says_marking_period_producer_and_top_streets(client, teams, engine, tmp_path, artifacts):
    patrol = create(client, teams["a"], geometry=ROUTE, buffer_m=120, name="Town centre route")
    response = client.get(f"/api/patrol-areas/{patrol['id']}/export.pdf?period=2022-09/2022-11",
                          headers=bearer(teams["a"]))
    assert response.status_code == 200
    (artifacts / "patrol-briefing-route.pdf").write_bytes(response.data)
    info, words = _pdf(response.data, tmp_path)
    assert "595.276 x 841.89 pts (A4)" in info
    # other tests may have recorded partnership points here: the marking follows what the briefing shows
    marking = "OFFICIAL" if "Partnership records inside: none you may see" in words else "OFFICIAL-SENSITIVE"
    assert words.split().count(marking) >= 2, f"{marking} at the top and foot of each page"
    if marking == "OFFICIAL":
        assert "OFFICIAL-SENSITIVE" not in words
    assert "Crime period: 1 September – 30 November 2022" in words
    assert "by patrol-a-" in words and "produced " in words
    with transaction(engine) as session:
        expected = session.execute(text("""
            SELECT location, count(*) FROM crime_records
            WHERE ST_Covers(ST_GeomFromGeoJSON(:g), geom) AND month BETWEEN '2022-09-01' AND '2022-11-01'
              AND btrim(regexp_replace(location, '^On or near', '')) <> ''
            GROUP BY location ORDER BY count(*) DESC, location LIMIT 3"""),
            {"g": json.dumps(patrol["geometry"])}).all()
    assert expected, "the route passes crime locations"
    for location, count in expected:
        street = location.removeprefix("On or near ")
        assert f"{street} ({count})" in words, f"{street} labelled with its count on the map"
    for legend_item in ("Patrol area", "Patrol route", "Top street", "Partnership record", "Gi* hot spot",
                        "Ward boundary"):
        assert legend_item in words


def test_exports_carry_the_route_line_as_well_as_the_area(client, teams):
    patrol = create(client, teams["a"], geometry=ROUTE, buffer_m=60)
    base = f"/api/patrol-areas/{patrol['id']}/export"
    collection = client.get(f"{base}.geojson", headers=bearer(teams["a"])).get_json()
    parts = {f["properties"]["part"]: f["geometry"]["type"] for f in collection["features"]}
    assert parts == {"area": "MultiPolygon", "route": "LineString"}
    kml = client.get(f"{base}.kml", headers=bearer(teams["a"])).data.decode()
    assert "<LineString>" in kml and "<Polygon>" in kml


def test_briefing_with_partnership_records_is_official_sensitive(client, teams, tmp_path):
    from datetime import datetime

    import geopandas as gpd

    from server.domain.briefing import Briefing, briefing_pdf
    from server.domain.periods import parse_period

    patrol = create(client, teams["a"])
    summary = client.get(f"/api/patrol-areas/{patrol['id']}/summary?period=2022-11",
                         headers=bearer(teams["a"])).get_json()
    record = {"layer": "Needle finds", "sensitivity": "internal", "count": 2, "place": "Brenchley Gardens",
              "date": "2022-11-03", "geometry": {"type": "Point", "coordinates": [0.522, 51.275]}}
    common = dict(patrol={**patrol["properties"], "geometry": patrol["geometry"]}, summary=summary,
                  period=parse_period("2022-11"), produced_at=datetime(2022, 12, 1, 9, 30), produced_by="pc-test",
                  marking="OFFICIAL", wards=gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326), crime_points=[],
                  streets=[])
    _info, plain = _pdf(briefing_pdf(Briefing(**common)), tmp_path)
    _info, sensitive = _pdf(briefing_pdf(Briefing(**common, partnership=[record])), tmp_path)
    assert "OFFICIAL-SENSITIVE" not in plain
    assert sensitive.count("OFFICIAL-SENSITIVE") >= 2, "marked at the top and the foot of each page"
    assert "Needle finds: Brenchley Gardens" in sensitive


def test_summary_outside_the_imported_data_is_no_data(client, teams):
    canterbury = {"type": "Polygon", "coordinates": [[[1.07, 51.27], [1.09, 51.27], [1.09, 51.285], [1.07, 51.285],
                                                      [1.07, 51.27]]]}
    response = client.post("/api/patrol-areas/summary?period=2022-06", json={"geometry": canterbury},
                           headers=bearer(teams["a"]))
    crime = response.get_json()["crime"]
    assert crime["total"] is None and crime["covered"] is False and "No data" in crime["note"]
