"""Who may read and write hotspot layers, on every route: anonymous 401; without a grant the restricted DCSM layer
answers exactly as a layer that does not exist (404, or 400 as an analysis source) and is not listed; its points
reach nobody else through any other route; the audit log is append-only."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import bearer

DCSM = "dcsm-locations"
NEEDLES = "needle-finds"
TOWN_CENTRE = {"lon": 0.5225, "lat": 51.2737}
SECRET = f"SECRET-{uuid.uuid4().hex}"


def headers_for(who: str, tokens: dict[str, str], hotspot_users: dict[str, dict[str, str]]) -> dict[str, str]:
    if who == "anonymous":
        return {}
    token = tokens[who] if who in tokens else hotspot_users[who]["token"]
    return bearer(token)


@pytest.fixture(scope="module")
def dcsm_point(app, hotspot_users) -> dict:
    """A DCSM location with a secret note and a private place name, recorded by a granted member."""
    client = app.test_client()
    headers = bearer(hotspot_users["dcsm-writer"]["token"])
    located = client.post(f"/api/hotspot-layers/{DCSM}/points", headers=headers,
                          json={**TOWN_CENTRE, "observed": "2023-06", "notes": SECRET, "category": "premises"})
    assert located.status_code == 201, located.get_json()
    second = client.post(f"/api/hotspot-layers/{DCSM}/points", headers=headers,
                         json={"lon": 0.5301, "lat": 51.2702, "observed": "2023-06-02", "notes": SECRET})
    assert second.status_code == 201, second.get_json()
    at_place = client.post(f"/api/hotspot-layers/{DCSM}/points", headers=headers,
                           json={"place": f"{SECRET} corner", "observed": "2023-07-01", "count": 3})
    assert at_place.status_code == 201, at_place.get_json()
    return {"id": located.get_json()["id"], "place_point": at_place.get_json()["id"]}


# --- the route × role matrix --------------------------------------------------------------------------------------

READ_ROUTES = ["/api/hotspot-layers/{layer}", "/api/hotspot-layers/{layer}/points",
               "/api/hotspot-layers/{layer}/unplaced", "/api/hotspot-layers/{layer}/series",
               "/api/hotspots/kde?source={layer}&bandwidth=300", "/api/hotspots/clusters?source={layer}&min_points=1"]
DCSM_READ = {"anonymous": 401, "viewer": 403, "officer": 403, "gis": 403, "ungranted": 403,
             "dcsm-reader": 200, "dcsm-writer": 200, "admin": 200}
NEEDLE_READ = {"anonymous": 401, "viewer": 200, "officer": 200, "gis": 200, "ungranted": 200,
               "dcsm-reader": 200, "dcsm-writer": 200, "admin": 200}
DCSM_WRITE = {"anonymous": 401, "viewer": 404, "officer": 404, "gis": 404, "ungranted": 404,
              "dcsm-reader": 403, "dcsm-writer": 201, "admin": 201}
NEEDLE_WRITE = {"anonymous": 401, "viewer": 403, "officer": 201, "gis": 201, "ungranted": 201,
                "dcsm-reader": 201, "dcsm-writer": 403, "admin": 201}  # dcsm-writer's role is viewer


def _as_missing(route: str) -> str:
    return route.format(layer=MISSING)


MISSING = "no-such-layer"


@pytest.mark.parametrize("route", READ_ROUTES)
@pytest.mark.parametrize(("layer", "expected"), [(DCSM, DCSM_READ), (NEEDLES, NEEDLE_READ)])
def test_reading_a_layer_by_role_and_grant(client, tokens, hotspot_users, dcsm_point, route, layer, expected):
    analysis = route.startswith("/api/hotspots/")
    for who, status in expected.items():
        headers = headers_for(who, tokens, hotspot_users)
        response = client.get(route.format(layer=layer), headers=headers)
        if status in (401, 403) and (status == 403 or analysis):
            # not yours: the same status and message as for a layer that does not exist
            missing = client.get(_as_missing(route), headers=headers)
            assert missing.status_code in (400, 404)
            assert response.status_code == missing.status_code, (who, route, response.get_json())
            message = response.get_json()["error"]["message"]
            assert message == missing.get_json()["error"]["message"].replace(MISSING, layer)
            continue
        assert response.status_code == status, (who, route, response.get_json())


@pytest.mark.parametrize(("layer", "expected"), [(DCSM, DCSM_WRITE), (NEEDLES, NEEDLE_WRITE)])
def test_recording_a_point_by_role_and_grant(client, tokens, hotspot_users, layer, expected):
    for who, status in expected.items():
        response = client.post(f"/api/hotspot-layers/{layer}/points", headers=headers_for(who, tokens, hotspot_users),
                               json={**TOWN_CENTRE, "observed": "2023-01-15", "notes": "access test"})
        assert response.status_code == status, (who, response.get_json())


def test_point_routes_of_the_restricted_layer_are_404_without_a_grant(client, tokens, hotspot_users, dcsm_point):
    pid = dcsm_point["id"]
    calls = [("get", f"/points/{pid}"), ("get", f"/points/{pid}/history"), ("patch", f"/points/{pid}"),
             ("delete", f"/points/{pid}"), ("post", f"/points/{pid}/restore"), ("post", "/import"),
             ("get", f"/points/{pid + 10_000_000}")]
    for who in ("viewer", "officer", "gis", "ungranted"):
        for method, path in calls:
            response = getattr(client, method)(f"/api/hotspot-layers/{DCSM}{path}", json={"count": 9},
                                               headers=headers_for(who, tokens, hotspot_users))
            assert response.status_code == 404, (who, method, path)
            assert response.get_json()["error"]["message"] == f"no hotspot layer '{DCSM}'"
            assert SECRET not in response.get_data(as_text=True)
    for method, path in calls:
        assert getattr(client, method)(f"/api/hotspot-layers/{DCSM}{path}", json={}).status_code == 401


def test_a_read_grant_reads_but_does_not_write(client, hotspot_users, dcsm_point):
    reader = bearer(hotspot_users["dcsm-reader"]["token"])
    point = f"/api/hotspot-layers/{DCSM}/points/{dcsm_point['id']}"
    assert client.get(f"{point}/history", headers=reader).status_code == 200
    response = client.patch(point, headers=reader, json={"count": 2})
    assert response.status_code == 403 and "write grant" in response.get_json()["error"]["message"]


def test_layer_listing_shows_only_what_the_caller_may_see(client, tokens, hotspot_users):
    def listed(who: str) -> dict[str, str]:
        response = client.get("/api/hotspot-layers", headers=headers_for(who, tokens, hotspot_users))
        assert response.status_code == 200
        return {layer["id"]: layer["access"] for layer in response.get_json()["hotspot_layers"]}

    assert client.get("/api/hotspot-layers").status_code == 401
    for who in ("viewer", "officer", "gis", "ungranted"):
        assert DCSM not in listed(who)
    assert listed("viewer")[NEEDLES] == "read" and listed("officer")[NEEDLES] == "write"
    assert listed("dcsm-writer")[DCSM] == "write" and listed("dcsm-reader")[DCSM] == "read"
    assert listed("admin")[DCSM] == "write"
    layer = next(item for item in client.get("/api/hotspot-layers", headers=bearer(tokens["admin"])).get_json()[
        "hotspot_layers"] if item["id"] == DCSM)
    assert layer["sensitivity"] == "restricted" and layer["owner_team"] and layer["retention"]["months"] > 0


# --- nothing leaks ------------------------------------------------------------------------------------------------

LEAK_ROUTES = ["/api/hotspot-layers", f"/api/hotspot-layers/{NEEDLES}/points",
               f"/api/hotspot-layers/{NEEDLES}/unplaced",
               "/api/gazetteer", "/api/gazetteer?unplaced=true", f"/api/hotspots/kde?source={NEEDLES}&bandwidth=300",
               f"/api/hotspots/clusters?source={NEEDLES}&min_points=1", "/api/hotspots/kde?source=crime",
               "/api/layers/lsoa-2011?metric=all-crime", "/api/metrics", "/api/openapi.json", "/", "/embed",
               f"/api/hotspot-layers/{DCSM}/points", f"/api/hotspot-layers/{DCSM}/unplaced"]


def test_restricted_points_appear_in_no_other_response(client, tokens, hotspot_users, dcsm_point):
    for who in ("anonymous", "viewer", "officer", "gis", "ungranted"):
        for route in LEAK_ROUTES:
            response = client.get(route, headers=headers_for(who, tokens, hotspot_users))
            body = response.get_data(as_text=True)
            assert SECRET not in body, (who, route)
            if response.is_json and response.status_code == 200:
                assert DCSM not in json.dumps(response.get_json().get("hotspot_layers", [])), (who, route)


def test_the_restricted_layer_owner_sees_its_private_place_and_others_do_not(client, tokens, hotspot_users,
                                                                             dcsm_point):
    def place_names(who: str) -> set[str]:
        response = client.get("/api/gazetteer", headers=headers_for(who, tokens, hotspot_users))
        return {place["name"] for place in response.get_json()["places"]}

    assert f"{SECRET} corner" in place_names("dcsm-writer")
    assert f"{SECRET} corner" in place_names("admin")
    assert f"{SECRET} corner" not in place_names("officer")
    private = next(p for p in client.get("/api/gazetteer", headers=bearer(hotspot_users["dcsm-reader"]["token"]))
                   .get_json()["places"] if p["name"] == f"{SECRET} corner")
    assert private["private_to_layer"] == DCSM and private["records"] == {DCSM: 1}
    response = client.put(f"/api/gazetteer/{private['id']}/location", json=TOWN_CENTRE,
                          headers=bearer(tokens["officer"]))
    assert response.status_code == 404, "a private place does not exist for those who may not see its layer"


def test_a_restricted_point_id_is_not_found_through_another_layer(client, tokens, hotspot_users, dcsm_point):
    for who in ("officer", "gis", "admin"):
        response = client.patch(f"/api/hotspot-layers/{NEEDLES}/points/{dcsm_point['id']}", json={"count": 1},
                                headers=headers_for(who, tokens, hotspot_users))
        assert response.status_code == 404
        assert response.get_json()["error"]["message"] == f"no point {dcsm_point['id']} in '{NEEDLES}'"
    for who in ("viewer", "dcsm-writer"):
        response = client.get(f"/api/hotspot-layers/{NEEDLES}/points/{dcsm_point['id']}",
                              headers=headers_for(who, tokens, hotspot_users))
        assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)


def test_aggregates_never_include_hotspot_points(client, tokens, hotspot_users):
    """Crime choropleths and crime hotspot layers are computed from police.uk records only: adding restricted
    (and internal) points changes none of their values."""
    routes = ["/api/layers/lsoa-2011?metric=all-crime&period=2022", "/api/hotspots/kde?source=crime&period=2022-06",
              "/api/hotspots/clusters?source=crime&period=2022-06", "/api/hotspots/gi?period=2022-06&permutations=99",
              f"/api/hotspots/kde?source={NEEDLES}&bandwidth=300"]

    def values() -> list:
        bodies = [client.get(route, headers=bearer(tokens["viewer"])).get_json() for route in routes]
        for body in bodies:
            body["metadata"].pop("compute_seconds", None)
        return [[f["properties"] for f in body["features"]] + [body["metadata"].get("records")] for body in bodies]

    before = values()
    writer = bearer(hotspot_users["dcsm-writer"]["token"])
    for offset in range(25):  # a dense DCSM cluster in the town centre
        response = client.post(f"/api/hotspot-layers/{DCSM}/points", headers=writer, json={
            "lon": TOWN_CENTRE["lon"] + offset * 1e-5, "lat": TOWN_CENTRE["lat"], "observed": "2022-06-10"})
        assert response.status_code == 201
    assert values() == before


def test_restricted_analyses_are_not_served_from_the_cache_to_others(client, tokens, hotspot_users, dcsm_point):
    url = f"/api/hotspots/clusters?source={DCSM}&min_points=1&eps=50"
    first = client.get(url, headers=bearer(tokens["admin"]))
    assert first.status_code == 200 and first.get_json()["metadata"]["records"] >= 1
    etag = first.headers["ETag"]
    for who in ("viewer", "ungranted"):
        again = client.get(url, headers={**headers_for(who, tokens, hotspot_users), "If-None-Match": etag})
        assert again.status_code == 400
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 400
    assert client.get(url, headers={**bearer(hotspot_users["dcsm-reader"]["token"]),
                                    "If-None-Match": etag}).status_code == 304


# --- audit log ----------------------------------------------------------------------------------------------------


def audit_rows(engine, username: str) -> list[dict]:
    with transaction(engine) as session:
        rows = session.execute(text("SELECT action, layer_id, feature_count, detail FROM hotspot_audit "
                                    "WHERE username = :u ORDER BY id"), {"u": username}).mappings().all()
    return [dict(r) for r in rows]


def test_every_restricted_read_and_every_write_is_audited(client, engine, tokens, hotspot_users, dcsm_point):
    reader = hotspot_users["dcsm-reader"]
    before = len(audit_rows(engine, reader["username"]))
    points = client.get(f"/api/hotspot-layers/{DCSM}/points", headers=bearer(reader["token"])).get_json()
    client.get(f"/api/hotspot-layers/{DCSM}/points/{dcsm_point['id']}/history", headers=bearer(reader["token"]))
    client.get(f"/api/hotspots/kde?source={DCSM}", headers=bearer(reader["token"]))
    client.get(f"/api/hotspots/kde?source={DCSM}", headers=bearer(reader["token"]))  # cached: audited again
    rows = audit_rows(engine, reader["username"])[before:]
    assert [r["action"] for r in rows] == ["read-points", "read-history", "read-kde", "read-kde"]
    assert rows[0]["layer_id"] == DCSM and rows[0]["feature_count"] == len(points["features"]) > 0

    viewer = username_of(client, tokens["viewer"])
    viewer_rows = len(audit_rows(engine, viewer))
    client.get(f"/api/hotspot-layers/{NEEDLES}/points", headers=bearer(tokens["viewer"]))
    assert len(audit_rows(engine, viewer)) == viewer_rows, "internal reads are not audited"

    created = client.post(f"/api/hotspot-layers/{NEEDLES}/points", headers=bearer(tokens["officer"]),
                          json={**TOWN_CENTRE, "observed": "2023-03-03"}).get_json()
    last = audit_rows(engine, username_of(client, tokens["officer"]))[-1]
    assert (last["action"], last["layer_id"], last["feature_count"]) == ("create", NEEDLES, 1)
    assert last["detail"]["point_id"] == created["id"]


def username_of(client, token: str) -> str:
    return client.get("/api/session", headers=bearer(token)).get_json()["user"]["username"]


def test_denied_attempts_on_the_restricted_layer_are_audited(client, engine, hotspot_users):
    ungranted = hotspot_users["ungranted"]
    client.get(f"/api/hotspot-layers/{DCSM}/points", headers=bearer(ungranted["token"]))
    last = audit_rows(engine, ungranted["username"])[-1]
    assert (last["action"], last["layer_id"], last["feature_count"]) == ("denied-read", DCSM, 0)


def test_only_admins_read_the_audit_log(client, tokens, hotspot_users):
    assert client.get("/api/hotspot-audit").status_code == 401
    for who in ("viewer", "officer", "gis"):
        assert client.get("/api/hotspot-audit", headers=bearer(tokens[who])).status_code == 403
    assert client.get("/api/hotspot-audit", headers=bearer(hotspot_users["dcsm-writer"]["token"])).status_code == 403
    body = client.get(f"/api/hotspot-audit?layer={DCSM}&limit=5", headers=bearer(tokens["admin"])).get_json()
    assert 0 < len(body["entries"]) <= 5 and all(e["layer_id"] == DCSM for e in body["entries"])
    assert set(body["entries"][0]) >= {"id", "at", "username", "role", "action", "layer_id", "feature_count"}
    assert client.get("/api/hotspot-audit?limit=0", headers=bearer(tokens["admin"])).status_code == 400


@pytest.mark.parametrize("table", ["hotspot_audit", "hotspot_point_history"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET layer_id = 'x'", "DELETE FROM {table}",
                                       "TRUNCATE {table} CASCADE"])
def test_audit_log_and_history_are_append_only_in_the_database(engine, dcsm_point, table, statement):
    with pytest.raises(sqlalchemy.exc.DBAPIError) as error, transaction(engine) as session:
        session.execute(text(statement.format(table=table)))
    assert isinstance(error.value.orig, psycopg.errors.InsufficientPrivilege)
    assert "append-only" in str(error.value.orig)


# --- grants -------------------------------------------------------------------------------------------------------


def test_admins_grant_and_revoke_the_restricted_layer(client, tokens, hotspot_users):
    ungranted = hotspot_users["ungranted"]
    url = f"/api/hotspot-layers/{DCSM}/grants/{ungranted['username']}"
    assert client.put(url, json={"access": "read"}, headers=bearer(tokens["gis"])).status_code == 403
    assert client.put(url, json={"access": "read"}, headers=bearer(hotspot_users["dcsm-writer"]["token"])
                      ).status_code == 403
    try:
        granted = client.put(url, json={"access": "read"}, headers=bearer(tokens["admin"]))
        assert granted.status_code == 200 and granted.get_json()["access"] == "read"
        assert client.get(f"/api/hotspot-layers/{DCSM}/points", headers=bearer(ungranted["token"])).status_code == 200
        grants = client.get(f"/api/hotspot-layers/{DCSM}/grants", headers=bearer(tokens["admin"])).get_json()
        assert ungranted["username"] in {g["username"] for g in grants["grants"]}
    finally:
        assert client.delete(url, headers=bearer(tokens["admin"])).status_code == 200
    assert client.get(f"/api/hotspot-layers/{DCSM}/points", headers=bearer(ungranted["token"])).status_code == 404
    assert client.delete(url, headers=bearer(tokens["admin"])).status_code == 404
    bad = client.put(f"/api/hotspot-layers/{NEEDLES}/grants/{ungranted['username']}", json={"access": "read"},
                     headers=bearer(tokens["admin"]))
    assert bad.status_code == 400 and "roles" in bad.get_json()["error"]["message"]
    assert client.put(f"/api/hotspot-layers/{DCSM}/grants/nobody-{uuid.uuid4().hex}", json={"access": "read"},
                      headers=bearer(tokens["admin"])).status_code == 404
