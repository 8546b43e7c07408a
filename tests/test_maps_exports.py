"""Static report maps and GIS exports of classified layers."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from PIL import Image
from sqlalchemy import text

from server.store.db import transaction


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_json(silent=True)
    return response


def test_png_has_the_requested_size_and_is_not_blank(client, artifacts):
    url = "/api/maps/wards-2024.png?metric=all-crime&period=2022&width=1200&height=900&dpi=150"
    body = get(client, url).data
    (artifacts / "static-map-wards-2024.png").write_bytes(body)
    image = Image.open(io.BytesIO(body)).convert("RGB")
    assert image.size == (1200, 900)
    pixels = np.asarray(image).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 20, "a choropleth has many colours"
    white = (pixels == 255).all(axis=1).mean()
    assert 0.3 < white < 0.95, "there is a map on a white page"


def test_the_map_shows_the_layers_class_colours(client):
    layer = get(client, "/api/layers/wards-2024?metric=asb&period=2022").get_json()
    body = get(client, "/api/maps/wards-2024.png?metric=asb&period=2022&labels=false").data
    pixels = {tuple(p) for p in np.asarray(Image.open(io.BytesIO(body)).convert("RGB")).reshape(-1, 3)}
    for each in layer["legend"]["classes"]:
        rgb = tuple(int(each["color"][i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in pixels, f"class colour {each['color']} missing from the map"


def test_svg_and_pdf_carry_title_legend_scale_and_attribution(client, artifacts):
    svg = get(client, "/api/maps/wards-2013/clusters.svg?metric=vbc&period=2022&title=Victim-based%20crime").data
    text = svg.decode()
    for expected in ("Victim-based crime", "Natural breaks", "km", "Crown copyright", "Open Government Licence",
                     "Data date: 2022-11"):
        assert expected in text
    pdf = get(client, "/api/maps/wards-2013.pdf?metric=asb&period=2022-06").data
    assert pdf.startswith(b"%PDF")
    (artifacts / "static-map-wards-2013-asb.pdf").write_bytes(pdf)


def test_same_input_gives_the_same_bytes(app, engine):
    url = "/api/maps/wards-2024.svg?metric=burglary&period=2022-04"
    first = app.test_client().get(url)
    with transaction(engine) as session:  # a new data version: the map is drawn again, not taken from the cache
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    again = app.test_client().get(url)
    assert again.headers["ETag"] != first.headers["ETag"] and again.data == first.data


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/api/maps/wards-2024.png?width=10", 400, "width must be from 300 to 4000"),
    ("/api/maps/wards-2024.png?dpi=5000", 400, "dpi must be from 72 to 600"),
    ("/api/maps/wards-2024.png?labels=maybe", 400, "labels must be true or false"),
    ("/api/maps/wards-2024.png?k=20", 400, "k must be from 2 to 9"),
    ("/api/maps/wards-2024.gif", 404, "use .png, .svg or .pdf"),
    ("/api/maps/nope.png", 404, "no boundary set 'nope'"),
    ("/api/exports/wards-2024.xls", 404, "no export format '.xls'"),
])
def test_bad_map_and_export_requests(client, url, status, message):
    response = client.get(url)
    assert response.status_code == status and message in response.get_json()["error"]["message"]


def layer_values(client, query: str) -> dict[str, float]:
    layer = get(client, f"/api/layers/wards-2024?{query}").get_json()
    return {f["id"]: f["properties"]["value"] for f in layer["features"]}


def test_zipped_shapefile_reads_back_in_british_national_grid(client, tmp_path):
    query = "metric=asb&period=2022"
    body = get(client, f"/api/exports/wards-2024.shp.zip?{query}").data
    archive = tmp_path / "export.zip"
    archive.write_bytes(body)
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        metadata = json.loads(zf.read("metadata.json"))
    assert any(n.endswith(".prj") for n in names) and metadata["metadata"]["period"] == "2022"
    frame = gpd.read_file(f"zip://{archive}")
    assert frame.crs.to_epsg() == 27700 and len(frame) == 22
    assert dict(zip(frame["code"], frame["value"], strict=True)) == layer_values(client, query)


def test_geopackage_reads_back_with_its_metadata_table(client, tmp_path):
    query = "metric=burglary&period=2022&method=quantiles&k=4"
    path = tmp_path / "export.gpkg"
    path.write_bytes(get(client, f"/api/exports/wards-2024.gpkg?{query}").data)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    frame = gpd.read_file(path, layer=layers[0])
    assert frame.crs.to_epsg() == 4326
    assert dict(zip(frame["code"], frame["value"], strict=True)) == layer_values(client, query)
    described = pyogrio.read_dataframe(path, layer="layer_metadata")
    assert json.loads(described["value"][0])["legend"]["method"] == "quantiles"


def test_geojson_and_csv_exports_match_the_layer(client):
    query = "metric=vbc&period=2022-01/2022-06"
    geojson = json.loads(get(client, f"/api/exports/wards-2024.geojson?{query}").data)
    assert geojson["legend"] and geojson["metadata"]["period"] == "2022-01/2022-06"
    response = get(client, f"/api/exports/wards-2024.csv?{query}")
    assert 'rel="describedby"' in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert list(rows[0]) == ["code", "name", "value", "class", "rank", "color"] and len(rows) == 22
    csv_values = {row["code"]: float(row["value"]) for row in rows}
    assert csv_values == layer_values(client, query)


def test_figure_pack_lists_what_it_made_and_why_it_could_not(engine):
    from server.domain.figure_pack import FIGURES, build_figure_pack, figure_ward_sets
    from server.domain.rendering import MapSpec
    from server.store.db import transaction

    with transaction(engine) as session:
        pack = build_figure_pack(session, 2023, MapSpec(width_px=600, height_px=450, dpi=72))
        ward_sets = figure_ward_sets(session)
    assert ward_sets == ["wards-2013", "wards-2024"]  # the default partnership's, in its description's order
    produced = {item["figure"] for item in pack.produced}
    missing = {item["figure"]: item["reasons"] for item in pack.not_produced}
    assert len(produced) + len(missing) == len(FIGURES) * len(ward_sets) + 2  # and Gi*, needle finds by place
    assert "no police.uk records for 2023" in missing["gi-hot-spots_lsoa-2011"]
    assert b"Sutton Rd Cemetary" in pack.files["needle-finds-by-place.csv"]
    # 2023 exists only in the partnership's tables (2013 wards), re-estimated for the 2024 wards.
    assert {"all-crime-count_wards-2013", "all-crime-count_wards-2024", "domestic-abuse_wards-2024"} <= produced
    assert "gives figures for the ward clusters of wards-2013" in missing["vbc-by-cluster_wards-2024"]
    for name in produced - {"needle-finds-by-place"}:
        assert {f"{name}.png", f"{name}.svg", f"{name}.csv"} <= set(pack.files)
    assert pack.files["figure-pack.pdf"].startswith(b"%PDF")
    readme = pack.files["README.txt"].decode()
    assert "Not produced:" in readme and "vbc-by-cluster_wards-2024" in readme


def test_figure_pack_endpoint_validates_the_year(client):
    assert client.get("/api/figure-packs/1066.zip").status_code == 400


PAGE_POINTS = {"a4-portrait": (595.28, 841.89), "a4-landscape": (841.89, 595.28), "a3-landscape": (1190.55, 841.89)}


def identified_areas(raw: str, title_start: str, names: list[str]) -> dict[str, str]:
    """Checks that every area is named in full on the map or numbered with a key line (never both, never
    neither); returns the numbered ones {name: number}. The map's texts come before the title in pdftotext -raw."""
    on_map = " ".join(raw.split(title_start)[0].split())
    key_lines = raw.split("Numbered areas", 1)[1].splitlines() if "Numbered areas" in raw else []
    key = dict(m.groups() for m in (re.match(r"^(\d+) ([A-Za-z].*)$", line) for line in key_lines) if m)
    numbered = {name: number for number, name in key.items()}
    map_tokens = on_map.split()
    for name in names:
        if name in numbered:
            assert numbered[name] in map_tokens, f"{name}'s number {numbered[name]} is on the map"
        else:
            assert name in on_map, f"{name} is neither named in full on the map nor in the key"
    assert set(key.values()) <= set(names), "the key names areas of the map only"
    assert len(key) <= len(names)
    return numbered


