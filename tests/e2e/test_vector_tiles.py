"""A boundary set above the tile threshold (client/src/area-layer.js) is drawn from the OGC vector tiles in headless
Chromium: no SVG path per area, canvas tiles in the class colours of the API, and popups, find, the legend, the values
table and PNG export still working. The set is a 48 × 48 grid of squares over Maidstone (2,304 areas), with the
police.uk records placed in it, so the values are real counts."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import text

from server.store import crime as crime_store
from server.store.db import transaction
from tests.e2e.test_map_client import blend, export_png, legend_rows, open_map

pytestmark = pytest.mark.e2e
CELLS = 48
WEST, SOUTH, EAST, NORTH = 0.38, 51.13, 0.80, 51.34
MEDIUM = 25  # 625 areas: above CANVAS_FROM (client/src/choropleth.js), below the tile threshold


def make_grid(engine, set_id: str, cells: int) -> None:
    """A set of cells × cells squares over Maidstone (codes G{i}-{j}), with the police.uk records placed in it."""
    with transaction(engine) as db:
        db.execute(text("""
            INSERT INTO boundary_sets (id, kind, title, source, licence, source_file, source_checksum, source_crs,
                                       code_field, name_field)
            VALUES (:id, 'lsoa', 'Test grid', 'tests', '', '', '', 'EPSG:4326', 'code', 'name')"""), {"id": set_id})
        db.execute(text("""
            INSERT INTO areas (set_id, code, name, geom, area_km2)
            SELECT :id, format('G%s-%s', lpad(i::text, 2, '0'), lpad(j::text, 2, '0')), format('Square %s-%s', i, j),
                   ST_Multi(ST_MakeEnvelope(:w + i * :dx, :s + j * :dy, :w + (i + 1) * :dx, :s + (j + 1) * :dy, 4326)),
                   0
            FROM generate_series(0, :n - 1) i, generate_series(0, :n - 1) j"""),
            {"id": set_id, "w": WEST, "s": SOUTH, "dx": (EAST - WEST) / cells, "dy": (NORTH - SOUTH) / cells,
             "n": cells})
        db.execute(text("UPDATE areas SET area_km2 = ST_Area(geom::geography) / 1e6 WHERE set_id = :id"),
                   {"id": set_id})
        crime_store.place_records(db, [set_id])


def drop_set(engine, set_id: str) -> None:
    with transaction(engine) as db:
        db.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})


@pytest.fixture(scope="module")
def grid_set(engine):
    set_id = f"test-grid-{uuid.uuid4().hex[:6]}"
    make_grid(engine, set_id, CELLS)
    yield set_id
    drop_set(engine, set_id)


@pytest.fixture(scope="module")
def medium_set(engine):
    set_id = f"test-medium-{uuid.uuid4().hex[:6]}"
    make_grid(engine, set_id, MEDIUM)
    yield set_id
    drop_set(engine, set_id)


def centre(code: str, cells: int = CELLS) -> tuple[float, float]:
    i, j = (int(part) for part in code[1:].split("-"))
    return SOUTH + (j + 0.5) * (NORTH - SOUTH) / cells, WEST + (i + 0.5) * (EAST - WEST) / cells


def busiest(client, set_id: str, query: str) -> tuple[dict, dict]:
    layer = client.get(f"/api/layers/{set_id}?{query}").get_json()
    top = max(layer["features"], key=lambda f: f["properties"]["value"] or 0)["properties"]
    return layer, top


def screen_point(page, lat: float, lon: float) -> tuple[float, float]:
    point = page.evaluate(f"""() => {{
        const p = window.cspAtlas.map.latLngToContainerPoint([{lat}, {lon}]);
        const box = document.getElementById('map').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y];
    }}""")
    return point[0], point[1]


def wait_for_tiles(page) -> None:
    page.wait_for_function("""() => {
        const tiles = [...document.querySelectorAll('.vector-areas canvas.leaflet-tile')];
        return tiles.length > 0 && tiles.every((t) => t.classList.contains('leaflet-tile-loaded'));
    }""")


def test_a_large_set_is_drawn_from_vector_tiles_in_the_class_colours(page, live_server, client, grid_set,
                                                                    artifacts):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    open_map(page, live_server, f"basemap=none&set={grid_set}&period=2022-06&measure=count")
    wait_for_tiles(page)
    assert page.evaluate("window.cspAtlas.layer().drawnAs") == "tiles"
    assert page.locator(".leaflet-overlay-pane path.area").count() == 0, "no SVG path per area"
    assert any(f"/ogc/collections/{grid_set}.classified/tiles/WebMercatorQuad/" in url for url in requested)
    assert not any(f"/api/layers/{grid_set}" in url for url in requested), "the polygons are never all fetched"
    layer, top = busiest(client, grid_set, "metric=all-crime&period=2022-06")
    assert top["value"] > 0
    classes = [(c["color"], c["count"]) for c in layer["legend"]["classes"]]
    assert [tuple(row) for row in legend_rows(page)][:len(classes)] == classes
    # the pixel at the busiest square's centre is its class colour, blended over the plain background
    x, y = screen_point(page, *centre(top["code"]))
    pixel = page.evaluate(f"""() => {{
        const hit = [...document.querySelectorAll('.vector-areas canvas.leaflet-tile')].find((t) => {{
            const b = t.getBoundingClientRect();
            return {x} >= b.left && {x} < b.right && {y} >= b.top && {y} < b.bottom;
        }});
        const b = hit.getBoundingClientRect();
        const scale = hit.width / b.width;
        return [...hit.getContext('2d').getImageData(({x} - b.left) * scale, ({y} - b.top) * scale, 1, 1).data];
    }}""")
    expected = blend(top["color"], 0.85, (0xFF, 0xFF, 0xFF))
    assert pixel[3] > 0 and np.abs(np.array(pixel[:3]) * pixel[3] / 255 + 255 * (1 - pixel[3] / 255)
                                   - expected).max() <= 4, (pixel, top["color"])
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    page.wait_for_function("!document.querySelector('.popup-change').textContent.includes('loading')")
    text_ = popup.inner_text()
    assert top["name"] in text_ and top["code"] in text_ and f"{top['value']:.0f} crimes" in text_
    assert "Change on May 2022" in text_
    page.screenshot(path=str(artifacts / "vector-tiles-popup.png"))
    assert page.console_errors == []


def test_find_table_and_export_work_on_a_tiled_set(page, live_server, client, grid_set, artifacts):
    open_map(page, live_server, f"basemap=none&set={grid_set}&period=2022&measure=count")
    wait_for_tiles(page)
    layer, top = busiest(client, grid_set, "metric=all-crime&period=2022")
    # the table's order: by rank, areas without a rank ("No data" outside the crime data's coverage) last by name
    last = sorted(layer["features"], key=lambda f: (f["properties"]["rank"] or 1e9, f["properties"]["name"]))[-1]
    page.locator("#find-input").fill(top["code"])
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('.leaflet-popup-content')?.innerText.includes('{top['code']}')")
    lat, lon = centre(top["code"])
    page.wait_for_function(f"window.cspAtlas.map.getBounds().contains([{lat}, {lon}])"
                           " && window.cspAtlas.map.getZoom() > 12")
    page.locator("details.values summary").click()
    rows = page.locator("#values-table tbody tr:not(.spacer)")
    assert top["name"] in rows.first.inner_text()
    assert 10 < rows.count() < 100, "the table draws the rows in view, not 2,304"
    page.locator("#values-table").evaluate("(t) => { t.scrollTop = t.scrollHeight; }")
    page.wait_for_selector(f"#values-table tbody button[data-code='{last['properties']['code']}']")
    assert rows.count() < 100
    page.keyboard.press("Escape")
    wait_for_tiles(page)
    image, _ = export_png(page, artifacts / "vector-tiles-export.png")
    rgb = image[:3].reshape(3, -1).T.astype(int)
    target = blend(top["color"], 0.85, (0xF5, 0xF5, 0xF3))
    assert (np.abs(rgb - target).max(axis=1) <= 4).sum() > 200, "the tiles are in the export"
    assert page.console_errors == []


def test_a_medium_set_is_drawn_as_geojson_on_one_canvas(page, live_server, client, medium_set):
    open_map(page, live_server, f"basemap=none&set={medium_set}&period=2022-06&measure=count")
    assert page.evaluate("window.cspAtlas.layer().drawnAs") == "geojson"
    assert page.locator(".leaflet-overlay-pane path.area").count() == 0
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    _, top = busiest(client, medium_set, "metric=all-crime&period=2022-06")
    page.mouse.click(*screen_point(page, *centre(top["code"], MEDIUM)))
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert top["name"] in popup.inner_text() and f"{top['value']:.0f} crimes" in popup.inner_text()
    assert page.console_errors == []


def shown_label(page) -> str | None:
    """The text of the hover label on show (Leaflet fades a closed one out before removing it), or None."""
    return page.evaluate("""() => {
        const shown = [...document.querySelectorAll('.leaflet-tooltip.area-label')]
            .filter((t) => getComputedStyle(t).opacity !== '0');
        return shown.length ? shown[0].innerText : null;
    }""")


def test_hovering_a_tiled_area_labels_it_and_panning_does_not(page, live_server, client, grid_set, artifacts):
    open_map(page, live_server, f"basemap=none&set={grid_set}&period=2022-06&measure=count")
    wait_for_tiles(page)
    layer, top = busiest(client, grid_set, "metric=all-crime&period=2022-06")
    label = page.locator(".leaflet-tooltip.area-label")
    x, y = screen_point(page, *centre(top["code"]))
    page.mouse.move(x - 3, y)
    page.mouse.move(x, y)
    label.wait_for()
    text_ = label.inner_text()
    assert top["name"] in text_ and top["code"] in text_ and f"{top['value']:.0f} crimes" in text_
    assert "area-hover" in page.locator("#map").get_attribute("class")
    page.screenshot(path=str(artifacts / "vector-tiles-hover.png"))
    # the square beside it: its own label
    i, j = (int(part) for part in top["code"][1:].split("-"))
    other_code = f"G{i + 1 if i + 1 < CELLS else i - 1:02d}-{j:02d}"
    other = next(f["properties"] for f in layer["features"] if f["properties"]["code"] == other_code)
    page.mouse.move(*screen_point(page, *centre(other_code)))
    page.wait_for_function(f"document.querySelector('.leaflet-tooltip.area-label')?.innerText.includes('{other_code}')")
    assert other["name"] in label.inner_text()
    # dragging the map: no label while it moves; once it settles, the area under the resting pointer is labelled
    start = screen_point(page, *centre(other_code))
    page.evaluate("window.cspAtlas.map.once('moveend', () => { window.__settled = true; })")
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(start[0] + 12 * step, start[1] + 8 * step)
        assert shown_label(page) is None, "no label while the map pans"
    page.mouse.up()
    page.wait_for_function("window.__settled === true", timeout=10_000)
    rest = page.evaluate(f"""() => {{
        const box = document.getElementById('map').getBoundingClientRect();
        const p = window.cspAtlas.map.containerPointToLatLng([{start[0] + 60} - box.left, {start[1] + 40} - box.top]);
        return [p.lat, p.lng];
    }}""")
    column, row = int((rest[1] - WEST) / (EAST - WEST) * CELLS), int((rest[0] - SOUTH) / (NORTH - SOUTH) * CELLS)
    under = f"G{column:02d}-{row:02d}"
    page.wait_for_function(f"document.querySelector('.leaflet-tooltip.area-label')?.innerText.includes('{under}')")
    x, y = screen_point(page, *centre(top["code"]))
    page.mouse.move(x, y)
    page.wait_for_function(f"document.querySelector('.leaflet-tooltip.area-label')?.innerText.includes('{top['code']}')")
    # off the areas: no label
    west_of_grid = screen_point(page, (SOUTH + NORTH) / 2, WEST - 0.02)
    page.mouse.move(*west_of_grid)
    label.wait_for(state="detached")
    assert "area-hover" not in page.locator("#map").get_attribute("class")
    assert page.console_errors == []
