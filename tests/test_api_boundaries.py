"""Contract of the foundation API: health, boundary sets, features, clusters, uploads and auth."""

from __future__ import annotations

import io
import itertools
import json
import re

import pytest
from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import GEODATA, PASSWORD, bearer


def test_health_tells_anyone_ok_and_only_admins_the_versions(client, tokens):
    assert client.get("/api/health").get_json() == {"status": "ok"}
    assert client.get("/api/health", headers=bearer(tokens["gis"])).get_json() == {"status": "ok"}
    body = client.get("/api/health", headers=bearer(tokens["admin"])).get_json()
    assert body["status"] == "ok"
    assert re.match(r"^\d+\.\d+", body["postgresql"]) and re.match(r"^3\.", body["postgis"])
    assert body["schema_revision"]


def test_health_is_503_when_the_database_is_unreachable(database_url):
    from server import create_app
    from server.config import Settings

    unreachable = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", secret_key="x",
                           shared_dir=GEODATA)
    response = create_app(unreachable).test_client().get("/api/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}, "the database host and port are for admins only"


def test_boundary_sets_list_has_both_ward_versions_and_lsoas(client):
    sets = {s["id"]: s for s in client.get("/api/boundary-sets").get_json()["boundary_sets"]}
    assert sets["wards-2013"]["feature_count"] == 26 and sets["wards-2013"]["valid_to"] == "2024-05-02"
    assert sets["wards-2024"]["feature_count"] == 22 and sets["wards-2024"]["valid_from"] == "2024-05-02"
    assert sets["lsoa-2011"]["feature_count"] == 95 and sets["lsoa-2011"]["kind"] == "lsoa"
    for item in sets.values():
        assert set(item) >= {"id", "kind", "title", "valid_from", "valid_to", "feature_count", "source"}


def test_features_are_rfc7946_with_ons_codes_and_clusters(client):
    collection = client.get("/api/boundary-sets/wards-2013/features").get_json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 26
    high_street = next(f for f in collection["features"] if f["properties"]["name"] == "High Street")
    assert high_street["id"] == high_street["properties"]["code"] == "E05004996"
    assert high_street["properties"]["cluster"] == "Cluster 5"
    assert high_street["properties"]["area_km2"] > 0
    ring = high_street["geometry"]["coordinates"][0][0]
    lon, lat = ring[0]
    assert 0.3 < lon < 0.9 and 51.1 < lat < 51.4, "coordinates must be lon/lat"
    assert _signed_area(ring) > 0, "RFC 7946: exterior rings are counter-clockwise"


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring)) / 2


def test_bbox_filter_returns_only_intersecting_areas(client):
    town_centre = "0.515,51.268,0.530,51.280"
    features = client.get(f"/api/boundary-sets/wards-2024/features?bbox={town_centre}").get_json()["features"]
    names = {f["properties"]["name"] for f in features}
    assert "High Street" in names and 0 < len(names) < 22
    assert "Staplehurst" not in names


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "1,1,0,0"])
def test_bad_bbox_is_400(client, bbox):
    response = client.get(f"/api/boundary-sets/wards-2024/features?bbox={bbox}")
    assert response.status_code == 400 and "bbox" in response.get_json()["error"]["message"]


def test_unknown_set_is_404_with_json(client):
    for url in ("/api/boundary-sets/nope/features", "/api/boundary-sets/nope/clusters"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] == "no boundary set 'nope'"


def test_clusters_of_2013_wards_match_the_assessment(client):
    features = client.get("/api/boundary-sets/wards-2013/clusters").get_json()["features"]
    assert [f["properties"]["number"] for f in features] == list(range(1, 9))
    by_number = {f["properties"]["number"]: f["properties"] for f in features}
    assert sorted(by_number[5]["member_names"]) == ["Bridge", "East", "High Street", "North"]
    assert by_number[6]["type"] == "rural" and by_number[8]["type"] == "urban"
    assert sum(len(p["members"]) for p in by_number.values()) == 26
    assert not any(p["derived"] for p in by_number.values())


def test_clusters_of_2024_wards_are_derived_by_overlap(client, engine):
    features = client.get("/api/boundary-sets/wards-2024/clusters").get_json()["features"]
    assert len(features) == 8 and all(f["properties"]["derived"] for f in features)
    assert sum(len(f["properties"]["members"]) for f in features) == 22
    high_street = next(f for f in features if "E05015603" in f["properties"]["members"])
    assert high_street["properties"]["number"] == 5
    with transaction(engine) as session:
        shares = session.execute(text(
            "SELECT min(overlap_share) FROM cluster_members WHERE set_id = 'wards-2024'")).scalar()
    assert shares > 0.5, "each new ward lies mostly in the cluster it was given"


def test_lsoa_features_carry_deprivation(client):
    features = client.get("/api/boundary-sets/lsoa-2011/features").get_json()["features"]
    most_deprived = [f["id"] for f in features if f["properties"].get("imd_decile") == 1]
    assert sorted(most_deprived) == ["E01024389", "E01024397"]


def test_lsoa_set_has_no_clusters(client):
    assert client.get("/api/boundary-sets/lsoa-2011/clusters").status_code == 404


def _upload_form(set_id: str, content: bytes, filename: str = "wards.geojson") -> dict:
    return {"file": (io.BytesIO(content), filename), "id": set_id, "kind": "ward", "code_field": "WD13CD",
            "name_field": "WD13NM", "valid_from": "2013-05-02", "title": "Test wards"}


