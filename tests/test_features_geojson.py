"""The features and clusters routes send GeoJSON assembled by PostGIS: the same collections as the Python-built ones
they replace (store.area_features / cluster_features, which parse every geometry), with ETags and 304s."""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from server.domain.boundary_files import read_boundary_file
from server.store import boundaries as store
from server.store.db import transaction
from tests.conftest import GEODATA, SHARED

TOWN_CENTRE = (0.515, 51.268, 0.530, 51.280)
NORTH_WEST = (0.40, 51.28, 0.52, 51.36)
FAR_AWAY = (-3.3, 55.9, -3.1, 56.0)  # Edinburgh: no Maidstone area
ENGLAND_LSOA = SHARED / "bench-data" / "england_lsoa_2011.geojson.gz"


def bbox_query(bbox: tuple[float, ...] | None) -> str:
    return "" if bbox is None else "?bbox=" + ",".join(map(str, bbox))


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def python_built_features(engine: Engine, set_id: str, bbox: tuple[float, float, float, float] | None) -> Any:
    """The body the features route built before: store.area_features (json.loads of each geometry) and jsonify."""
    with transaction(engine) as session:
        found = store.get_boundary_set(session, set_id)
        features = store.area_features(session, set_id, bbox)
    return json.loads(json.dumps({
        "type": "FeatureCollection", "features": features,
        "boundary_set": {"id": set_id, "title": found["title"], "valid_from": iso(found["valid_from"]),
                         "valid_to": iso(found["valid_to"]), "licence": found["licence"]}}))


def python_built_clusters(engine: Engine, set_id: str) -> Any:
    with transaction(engine) as session:
        features = store.cluster_features(session, set_id)
    return json.loads(json.dumps({"type": "FeatureCollection", "features": features}))


def assert_same_collection(served: Any, expected: Any) -> None:
    """Equal as parsed JSON, coordinates included (the same 6-decimal text parsed to the same floats); feature by
    feature first, so that a difference names its feature."""
    assert [f["id"] for f in served["features"]] == [f["id"] for f in expected["features"]]
    for got, want in zip(served["features"], expected["features"], strict=True):
        assert got["properties"] == want["properties"], got["id"]
        assert got["geometry"] == want["geometry"], got["id"]
        assert got == want, got["id"]
    assert served == expected


@pytest.mark.parametrize(("set_id", "bbox"), [
    ("wards-2013", None), ("wards-2024", None), ("lsoa-2011", None),
    ("wards-2024", TOWN_CENTRE), ("lsoa-2011", NORTH_WEST), ("wards-2013", NORTH_WEST)])
def test_features_are_the_python_built_collection(client, engine, set_id, bbox):
    response = client.get(f"/api/boundary-sets/{set_id}/features{bbox_query(bbox)}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    served = response.get_json()
    expected = python_built_features(engine, set_id, bbox)
    assert_same_collection(served, expected)
    if bbox is not None:
        with transaction(engine) as session:
            assert 0 < len(served["features"]) < len(store.area_codes(session, set_id))


def test_the_features_carry_clusters_and_deprivation_only_where_known(client):
    wards = client.get("/api/boundary-sets/wards-2013/features").get_json()["features"]
    assert all({"cluster", "cluster_number", "cluster_derived"} <= set(f["properties"]) for f in wards)
    assert not any("imd_rank" in f["properties"] for f in wards)
    lsoas = client.get("/api/boundary-sets/lsoa-2011/features").get_json()["features"]
    assert all("cluster" not in f["properties"] and "imd_decile" in f["properties"] for f in lsoas)


def test_a_bbox_with_no_area_gives_an_empty_collection(client, engine):
    served = client.get(f"/api/boundary-sets/wards-2024/features{bbox_query(FAR_AWAY)}").get_json()
    assert served["features"] == [] and served["boundary_set"]["id"] == "wards-2024"
    assert served == python_built_features(engine, "wards-2024", FAR_AWAY)


@pytest.mark.parametrize("set_id", ["wards-2013", "wards-2024"])
def test_clusters_are_the_python_built_collection(client, engine, set_id):
    response = client.get(f"/api/boundary-sets/{set_id}/clusters")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert_same_collection(response.get_json(), python_built_clusters(engine, set_id))


# --- conditional GET ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/boundary-sets/wards-2024/features",
                                 f"/api/boundary-sets/wards-2024/features{bbox_query(TOWN_CENTRE)}",
                                 "/api/boundary-sets/wards-2013/clusters"])
