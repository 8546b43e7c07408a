"""Where and how many: a record's count is at least 1, and its location lies in the partnership area (the union of
the current ward set) plus the buffer of CSP_ATLAS_RECORD_BUFFER_METRES; lon/lat or easting/northing given the wrong
way round are recognised and the 400 says what to send instead. Nothing refused is stored."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import Engine, text

from server import create_app
from server.config import Settings
from server.store.db import transaction
from tests.conftest import SHARED, UNLIMITED_RATES, bearer

TOWN_CENTRE = {"lon": 0.5225, "lat": 51.2737}
LIVERPOOL = {"lon": -2.9916, "lat": 53.4084}


def post(client, layer: str, token: str, **fields):
    return client.post(f"/api/hotspot-layers/{layer}/points", headers=bearer(token),
                       json={"observed": "2023-05-01", **fields})


def stored(engine: Engine, layer: str) -> int:
    with transaction(engine) as session:
        return session.execute(text("SELECT count(*) FROM hotspot_points WHERE layer_id = :l"),
                               {"l": layer}).scalar_one()


def refused(response, *fragments: str) -> str:
    assert response.status_code == 400, response.get_json()
    message = response.get_json()["error"]["message"]
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture(scope="module")
def east_of_the_wards(engine: Engine):
    """lon/lat of points due east of the partnership's most easterly vertex: metres -> (lon, lat), exactly that far
    from the union of the current wards (every other point of it lies further west)."""
    with transaction(engine) as session:
        x, y, set_id = session.execute(text("""
            WITH ward_set AS (SELECT id FROM boundary_sets WHERE kind = 'ward'
                              ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST LIMIT 1)
            SELECT ST_X(d.geom), ST_Y(d.geom), (SELECT id FROM ward_set)
            FROM ST_DumpPoints((SELECT ST_Transform(ST_Union(geom), 27700) FROM areas
                                WHERE set_id = (SELECT id FROM ward_set))) AS d
            ORDER BY ST_X(d.geom) DESC LIMIT 1""")).one()

        def at(metres: float) -> tuple[float, float]:
            return session.execute(text("SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), "
                                        "27700), 4326) AS g"), {"x": x + metres, "y": y}).one()

        return set_id, {m: tuple(at(m)) for m in (1000, 3500)}


def test_count_must_be_at_least_one(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    for count in (0, -3):
        refused(post(client, layer, tokens["officer"], **TOWN_CENTRE, count=count), "count must be from 1")
    assert stored(engine, layer) == 0
    assert post(client, layer, tokens["officer"], **TOWN_CENTRE, count=1).status_code == 201
    point_id = post(client, layer, tokens["officer"], **TOWN_CENTRE, count=None).get_json()["id"]
    assert stored(engine, layer) == 2  # 1, and not known (null)
    edit = client.patch(f"/api/hotspot-layers/{layer}/points/{point_id}", headers=bearer(tokens["officer"]),
                        json={"count": 0})
    refused(edit, "count must be from 1")


def test_a_point_far_from_the_partnership_is_refused_with_its_distance(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    message = refused(post(client, layer, tokens["officer"], **LIVERPOOL), "lon -2.9916, lat 53.4084",
                      "outside the partnership area")
    km = float(message.split(" km outside")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert 320 < km < 345, message  # Liverpool to Maidstone's edge, less the 2 km buffer
    assert stored(engine, layer) == 0


def test_swapped_lon_lat_is_recognised_and_the_fix_spelled_out(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    response = post(client, layer, tokens["officer"], lon=TOWN_CENTRE["lat"], lat=TOWN_CENTRE["lon"])
    refused(response, "lon and lat look swapped", "send lon=0.5225, lat=51.2737")
    assert response.get_json()["error"]["problems"] == [response.get_json()["error"]["message"]]
    assert stored(engine, layer) == 0


def test_swapped_easting_northing_is_recognised(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    # the wrong way round these BNG metres are a valid grid point off Northern Ireland, inside England's bounding box
    response = post(client, layer, tokens["officer"], easting=155670, northing=576030)
    refused(response, "easting and northing look swapped", "send easting=576030, northing=155670")
    assert post(client, layer, tokens["officer"], easting=576030, northing=155670).status_code == 201
    assert stored(engine, layer) == 1


def test_an_edit_cannot_move_a_point_out_of_the_area(client, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    point = post(client, layer, tokens["officer"], **TOWN_CENTRE).get_json()
    url = f"/api/hotspot-layers/{layer}/points/{point['id']}"
    refused(client.patch(url, headers=bearer(tokens["officer"]), json={"lon": 51.2737, "lat": 0.5225}),
            "look swapped")
    assert client.get(url, headers=bearer(tokens["officer"])).get_json()["geometry"]["coordinates"] == [0.5225,
                                                                                                       51.2737]


def test_the_buffer_comes_from_the_setting(client, engine, database_url, tokens, scratch_layers, east_of_the_wards):
    layer = scratch_layers["internal"]
    set_id, points = east_of_the_wards
    near, far = points[1000], points[3500]
    assert post(client, layer, tokens["officer"], lon=near[0], lat=near[1]).status_code == 201  # default 2,000 m
    message = refused(post(client, layer, tokens["officer"], lon=far[0], lat=far[1]),
                      "1.5 km outside the partnership area", f"{set_id} wards and 2,000 m around them")
    assert "swapped" not in message
    strict = create_app(Settings(database_url=database_url, secret_key="test-secret", shared_dir=SHARED,
                                 rate_limits=UNLIMITED_RATES, record_buffer_metres=500))
    refused(post(strict.test_client(), layer, tokens["officer"], lon=near[0], lat=near[1]),
            "0.5 km outside the partnership area", "500 m around them")
    assert stored(engine, layer) == 1


def test_an_import_with_one_point_outside_is_refused_whole_naming_the_row(client, engine, tokens, scratch_layers):
    layer = scratch_layers["internal"]
    csv = (b"lon,lat,observed,count\n"
           b"0.5225,51.2737,2023-05-01,2\n"
           b"51.2702,0.5301,2023-05-02,1\n"
           b"-2.9916,53.4084,2023-05-03,1\n")
    response = client.post(f"/api/hotspot-layers/{layer}/import", headers=bearer(tokens["officer"]),
                           content_type="multipart/form-data", data={"file": (io.BytesIO(csv), "finds.csv")})
    assert response.status_code == 400, response.get_json()
    problems = response.get_json()["error"]["problems"]
    assert [(p["file"], p["row"]) for p in problems] == [("finds.csv", 3), ("finds.csv", 4)]
    assert "send lon=0.5301, lat=51.2702" in problems[0]["reason"]
    assert "outside the partnership area" in problems[1]["reason"]
    assert stored(engine, layer) == 0


def test_a_named_place_is_placed_only_inside_the_area(client, tokens):
    name = f"Validation corner {uuid.uuid4().hex[:6]}"
    officer = bearer(tokens["officer"])
    refused(client.post("/api/gazetteer", headers=officer, json={"name": name, **LIVERPOOL}),
            "outside the partnership area")
    created = client.post("/api/gazetteer", headers=officer, json={"name": name})
    assert created.status_code == 201, created.get_json()
    url = f"/api/gazetteer/{created.get_json()['id']}/location"
    refused(client.put(url, headers=officer, json={"easting": 155670, "northing": 576030}),
            "easting and northing look swapped", "send easting=576030, northing=155670")
    placed = client.put(url, headers=officer, json={"easting": 576030, "northing": 155670})
    assert placed.status_code == 200 and placed.get_json()["placed"], placed.get_json()