def test_upload_needs_authentication_and_a_gis_role(client, tokens, scratch_set):
    content = (GEODATA / "maidstone_wards_2013.geojson").read_bytes()
    assert client.post("/api/boundary-sets", data=_upload_form(scratch_set, content)).status_code == 401
    assert client.post("/api/boundary-sets", data=_upload_form(scratch_set, content),
                       headers=bearer("csp_not-a-token")).status_code == 401
    for role in ("viewer", "officer"):
        response = client.post("/api/boundary-sets", data=_upload_form(scratch_set, content),
                               headers=bearer(tokens[role]))
        assert response.status_code == 403, role
    created = client.post("/api/boundary-sets", data=_upload_form(scratch_set, content), headers=bearer(tokens["gis"]))
    assert created.status_code == 201 and created.get_json()["features"] == 26
    replaced = client.post("/api/boundary-sets", data=_upload_form(scratch_set, content),
                           headers=bearer(tokens["admin"]))
    assert replaced.status_code == 200 and replaced.get_json()["replaced"] is True


def test_bad_upload_is_400_naming_the_problem_and_keeps_the_old_set(client, tokens, scratch_set):
    good = (GEODATA / "maidstone_wards_2013.geojson").read_bytes()
    client.post("/api/boundary-sets", data=_upload_form(scratch_set, good), headers=bearer(tokens["gis"]))
    bad = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WD13CD": "X1", "WD13NM": "X"},
         "geometry": {"type": "Point", "coordinates": [0.5, 51.2]}}]}).encode()
    response = client.post("/api/boundary-sets", data=_upload_form(scratch_set, bad, "points.geojson"),
                           headers=bearer(tokens["gis"]))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["file"] == "points.geojson"
    assert error["problems"] == ["feature 1 (X1): geometry is a Point; only Polygon and MultiPolygon "
                                 "boundaries are accepted"]
    features = client.get(f"/api/boundary-sets/{scratch_set}/features").get_json()["features"]
    assert len(features) == 26


@pytest.mark.parametrize(("field", "value", "message"), [
    ("id", "Bad Id!", "id must be"),
    ("kind", "county", "kind must be one of"),
    ("valid_from", "2 May 2024", "valid_from must be a date"),
    ("code_field", "", "'code_field' is required"),
])
def test_upload_form_validation(client, tokens, scratch_set, field, value, message):
    form = _upload_form(scratch_set, b"{}")
    form[field] = value
    response = client.post("/api/boundary-sets", data=form, headers=bearer(tokens["gis"]))
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


@pytest.mark.parametrize("filename", ["..", "../..", "."])
def test_an_upload_named_like_a_directory_is_400(client, tokens, scratch_set, filename):
    content = (GEODATA / "maidstone_wards_2013.geojson").read_bytes()
    response = client.post("/api/boundary-sets", data=_upload_form(scratch_set, content, filename),
                           headers=bearer(tokens["gis"]))
    assert response.status_code == 400 and "upload-1" in response.get_json()["error"]["message"]


def test_names_and_codes_longer_than_their_columns_are_named_problems(client, tokens, scratch_set):
    features = json.loads((GEODATA / "maidstone_wards_2013.geojson").read_text())["features"][:2]
    features[0]["properties"]["WD13NM"] = "N" * 201
    features[1]["properties"]["WD13CD"] = "E" * 33
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    response = client.post("/api/boundary-sets", data=_upload_form(scratch_set, content),
                           headers=bearer(tokens["gis"]))
    assert response.status_code == 400
    problems = response.get_json()["error"]["problems"]
    assert problems[0].endswith("WD13NM is 201 characters; at most 200")
    assert problems[1].endswith("WD13CD is 33 characters; at most 32")


def test_upload_over_the_size_limit_is_413(client, tokens, scratch_set):
    huge = b" " * (6 * 1024 * 1024)
    response = client.post("/api/boundary-sets", data=_upload_form(scratch_set, huge), headers=bearer(tokens["gis"]))
    assert response.status_code == 413 and "MiB limit" in response.get_json()["error"]["message"]


def test_session_login_for_the_browser(client, engine, tokens):
    with transaction(engine) as session:
        username = session.execute(text("SELECT username FROM users WHERE role = 'gis' LIMIT 1")).scalar()
    assert client.post("/api/session", json={"username": username, "password": "wrong"}).status_code == 401
    assert client.post("/api/session", json={"username": username, "password": PASSWORD}).status_code == 200
    assert client.get("/api/session").get_json()["user"]["role"] == "gis"
    same_origin = {"Origin": "http://localhost"}  # a browser sends it; cookie writes without it are refused
    response = client.put("/api/boundary-sets/wards-2024/clusters/5/members/E05015603", headers=same_origin)
    assert response.status_code == 200
    client.delete("/api/session", headers=same_origin)
    assert client.get("/api/session").get_json()["user"] is None
    assert client.put("/api/boundary-sets/wards-2024/clusters/5/members/E05015603",
                      headers=same_origin).status_code == 401


def test_gis_staff_can_reassign_a_derived_cluster_member(client, tokens, engine):
    url = "/api/boundary-sets/wards-2024/clusters/{n}/members/E05015599"
    assert client.put(url.format(n=7), headers=bearer(tokens["officer"])).status_code == 403
    assert client.put(url.format(n=99), headers=bearer(tokens["gis"])).status_code == 404
    assert client.put(url.format(n=7), headers=bearer(tokens["gis"])).status_code == 200
    features = client.get("/api/boundary-sets/wards-2024/features").get_json()["features"]
    fant = next(f for f in features if f["id"] == "E05015599")
    assert fant["properties"]["cluster_number"] == 7 and fant["properties"]["cluster_derived"] is False


def test_openapi_documents_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in the OpenAPI document"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
