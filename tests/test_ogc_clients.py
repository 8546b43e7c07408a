"""GDAL as the GIS client it is in QGIS and ArcGIS Pro: its OAPIF driver (from the pyogrio wheel) reads every public
collection from the app served by gunicorn on loopback, with bbox, paging and crs=EPSG:27700, and a bearer token
shows a restricted layer; its MVT driver reads the vector tiles."""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import UNLIMITED_RATES, bearer
from tests.test_scale_out import free_port, gunicorn, wait_until_up

BBOX = (0.50, 51.25, 0.55, 51.29)


@pytest.fixture(scope="module")
def server(database_url: str, engine) -> Iterator[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CSP_ATLAS_SECRET_KEY": "ogc-clients-test",
           "CSP_ATLAS_RATE_LIMITS": UNLIMITED_RATES}
    env.pop("CSP_ATLAS_OWNER_DATABASE_URL", None)
    port = free_port()
    process = gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture
def as_user(tmp_path: Path):
    """Send GDAL's requests with a bearer token, as QGIS does with an authentication header. GDAL_HTTP_HEADERS would
    not do: the OAPIF driver sets its own Accept header, which replaces it; a header file is added to it."""
    def use(token: str | None) -> None:
        header_file = tmp_path / "headers.txt"
        header_file.write_text(f"Authorization: Bearer {token}\n")
        pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": str(header_file) if token else None})
    yield use
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": None})


def oapif(base: str) -> str:
    return f"OAPIF:{base}/ogc"


def rows(engine, sql: str, **params) -> list:
    with transaction(engine) as db:
        return db.execute(text(sql), params).all()


def public_collections(engine) -> dict[str, int]:
    """Every public collection and its number of features, from the tables."""
    expected: dict[str, int] = {}
    for set_id, areas in rows(engine, "SELECT set_id, count(*) FROM areas GROUP BY set_id"):
        expected[set_id] = expected[f"{set_id}.classified"] = areas
    for set_id, clusters in rows(engine, "SELECT set_id, count(*) FROM ward_clusters GROUP BY set_id"):
        expected[f"{set_id}.clusters"] = expected[f"{set_id}.clusters.classified"] = clusters
    expected["crime.records"] = rows(engine, "SELECT count(*) FROM crime_records WHERE geom IS NOT NULL")[0][0]
    return expected


def test_gdal_lists_and_reads_every_public_collection(server, engine):
    expected = public_collections(engine)
    listed = {name: kind for name, kind in pyogrio.list_layers(oapif(server))}
    assert set(listed) == set(expected), "anonymous: every public collection and no hotspot layer"
    assert listed["crime.records"] == "Point" and listed["wards-2024"] == "MultiPolygon"
    for collection, count in expected.items():
        frame = pyogrio.read_dataframe(oapif(server), layer=collection)
        assert len(frame) == count, collection
        assert frame.crs.to_string() == "OGC:CRS84" and frame.geometry.is_valid.all(), collection
    wards = pyogrio.read_dataframe(oapif(server), layer="wards-2024.clusters")
    assert set(wards.columns) >= {"number", "name", "members", "area_km2"}


def test_gdal_follows_next_links_page_by_page(server, engine):
    frame = pyogrio.read_dataframe(oapif(server), layer="wards-2024", PAGE_SIZE="5")
    codes = [r[0] for r in rows(engine, "SELECT code FROM areas WHERE set_id = 'wards-2024' ORDER BY code")]
    assert len(codes) > 5 and sorted(frame["code"]) == codes


def test_gdal_bbox_asks_the_server_for_the_areas_that_intersect(server, engine):
    frame = pyogrio.read_dataframe(oapif(server), layer="lsoa-2011", bbox=BBOX)
    expected = [r[0] for r in rows(engine, """SELECT code FROM areas WHERE set_id = 'lsoa-2011'
        AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326)) ORDER BY code""",
                                   a=BBOX[0], b=BBOX[1], c=BBOX[2], d=BBOX[3])]
    assert 3 < len(expected) < 95 and sorted(frame["code"]) == expected


def test_gdal_reads_british_national_grid(server, engine):
    frame = pyogrio.read_dataframe(oapif(server), layer="wards-2024", CRS="EPSG:27700")
    assert frame.crs.to_epsg() == 27700
    bounds = rows(engine, """SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT
        ST_Extent(ST_Transform(geom, 27700)) AS e FROM areas WHERE set_id = 'wards-2024') x""")[0]
    assert list(frame.total_bounds) == pytest.approx(list(bounds), abs=0.01)
    crime = pyogrio.read_dataframe(oapif(server), layer="crime.records", CRS="EPSG:27700", bbox=(
        575_000, 155_000, 577_000, 157_000), where="month = '2022-06'")
    assert len(crime) and crime.geometry.x.between(575_000, 577_000).all()


def test_a_granted_token_lists_the_restricted_layer_and_others_do_not(server, engine, client, hotspot_users,
                                                                      scratch_layers, tokens, as_user):
    layer = scratch_layers["restricted"]
    created = client.post(f"/api/hotspot-layers/{layer}/points", headers=bearer(hotspot_users["dcsm-writer"]["token"]),
                          json={"lon": 0.5225, "lat": 51.2737, "observed": "2023-06", "category": "premises"})
    assert created.status_code == 201
    collection = f"hotspots.{layer}"
    as_user(hotspot_users["dcsm-reader"]["token"])
    listed = {name for name, _ in pyogrio.list_layers(oapif(server))}
    assert {collection, "hotspots.needle-finds"} <= listed
    frame = pyogrio.read_dataframe(oapif(server), layer=collection)
    assert list(frame["category"]) == ["premises"]
    as_user(hotspot_users["ungranted"]["token"])
    listed = {name for name, _ in pyogrio.list_layers(oapif(server))}
    assert collection not in listed and "hotspots.needle-finds" in listed
    as_user(None)
    assert not {name for name, _ in pyogrio.list_layers(oapif(server))} & {collection, "hotspots.needle-finds"}


