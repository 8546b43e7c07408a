"""The partnership's annotations and the borough-level figures of hotspot layers: every quote and figure pinned to
its line of the assessment, the outlines equal to the areas they name, the public API, patrol summaries, and the
DCSM figures reaching only those who may read the DCSM layer, through any route."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from server.config import ROOT
from server.domain.annotations import (
    AnnotationFileError,
    annotations_csv,
    load_annotations,
    load_layer_statistics,
    read_annotations,
    read_layer_statistics,
    with_annotations,
)
from server.domain.figure_pack import FIGURES, FigurePack, _add_figure
from server.domain.rendering import MapSpec
from server.store.db import transaction
from tests.conftest import bearer

SEED_TEXT = ROOT.parent / "shared" / "seeds" / "002_811f2f14a1d95052.txt"
needs_seed_text = pytest.mark.skipif(not SEED_TEXT.exists(), reason="../shared/seeds is not present")
DCSM = "dcsm-locations"
DCSM_QUOTE = "41 young people were identified"


def seed_line(number: int) -> str:
    return SEED_TEXT.read_text(encoding="utf-8").splitlines()[number - 1]


def numbers(text_: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text_.replace(",", ""))


# --- each statement at its line ---------------------------------------------------------------------------------

@needs_seed_text
@pytest.mark.parametrize("annotation", read_annotations(), ids=lambda a: a["id"])
def test_each_annotation_quote_and_figure_are_at_its_source_line(annotation):
    line = seed_line(annotation["source_line"])
    assert annotation["quote"] in line
    for code in annotation["area_codes"]:
        if annotation["boundary_set"] == "lsoa-2011":
            assert code in line  # the LSOA is named in the sentence itself
    for number in numbers(annotation["figure"] or ""):
        assert number in numbers(annotation["quote"]), (annotation["id"], number)
    if annotation["paragraph"].isdigit():
        paragraph = re.match(r"^(?:- )?(\d+) ", line)
        assert paragraph and paragraph[1] == annotation["paragraph"]


@needs_seed_text
def test_the_lsoas_of_concern_and_priority_areas_are_all_there():
    found = {a["id"]: a for a in read_annotations()}
    lsoas = {code for a in found.values() if a["kind"] == "lsoa-of-concern" for code in a["area_codes"]}
    assert lsoas == {"E01033090", "E01024389", "E01024372", "E01024392", "E01033088"}
    assert found["lsoa-e01033090-serious-violence"]["figure"].startswith("267 incidents; harm score 50847")
    assert "Park Wood, the south of High Street Ward and Shepway" in seed_line(391)
    priorities = {a["id"] for a in found.values() if a["kind"] == "district-priority"}
    assert priorities == {"priority-park-wood", "priority-high-street-south", "priority-shepway"}
    assert found["priority-shepway"]["area_codes"] == ["E05005003", "E05005004"]


@needs_seed_text
@pytest.mark.parametrize("figure", read_layer_statistics(), ids=lambda f: f["key"])
def test_each_layer_figure_is_at_its_source_line(figure):
    line = seed_line(figure["source_line"])
    assert figure["quote"] in line
    assert f"{figure['value']:g}" in numbers(figure["quote"])
    assert figure["layer_id"] == DCSM


# --- bad files are refused with file, line and field -------------------------------------------------------------

HEADER = "id,kind,title,boundary_set,area_codes,paragraph,source_line,quote,figure,note\n"


@pytest.mark.parametrize(("row", "message"), [
    ("x,not-a-kind,T,lsoa-2011,E01033090,35,388,q,,", "line 3: 'kind' must be one of"),
    ("x,lsoa-of-concern,T,lsoa-2011,<script>,35,388,q,,", "line 3: 'area_codes' has '<script>'"),
    ("x,lsoa-of-concern,T,lsoa-2011,E01033090,35,zero,q,,", "line 3: 'source_line' must be a line number"),
    ("x,lsoa-of-concern,,lsoa-2011,E01033090,35,388,q,,", "line 3: 'title' is empty"),
    ("Bad Id,lsoa-of-concern,T,lsoa-2011,E01033090,35,388,q,,", "line 3: 'id' must be lower-case"),
])
def test_bad_annotation_rows_are_refused_naming_line_and_field(tmp_path: Path, row: str, message: str):
    path = tmp_path / "annotations.csv"
    path.write_text("# a comment\n" + HEADER + row + "\n", encoding="utf-8")
    with pytest.raises(AnnotationFileError, match=re.escape(message)):
        read_annotations(path)


def test_an_unknown_area_code_refuses_the_whole_file(engine, tmp_path: Path):
    path = tmp_path / "annotations.csv"
    path.write_text(HEADER + "ok,lsoa-of-concern,T,lsoa-2011,E01033090,35,388,q,,\n"
                    "bad,lsoa-of-concern,T,lsoa-2011,E09999999,35,388,q,,\n", encoding="utf-8")
    with pytest.raises(AnnotationFileError, match="'bad' names E09999999, not in 'lsoa-2011'"):
        load_annotations(engine, log=lambda _m: None, path=path)
    with transaction(engine) as session:  # nothing of the refused file was kept
        ids = set(session.execute(text("SELECT id FROM partnership_annotations")).scalars())
    assert ids == {a["id"] for a in read_annotations()}


# --- the public layer ---------------------------------------------------------------------------------------------

def test_annotations_api_outlines_equal_the_named_areas(client, engine):
    response = client.get("/api/annotations")
    assert response.status_code == 200
    collection = response.get_json()
    features = {f["id"]: f for f in collection["features"]}
    assert set(features) == {a["id"] for a in read_annotations()}
    with transaction(engine) as session:
        for annotation in read_annotations():
            same = session.execute(text("""
                SELECT ST_Area(ST_SymDifference(a.geom, u.geom)::geography) < 1
                       AND abs(ST_Area(a.geom::geography) - ST_Area(u.geom::geography)) < 1
                FROM partnership_annotations a,
                     (SELECT ST_Union(geom) AS geom FROM areas WHERE set_id = :s AND code = ANY(:c)) u
                WHERE a.id = :id"""), {"s": annotation["boundary_set"], "c": annotation["area_codes"],
                                       "id": annotation["id"]}).scalar_one()
            assert same, annotation["id"]
            properties = features[annotation["id"]]["properties"]
            assert properties["quote"] == annotation["quote"] and properties["source_line"] == annotation["source_line"]
            assert properties["figure"] == annotation["figure"] and properties["kind_title"]
    assert client.get("/api/annotations?bbox=1").status_code == 400


def test_loading_again_changes_nothing(engine):
    with transaction(engine) as session:
        version = session.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one()
    load_annotations(engine, log=lambda _m: None)
    with transaction(engine) as session:
        assert session.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one() == version


FAR_WEST = {"type": "Polygon", "coordinates": [[[0.385, 51.20], [0.390, 51.20], [0.390, 51.203], [0.385, 51.203],
                                                 [0.385, 51.20]]]}


def _inside_point(engine, annotation_id: str) -> tuple[float, float]:
    with transaction(engine) as session:
        row = session.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                                   "FROM partnership_annotations WHERE id = :id) s"), {"id": annotation_id}).one()
    return row[0], row[1]


def test_patrol_summary_lists_the_annotations_it_covers(client, tokens, engine):
    lon, lat = _inside_point(engine, "lsoa-e01024389-vap")
    square = {"type": "Polygon", "coordinates": [[[lon - 0.001, lat - 0.0007], [lon + 0.001, lat - 0.0007],
                                                  [lon + 0.001, lat + 0.0007], [lon - 0.001, lat + 0.0007],
                                                  [lon - 0.001, lat - 0.0007]]]}
    with transaction(engine) as session:
        expected = set(session.execute(text("""
            SELECT id FROM partnership_annotations
            WHERE ST_Area(ST_Intersection(geom, ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326))) > 0"""),
            {"g": json.dumps(square)}).scalars())
    assert {"lsoa-e01024389-vap", "priority-park-wood"} <= expected
    summary = client.post("/api/patrol-areas/summary", json={"geometry": square},
                          headers=bearer(tokens["officer"])).get_json()
    listed = {a["id"]: a for a in summary["annotations"]}
    assert set(listed) == expected
    assert listed["lsoa-e01024389-vap"]["source_line"] == 399 and listed["lsoa-e01024389-vap"]["paragraph"] == "37"
    far = client.post("/api/patrol-areas/summary", json={"geometry": FAR_WEST}, headers=bearer(tokens["officer"]))
    assert far.status_code == 200 and far.get_json()["annotations"] == []


# --- the DCSM's borough figures: only for those who may read the layer --------------------------------------------

def _headers(who: str, tokens, hotspot_users) -> dict[str, str]:
    if who == "anonymous":
        return {}
    return bearer(tokens[who] if who in tokens else hotspot_users[who]["token"])


@pytest.mark.parametrize("who", ["dcsm-reader", "dcsm-writer", "admin"])
def test_dcsm_figures_come_with_the_layer_for_those_who_may_read_it(client, tokens, hotspot_users, who):
    headers = _headers(who, tokens, hotspot_users)
    listed = client.get("/api/hotspot-layers", headers=headers).get_json()["hotspot_layers"]
    dcsm = next(layer for layer in listed if layer["id"] == DCSM)
    figures = {f["key"]: f for f in dcsm["statistics"]}
    assert figures["young-people-2023"]["value"] == 41 and figures["locations-2023"]["value"] == 24
    assert figures["young-people-2023"]["source_line"] == 726 and DCSM_QUOTE in figures["young-people-2023"]["quote"]
    detail = client.get(f"/api/hotspot-layers/{DCSM}", headers=headers).get_json()
    assert detail["statistics"] == dcsm["statistics"]
    needles = next(layer for layer in listed if layer["id"] == "needle-finds")
    assert needles["statistics"] == []


def _get_urls(app, hotspot_users) -> list[str]:
    """Every GET route of the app, its parameters filled in so as to reach the DCSM layer where one is named."""
    fill = {"layer_id": DCSM, "set_id": "wards-2024", "filename": "wards-2024.csv", "year": "2023",
            "username": hotspot_users["dcsm-reader"]["username"], "metric_id": "all-crime", "code": "E05015611"}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or "figure-packs" in rule.rule:
            continue  # a figure pack has no hotspot layers (checked in test_hostile_exports) and takes minutes
        values = {name: fill.get(name, "1") for name in rule.arguments}
        urls.append(rule.build(values, append_unknown=False)[1])
    return urls


@pytest.mark.parametrize("who", ["anonymous", "viewer", "officer", "gis", "ungranted"])
def test_nobody_else_sees_the_dcsm_figures_through_any_route(app, client, tokens, hotspot_users, who):
    headers = _headers(who, tokens, hotspot_users)
    urls = _get_urls(app, hotspot_users)
    assert len(urls) > 40 and "/api/annotations" in urls
    assert "/api/hotspot-layers" in urls and f"/api/hotspot-layers/{DCSM}" in urls
    for url in urls:
        body = client.get(url, headers=headers).get_data(as_text=True)
        assert DCSM_QUOTE not in body and "young-people-2023" not in body, (who, url)
    # the one read that goes by POST: what a drawn patrol area covers, restricted layers included for those granted
    summary = client.post("/api/patrol-areas/summary", json={"geometry": FAR_WEST}, headers=headers)
    assert DCSM_QUOTE not in summary.get_data(as_text=True)
    granted = client.get("/api/hotspot-layers", headers=_headers("dcsm-reader", tokens, hotspot_users))
    assert DCSM_QUOTE in granted.get_data(as_text=True)  # the check above can see the figure where it is


# --- static maps and figure packs, when asked ---------------------------------------------------------------------

def _purple_pixels(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.getdata() if abs(r - 0x7A) < 12 and g < 20 and abs(b - 0x77) < 12)


def test_static_map_outlines_the_annotations_only_when_asked(client):
    url = "/api/maps/wards-2024.png?metric=all-crime&period=2022-11&width=800&height=600&dpi=100"
    plain, outlined = client.get(url), client.get(f"{url}&annotations=true")
    assert plain.status_code == outlined.status_code == 200
    assert _purple_pixels(plain.data) == 0 and _purple_pixels(outlined.data) > 50  # the LSOA outline colour
    assert client.get(f"{url}&annotations=yes").get_json()["error"]["message"] == "annotations must be true or false"
    assert client.get("/api/figure-packs/2023.zip?annotations=1").status_code == 400


def test_figure_pack_with_annotations_outlines_them_and_adds_their_table(engine, client):
    collection = client.get("/api/annotations").get_json()
    pack = FigurePack(2023, annotations=collection)
    with transaction(engine) as session:
        _add_figure(session, pack, FIGURES[0], "wards-2024", MapSpec(width_px=600, height_px=450, dpi=100))
    (produced,) = pack.produced
    assert produced["figure"] == "all-crime-count_wards-2024" and produced["metric"] == "seed-crimes-by-ward"
    assert produced["notes"][-1] == f"8. {collection['features'][-1]['properties']['title']} (line 388)"
    rows = list(csv.DictReader(io.StringIO(pack.files["all-crime-count_wards-2024.csv"].decode())))
    assert {"estimate_low", "estimate_high", "estimate_error_pct"} <= set(rows[0])  # a re-estimate: its interval


def test_annotated_layer_lists_the_statements_in_its_notes_and_the_pack_table(client):
    layer = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-11").get_json()
    collection = client.get("/api/annotations").get_json()
    annotated = with_annotations(layer, collection)
    assert annotated["annotations"] is collection and layer["metadata"]["notes"] != annotated["metadata"]["notes"]
    listed = annotated["metadata"]["notes"][-len(collection["features"]):]
    for number, (line, feature) in enumerate(zip(listed, collection["features"], strict=True), start=1):
        assert line == f"{number}. {feature['properties']['title']} (line {feature['properties']['source_line']})"
    rows = list(csv.DictReader(io.StringIO(annotations_csv(collection).decode())))
    assert [row["id"] for row in rows] == [f["id"] for f in collection["features"]]
    assert {row["figure"] for row in rows if row["id"].startswith("priority-")} == {"No figure printed"}
    assert rows[0]["quote"] == collection["features"][0]["properties"]["quote"]


def test_figures_of_an_unknown_layer_are_refused(engine, tmp_path: Path):
    path = tmp_path / "figures.csv"
    path.write_text("layer_id,key,label,value,unit,period,geography,paragraph,source_line,quote\n"
                    "no-such-layer,k,L,3,things,2023,borough,1,1,there were 3 things\n", encoding="utf-8")
    with pytest.raises(AnnotationFileError, match="no hotspot layer no-such-layer"):
        load_layer_statistics(engine, log=lambda _m: None, path=path)
    bad = tmp_path / "bad.csv"
    bad.write_text("layer_id,key,label,value,unit,period,geography,paragraph,source_line,quote\n"
                   "dcsm-locations,k,L,3,things,2023,borough,1,1,there were three things\n", encoding="utf-8")
    with pytest.raises(AnnotationFileError, match="line 2: the quote does not contain the value 3"):
        read_layer_statistics(bad)
