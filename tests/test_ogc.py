"""OGC API – Features and Tiles under /ogc (server/api/ogc.py), checked against PostGIS queries written here, against
/api/layers, and against the access rules of hotspot layers. GDAL as a client: tests/test_ogc_clients.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import bearer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"
TOWN_CENTRE = (0.50, 51.25, 0.55, 51.29)


def get_json(client, url: str, headers: dict[str, str] | None = None, status: int = 200) -> Any:
    response = client.get(url, headers=headers or {})
    assert response.status_code == status, (url, response.get_data(as_text=True)[:500])
    return json.loads(response.get_data())


def all_items(client, collection: str, query: str = "", headers: dict[str, str] | None = None) -> list[dict]:
    """Every feature, following the next links of pages of 7."""
    url = f"/ogc/collections/{collection}/items?limit=7{query}"
    features = []
    while url:
        page = get_json(client, url, headers)
        assert page["numberReturned"] == len(page["features"]) <= 7
        features += page["features"]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = following[0].removeprefix("http://localhost") if following else None
    assert len(features) == page["numberMatched"]
    return features


def sql_rows(engine, sql: str, **params: Any) -> list[Any]:
    with transaction(engine) as db:
        return db.execute(text(sql), params).all()


def test_landing_page_conformance_and_openapi(client):
    landing = get_json(client, "/ogc")
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    conformance = get_json(client, "/ogc/conformance")["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-2/1.0/conf/crs", "ogcapi-tiles-1/1.0/conf/mvt"):
        assert any(c.endswith(part) for c in conformance), part
    spec = get_json(client, rels["service-desc"].removeprefix("http://localhost"))
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/{collectionId}",
                 "/ogc/collections/{collectionId}/items", "/ogc/collections/{collectionId}/items/{featureId}",
                 "/ogc/collections/{collectionId}/queryables",
                 "/ogc/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"):
        assert path in spec["paths"], path
    items_params = {p.get("name") or p.get("$ref") for p in
                    spec["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]}
    assert {"bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "properties", "metric", "period",
            "measure"} <= items_params


def test_openapi_documents_every_ogc_route(app, client):
    documented = get_json(client, "/api/openapi.json")["paths"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/ogc") and rule.rule != "/ogc/":
            path = re.sub(r"<(\w+)>", lambda m: "{" + re.sub(r"_(\w)", lambda c: c.group(1).upper(), m.group(1)) + "}",
                          rule.rule)
            assert "get" in documented.get(path, {}), f"GET {path} is not in the OpenAPI document"


def test_every_boundary_set_is_a_collection_with_its_validity(client, engine):
    sets = sql_rows(engine, "SELECT id, valid_from, valid_to FROM boundary_sets WHERE atlas_shows_set(id)")
    clustered = {row[0] for row in sql_rows(engine, "SELECT DISTINCT set_id FROM ward_clusters")}
    listed = {c["id"]: c for c in get_json(client, "/ogc/collections")["collections"]}
    for set_id, valid_from, valid_to in sets:
        of_clusters = [f"{set_id}.clusters", f"{set_id}.clusters.classified"] if set_id in clustered else []
        for collection in (set_id, f"{set_id}.classified", *of_clusters):
            described = listed[collection]
            interval = described["extent"]["temporal"]["interval"][0]
            assert interval == [f"{valid_from}T00:00:00Z" if valid_from else None,
                                f"{valid_to}T00:00:00Z" if valid_to else None]
            assert described["boundary_set"]["valid_to"] == (valid_to.isoformat() if valid_to else None)
            assert set(described["crs"]) == {CRS84, BNG}
        assert (f"{set_id}.clusters" in listed) == (f"{set_id}.clusters.classified" in listed) == (set_id in clustered)
    assert "Valid from" in listed["wards-2013"]["description"] and "until 2024-05-02" in listed["wards-2013"][
        "description"]
    assert "crime.records" in listed
    assert not [c for c in listed if c.startswith("hotspots.")], "anonymous callers see no hotspot layer"


def test_area_items_page_through_every_area_with_cluster_membership(client, engine):
    features = all_items(client, "wards-2024")
    expected = sql_rows(engine, """
        SELECT a.code, c.number FROM areas a
        LEFT JOIN cluster_members m ON m.set_id = a.set_id AND m.area_code = a.code
        LEFT JOIN ward_clusters c ON c.id = m.cluster_id
        WHERE a.set_id = 'wards-2024' ORDER BY a.code""")
    assert [(f["id"], f["properties"]["cluster_number"]) for f in features] == [tuple(r) for r in expected]
    clusters = all_items(client, "wards-2024.clusters")
    members = {code: f["properties"]["number"] for f in clusters for code in f["properties"]["members"]}
    assert members == {code: number for code, number in expected if number is not None}


@pytest.mark.parametrize("bbox_crs", ["", BNG])
def test_bbox_in_either_crs_selects_the_areas_postgis_finds(client, engine, bbox_crs):
    if bbox_crs:
        corners = sql_rows(engine, """SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM
            (SELECT ST_Transform(ST_MakeEnvelope(:a, :b, :c, :d, 4326), 27700) AS b) x""",
                           a=TOWN_CENTRE[0], b=TOWN_CENTRE[1], c=TOWN_CENTRE[2], d=TOWN_CENTRE[3])[0]
        envelope = f"ST_Transform(ST_MakeEnvelope({','.join(map(str, corners))}, 27700), 4326)"
        query = f"&bbox={','.join(map(str, corners))}&bbox-crs={bbox_crs}"
    else:
        envelope = f"ST_MakeEnvelope({','.join(map(str, TOWN_CENTRE))}, 4326)"
        query = f"&bbox={','.join(map(str, TOWN_CENTRE))}"
    expected = [r[0] for r in sql_rows(engine, f"""SELECT code FROM areas WHERE set_id = 'lsoa-2011'
        AND ST_Intersects(geom, {envelope}) ORDER BY code""")]
    assert 3 < len(expected) < 95
    assert [f["id"] for f in all_items(client, "lsoa-2011", query)] == expected


def test_crs_27700_gives_british_national_grid_coordinates(client, engine):
    response = client.get("/ogc/collections/wards-2024/items/E05015593?crs=EPSG:27700")
    assert response.status_code == 200 and response.headers["Content-Crs"] == f"<{BNG}>"
    ring = json.loads(response.get_data())["geometry"]["coordinates"][0][0]
    expected = sql_rows(engine, """SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(
        ST_ForcePolygonCCW(ST_Transform(geom, 27700)), 1)), 1) AS p FROM areas
        WHERE set_id = 'wards-2024' AND code = 'E05015593') x""")[0]
    assert ring[0] == pytest.approx(list(expected), abs=0.01)
    assert 500_000 < ring[0][0] < 600_000 and 100_000 < ring[0][1] < 200_000
    plain = client.get("/ogc/collections/wards-2024/items/E05015593")
    assert plain.headers["Content-Crs"] == f"<{CRS84}>"


def test_crime_records_by_month_type_and_datetime(client, engine):
    month = get_json(client, "/ogc/collections/crime.records/items?month=2022-06&crime_type=burglary&limit=1")
    expected = sql_rows(engine, """SELECT count(*) FROM crime_records WHERE geom IS NOT NULL
        AND month = '2022-06-01' AND crime_type_slug = 'burglary'""")[0][0]
    assert month["numberMatched"] == expected > 0
    # an interval touching two months selects both whole months (a record's time is its month)
    interval = get_json(client, "/ogc/collections/crime.records/items?datetime=2022-06-30/2022-07-01&limit=1")
    both = sql_rows(engine, """SELECT count(*) FROM crime_records WHERE geom IS NOT NULL
        AND month IN ('2022-06-01', '2022-07-01')""")[0][0]
    assert interval["numberMatched"] == both
    open_end = get_json(client, "/ogc/collections/crime.records/items?datetime=2022-11-01T00:00:00Z/..&limit=1")
    assert open_end["numberMatched"] == sql_rows(engine, """SELECT count(*) FROM crime_records
        WHERE geom IS NOT NULL AND month = '2022-11-01'""")[0][0]


def test_datetime_on_a_boundary_set_applies_its_validity(client):
    assert get_json(client, "/ogc/collections/wards-2013/items?datetime=2025-01-01")["numberMatched"] == 0
    assert get_json(client, "/ogc/collections/wards-2013/items?datetime=2020-01-01")["numberMatched"] == 26
    assert get_json(client, "/ogc/collections/wards-2024/items?datetime=2020-01-01")["numberMatched"] == 0


def test_property_selection_and_a_single_item(client):
    page = get_json(client, "/ogc/collections/crime.records/items?limit=3&properties=month,crime_type")
    assert all(set(f["properties"]) == {"month", "crime_type"} for f in page["features"])
    one = page["features"][0]
    single = get_json(client, f"/ogc/collections/crime.records/items/{one['id']}?properties=month,crime_type")
    assert single["properties"] == one["properties"] and single["geometry"] == one["geometry"]
    get_json(client, "/ogc/collections/crime.records/items/999999999999", status=404)
    get_json(client, "/ogc/collections/crime.records/items/not-a-number", status=404)


def test_queryables_are_the_filters_the_items_take(client):
    queryables = get_json(client, "/ogc/collections/crime.records/queryables")
    assert {"month", "crime_type", "lsoa_code", "datetime"} <= set(queryables["properties"])
    get_json(client, "/ogc/collections/crime.records/items?lsoa_code=E01024338&limit=1")
    get_json(client, "/ogc/collections/crime.records/items?category=x", status=400)


def test_classified_items_carry_the_values_classes_colours_and_ranks_of_the_layer(client):
    query = "metric=burglary&period=2022&measure=density&k=4"
    layer = get_json(client, f"/api/layers/wards-2024?{query}")
    served = all_items(client, "wards-2024.classified", f"&{query}")
    expected = {f["properties"]["code"]: {k: f["properties"][k] for k in ("value", "class", "color", "rank")}
                for f in layer["features"]}
    assert {f["id"]: {k: f["properties"][k] for k in ("value", "class", "color", "rank")}
            for f in served} == expected
    lean = get_json(client, f"/ogc/collections/wards-2024.classified/items?{query}&limit=100&skipGeometry=true")
    assert all(f["geometry"] is None for f in lean["features"]) and len(lean["features"]) == len(served)
    change = get_json(client, "/ogc/collections/wards-2024.classified/items?metric=burglary&period=2022-06"
                              "&measure=change&limit=100&skipGeometry=true")["features"]
    layer_change = {f["properties"]["code"]: f["properties"] for f in get_json(
        client, "/api/layers/wards-2024?metric=burglary&period=2022-06&measure=change")["features"]}
    assert {f["id"]: (f["properties"]["value_current"], f["properties"]["value_base"]) for f in change} == {
        code: (p["value_current"], p["value_base"]) for code, p in layer_change.items()}
    page = get_json(client, f"/ogc/collections/wards-2024.classified/items?{query}&limit=1")
    assert page["legend"]["classes"] == layer["legend"]["classes"]
    assert "metric" in get_json(client, "/ogc/collections/wards-2024.classified/items?metric=nope", status=400)[
        "error"]["message"]


def test_classified_cluster_items_carry_the_values_of_the_layer_of_clusters(client):
    query = "metric=burglary&period=2022&measure=density&k=3"
    layer = get_json(client, f"/api/layers/wards-2024/clusters?{query}")
    served = all_items(client, "wards-2024.clusters.classified", f"&{query}")
    fields = ("value", "class", "color", "rank", "rank_of")
    assert {f["id"]: {k: f["properties"][k] for k in fields} for f in served} == {
        f["properties"]["number"]: {k: f["properties"][k] for k in fields} for f in layer["features"]}
    assert len(served) >= 3 and len({f["properties"]["class"] for f in served}) == 3
    by_number = {f["properties"]["number"]: f["properties"] for f in layer["features"]}
    assert all(f["properties"]["members"] == by_number[f["id"]]["members"] for f in served)
    page = get_json(client, f"/ogc/collections/wards-2024.clusters.classified/items?{query}&limit=1")
    assert page["legend"]["classes"] == layer["legend"]["classes"] and page["metadata"]["geography"] == "clusters"
    top = min(served, key=lambda f: f["properties"]["rank"] or 1e9)
    one = get_json(client, f"/ogc/collections/wards-2024.clusters.classified/items/{top['id']}?{query}")
    assert one["properties"]["value"] == top["properties"]["value"] and one["properties"]["rank"] == 1
    highest = get_json(client, f"/ogc/collections/wards-2024.clusters.classified/items?{query}&class=2")["features"]
    assert {f["id"] for f in highest} == {f["id"] for f in served if f["properties"]["class"] == 2}
    queryables = get_json(client, "/ogc/collections/wards-2024.clusters.classified/queryables")["properties"]
    assert {"class", "type"} <= set(queryables)
    get_json(client, "/ogc/collections/lsoa-2011.clusters.classified/items", status=404)
    get_json(client, "/ogc/collections/wards-2024.clusters.classified/items?metric=nope", status=400)


@pytest.mark.parametrize("query", ["bbox=1,2,3", "bbox=0,0,1,1&bbox-crs=EPSG:3857", "crs=EPSG:4326",
                                   "limit=0", "limit=100000", "offset=-1", "datetime=yesterday",
                                   "datetime=2022-06-01/2022-01-01", "properties=nope", "month=2022-13",
                                   "unknown=1", "f=html"])
def test_bad_parameters_are_400_with_a_reason(client, query):
    body = get_json(client, f"/ogc/collections/crime.records/items?{query}", status=400)
    assert body["error"]["message"]


def test_items_are_cached_with_etags(client):
    first = client.get("/ogc/collections/wards-2024/items?limit=5")
    again = client.get("/ogc/collections/wards-2024/items?limit=5", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# --- hotspot layers: present for callers who may read them, absent (not listed, 404) for everyone else ---------


@pytest.fixture
def restricted_point(client, scratch_layers, hotspot_users) -> dict[str, str]:
    layer = scratch_layers["restricted"]
    created = client.post(f"/api/hotspot-layers/{layer}/points", headers=bearer(hotspot_users["dcsm-writer"]["token"]),
                          json={"lon": 0.5225, "lat": 51.2737, "observed": "2023-06", "category": "premises"})
    assert created.status_code == 201, created.get_json()
    return {"layer": layer, "collection": f"hotspots.{layer}", "id": str(created.get_json()["id"])}


def test_a_restricted_layer_is_a_collection_only_for_those_granted(client, engine, tokens, hotspot_users,
                                                                     restricted_point):
    collection = restricted_point["collection"]
    reader = bearer(hotspot_users["dcsm-reader"]["token"])
    listed = {c["id"] for c in get_json(client, "/ogc/collections", reader)["collections"]}
    assert collection in listed and "hotspots.needle-finds" in listed
    features = all_items(client, collection, headers=reader)
    assert [str(f["id"]) for f in features] == [restricted_point["id"]]
    response = client.get(f"/ogc/collections/{collection}/items", headers=reader)
    assert "no-store" in response.headers["Cache-Control"]
    audited = sql_rows(engine, "SELECT action FROM hotspot_audit WHERE layer_id = :l AND username = :u",
                       l=restricted_point["layer"], u=hotspot_users["dcsm-reader"]["username"])
    assert ("ogc-items",) in audited
    for who in (bearer(tokens["gis"]), bearer(hotspot_users["ungranted"]["token"]), {}):
        listed = {c["id"] for c in get_json(client, "/ogc/collections", who)["collections"]}
        assert collection not in listed
        for path in ("", "/items", f"/items/{restricted_point['id']}", "/queryables", "/tiles",
                     "/tiles/WebMercatorQuad/10/341/513"):
            missing = get_json(client, f"/ogc/collections/{collection}{path}", who, status=404)
            assert missing["error"]["message"] == f"no collection '{collection}'"
    get_json(client, "/ogc/collections/hotspots.no-such-layer", reader, status=404)


@pytest.mark.parametrize(("collection", "status"), [
    ("wards-2024", 200), ("wards-2024.clusters", 200), ("lsoa-2011.clusters", 404), ("lsoa-2011.classified", 200),
    ("crime.records", 200), ("no-such-set", 404), ("no-such-set.classified", 404),
    ("wards-2024.clusters.classified", 200), ("lsoa-2011.clusters.classified", 404)])
def test_tiles_of_each_kind_of_collection(client, collection, status):
    response = client.get(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/10/341/513")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/vnd.mapbox-vector-tile" and len(response.get_data()) > 100
    for bad in ("23/0/0", "1/2/0", "x/0/0"):
        assert client.get(f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{bad}").status_code == 400


def test_tiles_carry_only_the_properties_asked_for(client):
    url = "/ogc/collections/wards-2024.classified/tiles/WebMercatorQuad/10/341/513?metric=burglary&period=2022"
    full, lean = client.get(url), client.get(f"{url}&properties=code,color")
    assert full.status_code == lean.status_code == 200
    assert b"imd_decile" in full.get_data() and b"imd_decile" not in lean.get_data()
    assert b"color" in lean.get_data() and len(lean.get_data()) < len(full.get_data())
    assert "nope" in get_json(client, f"{url}&properties=code,nope", status=400)["error"]["message"]