# --- vector tiles ----------------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """(col, row) of WebMercatorQuad at `zoom` holding the point."""
    n = 2 ** zoom
    col = int((lon + 180) / 360 * n)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return col, row


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gdal_reads_classified_vector_tiles_with_value_class_and_colour(server, engine, client, tmp_path: Path):
    query = "metric=burglary&period=2022&measure=density&k=4"
    tilejson = json.loads(fetch(f"{server}/ogc/collections/wards-2024.classified/tiles/WebMercatorQuad/"
                                f"tilejson.json?{query}")[2])
    zoom = 12
    col, row = tile_of(0.5225, 51.2737, zoom)
    url = tilejson["tiles"][0].format(z=zoom, x=col, y=row)
    assert url.endswith(f"/{zoom}/{row}/{col}?{query}")
    status, headers, body = fetch(url)
    assert status == 200 and headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
    path = tmp_path / "tile.mvt"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(path, layer="wards-2024.classified", X=col, Y=row, Z=zoom)
    expected_codes = [r[0] for r in rows(engine, """SELECT code FROM areas WHERE set_id = 'wards-2024'
        AND ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y)) ORDER BY code""",
                                         z=zoom, x=col, y=row)]
    assert sorted(frame["code"]) == expected_codes and len(expected_codes) >= 2
    layer = client.get(f"/api/layers/wards-2024?{query}").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in layer["features"]}
    for _, feature in frame.iterrows():
        expected = by_code[feature["code"]]
        assert feature["value"] == pytest.approx(expected["value"])
        assert (feature["class"], feature["color"]) == (expected["class"], expected["color"])
    again = fetch(url, {"If-None-Match": headers["ETag"]})
    assert again[0] == 304


def test_gdal_reads_the_classified_clusters_as_features_and_as_tiles(server, client, tmp_path: Path):
    query = "metric=burglary&period=2022&measure=density&k=3"
    layer = client.get(f"/api/layers/wards-2024/clusters?{query}").get_json()
    by_number = {f["properties"]["number"]: f["properties"] for f in layer["features"]}
    url = f"{server}/ogc/collections/wards-2024.clusters.classified?{query}"  # GDAL keeps the query on each request
    frame = pyogrio.read_dataframe(f"OAPIF:{url}")
    assert sorted(frame["number"]) == sorted(by_number) and len(by_number) >= 3
    for _, feature in frame.iterrows():
        expected = by_number[feature["number"]]
        assert (feature["value"], feature["class"], feature["color"], feature["rank"]) == pytest.approx(
            (expected["value"], expected["class"], expected["color"], expected["rank"]))
    zoom = 10
    col, row = tile_of(0.5225, 51.2737, zoom)
    status, _, body = fetch(f"{server}/ogc/collections/wards-2024.clusters.classified/tiles/WebMercatorQuad/"
                            f"{zoom}/{row}/{col}?{query}&properties=number,value,color")
    assert status == 200
    path = tmp_path / "clusters.mvt"
    path.write_bytes(body)
    tile = pyogrio.read_dataframe(path, layer="wards-2024.clusters.classified", X=col, Y=row, Z=zoom)
    assert set(tile.columns) == {"mvt_id", "number", "value", "color", "geometry"}
    assert sorted(tile["number"]) == sorted(by_number), "the borough's clusters all lie in one zoom-10 tile"
    for _, feature in tile.iterrows():
        assert feature["mvt_id"] == feature["number"]
        assert (feature["value"], feature["color"]) == pytest.approx(
            (by_number[feature["number"]]["value"], by_number[feature["number"]]["color"]))


def vertices(frame) -> int:
    return sum(len(p.exterior.coords) + sum(len(r.coords) for r in p.interiors)
               for g in frame.geometry for p in (g.geoms if g.geom_type == "MultiPolygon" else [g]))


def test_tiles_are_simplified_at_low_zoom_and_crime_tiles_hold_points(server, engine, tmp_path: Path):
    source = rows(engine, "SELECT sum(ST_NPoints(geom)) FROM areas WHERE set_id = 'lsoa-2011'")[0][0]
    counts = {}
    for zoom in (6, 8):
        col, row = tile_of(0.5225, 51.2737, zoom)
        status, _, body = fetch(f"{server}/ogc/collections/lsoa-2011/tiles/WebMercatorQuad/{zoom}/{row}/{col}")
        assert status == 200
        path = tmp_path / f"{zoom}.mvt"
        path.write_bytes(body)
        frame = pyogrio.read_dataframe(path, layer="lsoa-2011", X=col, Y=row, Z=zoom)
        assert len(frame) == 95, "one tile holds every LSOA of the borough"
        counts[zoom] = vertices(frame)
    assert counts[6] < 0.5 * source and counts[6] < counts[8] < source, (counts, source)
    col, row = tile_of(0.5225, 51.2737, 13)
    status, _, body = fetch(f"{server}/ogc/collections/crime.records/tiles/WebMercatorQuad/13/{row}/{col}")
    path = tmp_path / "crime.mvt"
    path.write_bytes(body)
    crime = pyogrio.read_dataframe(path, layer="crime.records", X=col, Y=row, Z=13)
    assert len(crime) > 10 and set(crime.geometry.geom_type) == {"Point"}
    assert {"month", "crime_type"} <= set(crime.columns)