def _raw_text(body: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "raw.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _pdf_words(body: bytes, tmp_path) -> tuple[str, str]:
    import subprocess

    path = tmp_path / "page.pdf"
    path.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    words = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return info, " ".join(words.split())


@pytest.mark.parametrize("page", list(PAGE_POINTS))
def test_pages_are_true_size_and_every_ward_is_identified(client, tmp_path, artifacts, page):
    layer = get(client, "/api/layers/wards-2024?metric=all-crime&period=2022").get_json()
    body = get(client, f"/api/maps/wards-2024.pdf?metric=all-crime&period=2022&page={page}").data
    (artifacts / f"static-map-wards-2024-{page}.pdf").write_bytes(body)
    info, words = _pdf_words(body, tmp_path)
    size = next(line for line in info.splitlines() if line.startswith("Page size"))
    width, height = (float(v) for v in size.split(":")[1].split("pts")[0].split(" x "))
    assert (width, height) == pytest.approx(PAGE_POINTS[page], abs=0.5)
    assert "All recorded crime (excluding ASB), January–November 2022 (11 of 12 months)" in words
    assert "wards-2024" not in words, "no internal ids on a committee map"
    numbered = identified_areas(_raw_text(body, tmp_path), "All recorded crime",
                                [f["properties"]["name"] for f in layer["features"]])
    top = max(layer["features"], key=lambda f: f["properties"]["value"])["properties"]["name"]
    assert top not in numbered, f"the top class ({top}) is named on the map, not numbered"
    for each in layer["legend"]["classes"]:
        assert f"{each['label']} ({each['count']})" in words, "the static legend prints the served labels"


def test_re_estimated_counts_are_whole_numbers_and_marked(client, tmp_path):
    layer = get(client, "/api/layers/wards-2024?metric=seed-asb-by-ward&period=2022").get_json()
    assert layer["metadata"]["estimate"]["worst_error_pct"] > 0 and "estimates" in layer["legend"]["unit"]
    assert all(float(f["properties"]["value"]).is_integer() for f in layer["features"])
    _info, words = _pdf_words(get(client, "/api/maps/wards-2024.pdf?metric=seed-asb-by-ward&period=2022"
                                          "&page=a4-landscape").data, tmp_path)
    assert "(estimates)" in words and "Estimates: re-estimated by" in words
    for each in layer["legend"]["classes"]:
        assert "." not in each["label"] and f"{each['label']} ({each['count']})" in words


def test_figure_pack_pdf_is_a4_landscape_with_plain_titles(engine, tmp_path, artifacts):
    """2022 has police.uk records: every map (Gi* hot spots included) is an A4 landscape page titled with the
    exact period and no internal ids."""
    import subprocess

    from server.domain.figure_pack import build_figure_pack
    from server.domain.rendering import MapSpec

    with transaction(engine) as session:
        pack = build_figure_pack(session, 2022, MapSpec(width_px=600, height_px=450, dpi=72))
    pdf = pack.files["figure-pack.pdf"]
    (artifacts / "figure-pack-2022.pdf").write_bytes(pdf)
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", "-l", "100", str(path)], capture_output=True, text=True, check=True).stdout
    sizes = [line for line in info.splitlines() if line.startswith("Page") and "size" in line]
    maps = [item for item in pack.produced if item["figure"] != "needle-finds-by-place"]
    assert len(sizes) == len(maps) and all("841.89 x 595.276 pts" in line for line in sizes)
    words = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                    check=True).stdout.split())
    assert "All recorded crime by ward, January–November 2022 (11 of 12 months)" in words
    assert "Hot spots of all recorded crime by LSOA, January–November 2022 (11 of 12 months)" in words
    assert "(wards-2013)" not in words and "(wards-2024)" not in words
