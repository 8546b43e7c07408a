"""Hotspot points: capture, edits with history, soft delete and restore, imports with row-level error reports, the
gazetteer (placing a place places its records) and the seeded needle-find layer."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from sqlalchemy import text

from server.domain.hotspot_seed import seed_hotspots
from server.store.db import transaction
from tests.conftest import GEODATA, bearer

NEEDLES = "needle-finds"
TOWN_HALL = {"lon": 0.5221, "lat": 51.2734}


def url(layer: str, rest: str = "") -> str:
    return f"/api/hotspot-layers/{layer}{rest}"


def post_point(client, layer: str, token: str, **body) -> dict:
    response = client.post(url(layer, "/points"), json={"observed": "2023-05-01", **body}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def features(client, layer: str, token: str, query: str = "") -> dict[int, dict]:
    response = client.get(url(layer, f"/points{query}"), headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    return {f["id"]: f for f in response.get_json()["features"]}


# --- capture ------------------------------------------------------------------------------------------------------


def test_a_point_is_recorded_with_who_and_when_as_rfc7946(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    feature = post_point(client, layer, tokens["officer"], **TOWN_HALL, count=4, category="needle",
                         notes="behind the bins")
    assert feature["type"] == "Feature" and feature["geometry"] == {"type": "Point",
                                                                    "coordinates": [0.5221, 51.2734]}
    properties = feature["properties"]
    assert properties["count"] == 4 and properties["located_by"] == "point" and properties["deleted"] is False
    assert properties["recorded_by"].startswith("officer-") and properties["recorded_at"]
    assert properties["observed_from"] == properties["observed_to"] == "2023-05-01"
    assert feature["id"] in features(client, layer, tokens["viewer"])


def test_points_from_british_grid_and_a_geojson_feature(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    grid = post_point(client, layer, tokens["gis"], easting=576030, northing=155670)
    lon, lat = grid["geometry"]["coordinates"]
    assert abs(lon - 0.5221) < 0.001 and abs(lat - 51.2734) < 0.001
    response = client.post(url(layer, "/points"), headers=bearer(tokens["gis"]), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [0.52, 51.27]},
        "properties": {"observed": "2023-06", "count": 2}})
    assert response.status_code == 201
    assert response.get_json()["properties"]["observed_to"] == "2023-06-30"


def test_filters_by_observed_dates_and_bbox(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    early = post_point(client, layer, tokens["officer"], **TOWN_HALL, observed="2021-03-10")["id"]
    late = post_point(client, layer, tokens["officer"], lon=0.60, lat=51.20, observed="2023-09-01/2023-09-30")["id"]
    assert set(features(client, layer, tokens["viewer"], "?from=2023")) == {late}
    assert set(features(client, layer, tokens["viewer"], "?to=2021-12")) == {early}
    assert set(features(client, layer, tokens["viewer"], "?from=2023-09-15&to=2023-09-20")) == {late}
    assert set(features(client, layer, tokens["viewer"], "?bbox=0.5,51.25,0.55,51.3")) == {early}
    for bad in ("?from=yesterday", "?from=2023&to=2022", "?bbox=1,2,3", "?colour=red", "?deleted=maybe"):
        assert client.get(url(layer, f"/points{bad}"), headers=bearer(tokens["viewer"])).status_code == 400


@pytest.mark.parametrize(("body", "reason"), [
    ({"observed": "2023-05-01"}, "no location"),
    ({"lon": 0.52, "lat": 51.27}, "observed date missing"),
    ({"lon": 0.52, "lat": 51.27, "observed": "2023-02-30"}, "2023-02-30"),
    ({"lon": 0.52, "lat": 51.27, "observed": "2023", "count": "many"}, "whole number"),
    ({"lon": 0.52, "lat": 51.27, "observed": "2023", "shape": "round"}, "unknown field"),
])
def test_bad_points_are_400_with_every_reason(client, tokens, scratch_layers, body, reason):
    response = client.post(url(scratch_layers["internal"], "/points"), json=body, headers=bearer(tokens["officer"]))
    assert response.status_code == 400
    assert any(reason in problem for problem in response.get_json()["error"]["problems"])


def test_not_json_is_400(client, tokens, scratch_layers):
    response = client.post(url(scratch_layers["internal"], "/points"), data="x", headers=bearer(tokens["officer"]))
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]["message"]


# --- edits, history, soft delete ----------------------------------------------------------------------------------


def test_edits_keep_history_and_delete_is_soft_and_reversible_by_admins(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    officer, admin = bearer(tokens["officer"]), bearer(tokens["admin"])
    point = post_point(client, layer, tokens["officer"], **TOWN_HALL, count=2, notes="first")["id"]
    edited = client.patch(url(layer, f"/points/{point}"), json={"count": 5, "notes": "recounted"}, headers=officer)
    assert edited.status_code == 200 and edited.get_json()["properties"]["count"] == 5
    assert edited.get_json()["properties"]["updated_by"].startswith("officer-")
    assert client.patch(url(layer, f"/points/{point}"), json={}, headers=officer).status_code == 400
    viewer_edit = client.patch(url(layer, f"/points/{point}"), json={"count": 1}, headers=bearer(tokens["viewer"]))
    assert viewer_edit.status_code == 403

    assert client.delete(url(layer, f"/points/{point}"), headers=officer).status_code == 200
    assert point not in features(client, layer, tokens["officer"])
    assert client.get(url(layer, f"/points/{point}"), headers=officer).status_code == 404
    assert client.patch(url(layer, f"/points/{point}"), json={"count": 1}, headers=officer).status_code == 404
    assert client.get(url(layer, "/points?deleted=include"), headers=officer).status_code == 403
    assert point in features(client, layer, tokens["admin"], "?deleted=only")
    assert client.post(url(layer, f"/points/{point}/restore"), headers=officer).status_code == 403
    assert client.delete(url(layer, f"/points/{point}"), headers=admin).status_code == 409
    restored = client.post(url(layer, f"/points/{point}/restore"), headers=admin)
    assert restored.status_code == 200 and restored.get_json()["properties"]["deleted"] is False
    assert client.post(url(layer, f"/points/{point}/restore"), headers=admin).status_code == 409
    assert point in features(client, layer, tokens["viewer"])

    history = client.get(url(layer, f"/points/{point}/history"), headers=bearer(tokens["viewer"])).get_json()
    entries = history["history"]
    assert [e["action"] for e in entries] == ["create", "update", "delete", "restore"]
    assert entries[1]["old"] == {"count": 2, "notes": "first"} and entries[1]["new"] == {"count": 5,
                                                                                         "notes": "recounted"}
    assert entries[0]["new"]["location"] == TOWN_HALL and all(e["by"] and e["at"] for e in entries)
    assert entries[2]["by"].startswith("officer-") and entries[3]["by"].startswith("admin-")
    with transaction(engine) as session:
        assert session.execute(text("SELECT count(*) FROM hotspot_points WHERE id = :id"), {"id": point}).scalar() == 1


def test_an_edit_cannot_leave_a_point_nowhere_or_backwards(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    officer = bearer(tokens["officer"])
    point = post_point(client, layer, tokens["officer"], **TOWN_HALL, observed="2023-05-01/2023-05-10")["id"]
    nowhere = client.patch(url(layer, f"/points/{point}"), json={"location": None}, headers=officer)
    assert nowhere.status_code == 400 and "no location" in nowhere.get_json()["error"]["message"]
    backwards = client.patch(url(layer, f"/points/{point}"), json={"observed_to": "2023-04-01"}, headers=officer)
    assert backwards.status_code == 400 and "before" in backwards.get_json()["error"]["message"]
    moved = client.patch(url(layer, f"/points/{point}"), json={"observed_from": "2023-05-05"}, headers=officer)
    assert moved.get_json()["properties"]["observed_to"] == "2023-05-10"
    at_place = client.patch(url(layer, f"/points/{point}"), json={"place": "Whatman Park", "location": None},
                            headers=officer).get_json()
    assert at_place["properties"]["located_by"] == "place" and at_place["properties"]["place"] == "Whatman Park"


# --- imports ------------------------------------------------------------------------------------------------------


def upload(client, layer: str, token: str, name: str, content: str):
    return client.post(url(layer, "/import"), headers=bearer(token),
                       data={"file": (io.BytesIO(content.encode()), name)}, content_type="multipart/form-data")


def test_csv_import_is_all_or_nothing_with_a_row_level_report(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    bad = ("lon,lat,easting,northing,place,observed,count\n"
           "0.52,51.27,,,,2023-05-01,2\n"
           ",,576030,155670,,2023-05-02,1\n"
           ",,,,,2023-05-03,1\n"
           "0.52,51.27,,,,2023-05-04,-3\n")
    response = upload(client, layer, tokens["officer"], "finds.csv", bad)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["file"] == "finds.csv"
    assert [(p["file"], p["row"]) for p in error["problems"]] == [("finds.csv", 4), ("finds.csv", 5)]
    assert "no location" in error["problems"][0]["reason"] and "count" in error["problems"][1]["reason"]
    assert features(client, layer, tokens["officer"]) == {}, "nothing was imported"

    good = bad.replace(",,,,,2023-05-03,1\n", ",,,,River Steps,2023-05-03,1\n").replace("-3\n", "3\n")
    place = f"Import test place {uuid.uuid4().hex[:6]}"
    good += f",,,,{place},2023-05-05,7\n"
    summary = upload(client, layer, tokens["officer"], "finds.csv", good)
    assert summary.status_code == 201, summary.get_json()
    assert summary.get_json() | {"coordinates": None} == {
        "layer": layer, "file": "finds.csv", "imported": 5, "located": 3, "unplaced": 2, "new_places": [place],
        "ignored_columns": [], "coordinates": None}
    assert len(features(client, layer, tokens["officer"])) == 3
    unplaced = client.get(url(layer, "/unplaced"), headers=bearer(tokens["viewer"])).get_json()
    assert set(unplaced["places"]) == {"River Steps", place}
    sources = {f["properties"]["source"] for f in features(client, layer, tokens["viewer"]).values()}
    assert sources == {"imported from finds.csv row 2", "imported from finds.csv row 3",
                       "imported from finds.csv row 5"}


def test_geojson_import_and_its_errors(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.521, 51.272]},
         "properties": {"observed": "2022-11-02", "count": 3, "category": "needle"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {"observed": "2022"}},
    ]}
    refused = upload(client, layer, tokens["gis"], "finds.geojson", json.dumps(collection))
    assert refused.status_code == 400
    assert refused.get_json()["error"]["problems"] == [
        {"file": "finds.geojson", "row": 2, "reason": "geometry must be a Point (or null with a place), not Polygon"}]
    collection["features"].pop()
    assert upload(client, layer, tokens["gis"], "finds.geojson", json.dumps(collection)).status_code == 201
    assert upload(client, layer, tokens["viewer"], "finds.geojson", json.dumps(collection)).status_code == 403
    missing = client.post(url(layer, "/import"), headers=bearer(tokens["gis"]), data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 400


# --- gazetteer ----------------------------------------------------------------------------------------------------


def test_placing_a_place_places_its_records_with_history(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    name = f"Test steps {uuid.uuid4().hex[:6]}"
    record = post_point(client, layer, tokens["officer"], place=name, count=12)
    assert record["geometry"] is None and record["properties"]["located_by"] is None
    assert record["id"] not in features(client, layer, tokens["officer"])
    collection = client.get(url(layer, "/points"), headers=bearer(tokens["officer"])).get_json()
    assert collection["summary"]["unplaced"] >= 1
    place = next(p for p in client.get("/api/gazetteer?unplaced=true", headers=bearer(tokens["viewer"]))
                 .get_json()["places"] if p["name"] == name)
    assert place["placed"] is False and place["records"] == {layer: 1} and place["private_to_layer"] is None

    location = f"/api/gazetteer/{place['id']}/location"
    assert client.put(location, json=TOWN_HALL).status_code == 401
    assert client.put(location, json=TOWN_HALL, headers=bearer(tokens["viewer"])).status_code == 403
    assert client.put(location, json={"lon": 99, "lat": 0}, headers=bearer(tokens["officer"])).status_code == 400
    placed = client.put(location, json={**TOWN_HALL, "source": "surveyed by the waste team"},
                        headers=bearer(tokens["officer"]))
    assert placed.status_code == 200 and placed.get_json()["records_placed"] == 1
    assert placed.get_json()["sources"][-1]["source"] == "surveyed by the waste team"
    now = features(client, layer, tokens["officer"])[record["id"]]
    assert now["geometry"]["coordinates"] == [0.5221, 51.2734] and now["properties"]["located_by"] == "place"
    history = client.get(url(layer, f"/points/{record['id']}/history"), headers=bearer(tokens["officer"]))
    last = history.get_json()["history"][-1]
    assert last["action"] == "place" and last["old"]["place_location"] is None
    assert last["new"]["place_location"] == TOWN_HALL

    moved = {"lon": 0.5225, "lat": 51.2736}
    assert client.put(location, json=moved, headers=bearer(tokens["officer"])).status_code == 403
    assert client.put(location, json=moved, headers=bearer(tokens["gis"])).status_code == 200
    assert features(client, layer, tokens["officer"])[record["id"]]["geometry"]["coordinates"] == [0.5225, 51.2736]


def test_places_are_matched_by_name_or_alias_and_new_places_can_be_added(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    record = post_point(client, layer, tokens["officer"], place="the  ampitheatre")
    assert record["properties"]["place"] == "Amphitheatre"
    assert record["properties"]["place_name_given"] == "the ampitheatre"
    name = f"New corner {uuid.uuid4().hex[:6]}"
    created = client.post("/api/gazetteer", json={"name": name, "easting": 576030, "northing": 155670},
                          headers=bearer(tokens["officer"]))
    assert created.status_code == 201 and created.get_json()["placed"] is True
    again = client.post("/api/gazetteer", json={"name": name.upper()}, headers=bearer(tokens["officer"]))
    assert again.status_code == 409
    assert client.post("/api/gazetteer", json={"name": "x"}, headers=bearer(tokens["viewer"])).status_code == 403
    assert client.get("/api/gazetteer").status_code == 401


def test_restricted_layer_places_are_private_to_it(client, tokens, hotspot_users, scratch_layers):
    layer = scratch_layers["restricted"]
    name = f"Private yard {uuid.uuid4().hex[:6]}"
    post_point(client, layer, hotspot_users["dcsm-writer"]["token"], place=name)
    shared_twin = post_point(client, scratch_layers["internal"], tokens["officer"], place=name)
    mine = [p for p in client.get("/api/gazetteer", headers=bearer(hotspot_users["dcsm-writer"]["token"]))
            .get_json()["places"] if p["name"] == name]
    theirs = [p for p in client.get("/api/gazetteer", headers=bearer(tokens["officer"])).get_json()["places"]
              if p["name"] == name]
    assert {p["private_to_layer"] for p in mine} == {layer, None}
    assert [p["private_to_layer"] for p in theirs] == [None]
    assert theirs[0]["id"] == shared_twin["properties"]["place_id"]
    assert theirs[0]["records"] == {scratch_layers["internal"]: 1}


# --- the seeded needle-find layer ---------------------------------------------------------------------------------


def test_gazetteer_is_seeded_from_the_shared_places_with_sources(client, tokens):
    places = {p["name"]: p for p in client.get("/api/gazetteer", headers=bearer(tokens["viewer"])).get_json()["places"]
              if p["private_to_layer"] is None}
    brenchley = places["Brenchley Gardens"]
    assert brenchley["placed"] and "Cenotaph" in brenchley["note"]
    assert brenchley["sources"][0]["quoted_evidence"].startswith("Location51.277147")
    assert len(places["Maidstone Town Hall"]["sources"]) == 2, "the second source is kept, not a second place"
    assert "not a surveyed point" in places["Whatman Park"]["note"]
    for name in ("Amphitheatre", "River Steps", "Rose Garden", "Sutton Road cemetery", "Brewer Street cemetery"):
        assert "No published coordinates" in places[name]["note"]
    assert places["Sutton Road cemetery"]["aliases"] == ["Sutton Rd Cemetary"]


def test_needle_finds_are_seeded_with_the_published_tables(client, tokens):
    series = client.get(url(NEEDLES, "/series"), headers=bearer(tokens["viewer"])).get_json()["records"]
    monthly = [r for r in series if r["category"] == "monthly borough total"]
    assert len(monthly) == 60 and {r["area_code"] for r in monthly} == {"E07000110"}
    assert sum(r["count"] or 0 for r in monthly) == 1522 + 2488 + 1066 + 472 + 713
    april = next(r for r in monthly if r["observed_from"] == "2021-04-01")
    assert april["count"] is None and "empty in the published table" in april["notes"]
    assert "paragraph 104" in april["source"]
    in_2022 = client.get(url(NEEDLES, "/series?from=2022&to=2022"), headers=bearer(tokens["viewer"])).get_json()
    assert sum(r["count"] for r in in_2022["records"] if r["category"] == "monthly borough total") == 472

    whatman = [f for f in features(client, NEEDLES, tokens["viewer"]).values()
               if f["properties"]["category"] == "top-5 location (yearly total)"]
    assert sorted(f["properties"]["count"] for f in whatman) == [88, 143, 190]
    assert {f["properties"]["place"] for f in whatman} == {"Whatman Park"}
    unplaced = client.get(url(NEEDLES, "/unplaced"), headers=bearer(tokens["viewer"])).get_json()
    seeded = [r for r in unplaced["records"] if r["category"] == "top-5 location (yearly total)"]
    assert len(seeded) == 12 and sum(r["count"] for r in seeded) == 1977 - 88 - 143 - 190
    sutton = next(r for r in seeded if r["place"] == "Sutton Road cemetery")
    assert sutton["count"] == 500 and sutton["place_name_given"] == "Sutton Rd Cemetary"
    assert sutton["observed_from"] == "2021-01-01" and sutton["observed_to"] == "2021-12-31"


def test_seeding_again_adds_nothing(engine):
    def counts() -> tuple[int, int]:
        with transaction(engine) as session:
            return (session.execute(text("SELECT count(*) FROM hotspot_points WHERE seed_key IS NOT NULL")).scalar(),
                    session.execute(text("SELECT count(*) FROM gazetteer_places")).scalar())

    before = counts()
    messages: list[str] = []
    seed_hotspots(engine, GEODATA, messages.append)
    assert counts() == before and before[0] == 75 and messages == []