def test_a_client_with_the_etag_gets_304(client, url):
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache", "clients must revalidate: a load changes the answer"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["ETag"] == etag
    assert json.loads(gzip.decompress(zipped.get_data())) == first.get_json()


def test_each_bbox_and_route_has_its_own_etag(client):
    urls = ["/api/boundary-sets/wards-2024/features", "/api/boundary-sets/wards-2013/features",
            f"/api/boundary-sets/wards-2024/features{bbox_query(TOWN_CENTRE)}",
            f"/api/boundary-sets/wards-2024/features{bbox_query(NORTH_WEST)}",
            "/api/boundary-sets/wards-2024/clusters"]
    etags = [client.get(url).headers["ETag"] for url in urls]
    assert len(set(etags)) == len(urls)


def load_wards(engine: Engine, set_id: str, title: str) -> None:
    data = read_boundary_file(GEODATA / "maidstone_wards_2024.geojson", code_field="WD24CD", name_field="WD24NM")
    meta = store.BoundarySetMeta(id=set_id, kind="ward", title=title, code_field="WD24CD", name_field="WD24NM")
    with transaction(engine) as session:
        store.replace_boundary_set(session, meta, data)


def test_reloading_a_set_changes_its_etag_and_body(client, engine, scratch_set):
    url = f"/api/boundary-sets/{scratch_set}/features"
    load_wards(engine, scratch_set, "First title")
    first = client.get(url)
    assert first.get_json()["boundary_set"]["title"] == "First title"
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    load_wards(engine, scratch_set, "Second title")
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert second.get_json()["boundary_set"]["title"] == "Second title"
    assert_same_collection(second.get_json(), python_built_features(engine, scratch_set, None))


def test_missing_sets_and_lsoa_clusters_are_404_with_no_etag(client):
    for url in ("/api/boundary-sets/nope/features", "/api/boundary-sets/nope/clusters",
                "/api/boundary-sets/lsoa-2011/clusters"):
        response = client.get(url)
        assert response.status_code == 404 and "ETag" not in response.headers, url


# --- scale (opt-in: --scale) -----------------------------------------------------------------------------------

@pytest.mark.scale
def test_englands_lsoas_are_the_python_built_collection(client, engine, scratch_set, tmp_path):
    geojson = tmp_path / "england_lsoa_2011.geojson"
    geojson.write_bytes(gzip.decompress(ENGLAND_LSOA.read_bytes()))
    data = read_boundary_file(geojson, code_field="LSOA11CD", name_field="LSOA11NM")
    meta = store.BoundarySetMeta(id=scratch_set, kind="lsoa", title="LSOAs 2011 (England)",
                                 code_field="LSOA11CD", name_field="LSOA11NM")
    with transaction(engine) as session:
        store.replace_boundary_set(session, meta, data)
    whole = client.get(f"/api/boundary-sets/{scratch_set}/features").get_json()
    assert len(whole["features"]) == 32_844
    assert_same_collection(whole, python_built_features(engine, scratch_set, None))
    london = (-0.2, 51.4, 0.1, 51.6)
    part = client.get(f"/api/boundary-sets/{scratch_set}/features{bbox_query(london)}").get_json()
    assert 1000 < len(part["features"]) < 32_844
    assert_same_collection(part, python_built_features(engine, scratch_set, london))
