"""Restricted data stays restricted: grants are never implied, restricted records never bind to (or move with) shared
gazetteer places, and restricted writes leave public data versions and ETags alone."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import bearer

DCSM = "dcsm-locations"


def _post(client, layer: str, token: str, **body) -> dict:
    response = client.post(f"/api/hotspot-layers/{layer}/points", json={"observed": "2023-05-01", **body},
                           headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _point(client, layer: str, token: str, point_id: int) -> dict:
    response = client.get(f"/api/hotspot-layers/{layer}/points/{point_id}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_grant_is_never_implied_by_a_missing_body(client, tokens, hotspot_users):
    ungranted = hotspot_users["ungranted"]
    url = f"/api/hotspot-layers/{DCSM}/grants/{ungranted['username']}"
    for body in ({}, None, {"access": "owner"}):
        response = client.put(url, json=body, headers=bearer(tokens["admin"]))
        assert response.status_code == 400, body
        assert body is None or "never implied" in response.get_json()["error"]["message"]
    assert client.get(f"/api/hotspot-layers/{DCSM}/points", headers=bearer(ungranted["token"])).status_code == 404


def test_a_restricted_record_never_binds_to_a_shared_place(client, tokens, scratch_layers, hotspot_users):
    layer = scratch_layers["restricted"]
    writer = hotspot_users["dcsm-writer"]["token"]
    name = f"Shared alley {uuid.uuid4().hex[:6]}"
    shared = client.post("/api/gazetteer", json={"name": name}, headers=bearer(tokens["officer"]))
    assert shared.status_code == 201 and shared.get_json()["private_to_layer"] is None
    record = _post(client, layer, writer, place=name)
    assert record["properties"]["place_id"] != shared.get_json()["id"]

    placed = client.put(f"/api/gazetteer/{shared.get_json()['id']}/location", json={"lon": 0.52, "lat": 51.27},
                        headers=bearer(tokens["officer"]))
    assert placed.status_code == 200 and placed.get_json()["records_placed"] == 0
    after = _point(client, layer, writer, record["id"])
    assert after["geometry"] is None, "an officer without the grant moved a restricted record"


def test_a_name_private_to_a_restricted_layer_stays_private_after_a_shared_place_takes_it(
        client, tokens, scratch_layers, hotspot_users):
    layer = scratch_layers["restricted"]
    writer = hotspot_users["dcsm-writer"]["token"]
    name = f"Back yard {uuid.uuid4().hex[:6]}"
    first = _post(client, layer, writer, place=name)
    shared = client.post("/api/gazetteer", json={"name": name}, headers=bearer(tokens["officer"]))
    assert shared.status_code == 201
    second = _post(client, layer, writer, place=name)
    assert second["properties"]["place_id"] == first["properties"]["place_id"] != shared.get_json()["id"]


def test_placing_a_place_needs_write_access_to_every_layer_whose_records_use_it(
        client, engine, tokens, scratch_layers, hotspot_users):
    """A record bound to a shared place before the rule above (legacy data) still cannot be moved by others."""
    layer = scratch_layers["restricted"]
    writer = hotspot_users["dcsm-writer"]["token"]
    name = f"Old shared place {uuid.uuid4().hex[:6]}"
    shared = client.post("/api/gazetteer", json={"name": name}, headers=bearer(tokens["officer"])).get_json()
    record = _post(client, layer, writer, place=f"{name} private")
    with transaction(engine) as session:
        session.execute(text("UPDATE hotspot_points SET place_id = :place WHERE id = :id"),
                        {"place": shared["id"], "id": record["id"]})
    location = f"/api/gazetteer/{shared['id']}/location"
    refused = client.put(location, json={"lon": 0.52, "lat": 51.27}, headers=bearer(tokens["officer"]))
    assert refused.status_code == 403, refused.get_json()
    assert layer not in refused.get_data(as_text=True)
    assert _point(client, layer, writer, record["id"])["geometry"] is None
    allowed = client.put(location, json={"lon": 0.52, "lat": 51.27}, headers=bearer(tokens["admin"]))
    assert allowed.status_code == 200 and allowed.get_json()["records_placed"] == 1


def test_restricted_writes_do_not_change_public_etags(client, hotspot_users):
    public = "/api/layers/wards-2024?metric=all-crime&period=2022-06"
    before = client.get(public)
    assert before.status_code == 200
    _post(client, DCSM, hotspot_users["dcsm-writer"]["token"], lon=0.5225, lat=51.2737, notes="etag probe")
    after = client.get(public)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert client.get(public, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304


def test_restricted_analyses_follow_restricted_writes(client, hotspot_users):
    """The private version still keys the restricted caches: a new record shows in the next analysis."""
    reader = bearer(hotspot_users["dcsm-writer"]["token"])
    url = f"/api/hotspots/clusters?source={DCSM}&min_points=1&eps=50"
    first = client.get(url, headers=reader)
    assert first.status_code == 200
    _post(client, DCSM, hotspot_users["dcsm-writer"]["token"], lon=0.5400, lat=51.2600, notes="cache probe")
    second = client.get(url, headers=reader)
    assert second.get_json()["metadata"]["records"] == first.get_json()["metadata"]["records"] + 1
    assert second.headers["ETag"] != first.headers["ETag"]
