"""The map client in headless Chromium against the real Maidstone data: the classified layer, legend, controls,
state in the URL, popups, find, hotspots, embed, PNG export, phone width and the loading/empty/error states.

Colours and legend rows are compared with what GET /api/layers answers for the URL the page requested."""

from __future__ import annotations

import json
import math
import warnings
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

pytestmark = pytest.mark.e2e

NO_DATA_COLOR = "#d9d9d9"
LEGEND_WIDTH = 280  # client/src/export.js
EXPORT_SCALE = 2


# --- helpers ------------------------------------------------------------------------------------------------

def open_map(page, live_server: str, query: str = "basemap=none", path: str = "/") -> None:
    page.goto(f"{live_server}{path}?{query}")
    page.wait_for_selector("body[data-ready] #map[data-layer-state=ready]")
    page.wait_for_function("document.getElementById('status').dataset.kind !== 'loading'")


def wait_for_layer(page, fragment: str) -> None:
    page.wait_for_selector(f'#map[data-layer-state=ready][data-layer-url*="{fragment}"]')


def api_layer(page, client) -> dict:
    url = page.locator("#map").get_attribute("data-layer-url")
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def path_fills(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.leaflet-overlay-pane path.area')].map((p) => [
        [...p.classList].find((c) => c.startsWith('code-')).slice(5), p.getAttribute('fill')]))""")


def legend_rows(page) -> list[tuple[str, int]]:
    return page.evaluate("""() => [...document.querySelectorAll('#legend tr.legend-class')].map(
        (row) => [row.dataset.color, Number(row.dataset.count)])""")


def assert_matches_api(page, client) -> dict:
    """The SVG fills are the API's feature colours and the legend rows its classes; returns the layer."""
    data = api_layer(page, client)
    expected = {str(f["properties"]["code"]): f["properties"]["color"] or NO_DATA_COLOR for f in data["features"]}
    assert path_fills(page) == expected
    classes = [(c["color"], c["count"]) for c in data["legend"]["classes"]]
    if data["legend"]["no_data_count"]:
        classes.append((NO_DATA_COLOR, data["legend"]["no_data_count"]))
    assert [tuple(row) for row in legend_rows(page)] == classes
    legend = page.locator("#legend").inner_text()
    assert data["legend"]["title"] in legend and f"{data['legend']['k']} classes" in legend
    return data


def interior_point(page, code: str) -> tuple[float, float]:
    """Page coordinates of a point inside an area's polygon (its box centre may be outside a concave ward)."""
    point = page.evaluate("""(code) => {
        const path = document.querySelector(`path.code-${code}`);
        const box = path.getBBox();
        const svg = path.ownerSVGElement;
        const matrix = path.getScreenCTM();
        let best = null;
        for (let i = 1; i < 24 && !best; i += 1) {
          for (let j = 1; j < 24; j += 1) {
            const p = svg.createSVGPoint();
            p.x = box.x + (box.width * j) / 24; p.y = box.y + (box.height * i) / 24;
            const shifted = [[0, 0], [6, 0], [-6, 0], [0, 6], [0, -6]].every(([dx, dy]) => {
              const q = svg.createSVGPoint(); q.x = p.x + dx; q.y = p.y + dy; return path.isPointInFill(q); });
            if (shifted) { const s = p.matrixTransform(matrix); best = [s.x, s.y]; break; }
          }
        }
        return best;
    }""", code)
    assert point, f"no interior point found for {code}"
    return point[0], point[1]


def url_state(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


def decode_png(data: bytes) -> np.ndarray:
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(data) as memory, memory.open() as dataset:
            return dataset.read()  # bands, rows, columns


def export_png(page, save_as=None) -> tuple[np.ndarray, dict]:
    page.evaluate("window.cspAtlas.lastExport = null")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export PNG").click()
    download = info.value
    with open(download.path(), "rb") as file:
        data = file.read()
    if save_as is not None:
        save_as.write_bytes(data)
    page.wait_for_function("window.cspAtlas.lastExport !== null")
    return decode_png(data), page.evaluate("window.cspAtlas.lastExport") | {"suggested": download.suggested_filename}


def blend(hex_color: str, alpha: float, background: tuple[int, int, int]) -> np.ndarray:
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return np.array([round(alpha * c + (1 - alpha) * b) for c, b in zip(rgb, background, strict=True)])


# --- tests --------------------------------------------------------------------------------------------------

def test_loads_without_console_errors_and_draws_what_the_api_says(page, live_server, client, artifacts):
    open_map(page, live_server)
    data = assert_matches_api(page, client)
    assert data["metadata"]["boundary_set"]["id"] == "wards-2024" and len(data["features"]) == 22
    legend = page.locator("#legend").inner_text()
    assert "Natural breaks" in legend and "data.police.uk" in legend
    assert "Maidstone electoral wards (from May 2024)" in legend and "valid from 2 May 2024" in legend
    assert "to November 2022" in legend  # the data date
    # every form control has a label a screen reader announces
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('#panel select, #panel input, #panel textarea')]
        .filter((c) => !c.labels.length && !c.getAttribute('aria-label')).map((c) => c.id)""")
    assert unlabelled == []
    page.screenshot(path=str(artifacts / "map-client-default.png"))
    assert page.console_errors == []


def test_switching_metric_period_wards_and_method_follows_the_api(page, live_server, client, artifacts):
    open_map(page, live_server)
    first = assert_matches_api(page, client)
    legends = [page.locator("#legend").inner_text()]

    page.get_by_label("Data", exact=True).select_option("asb")
    wait_for_layer(page, "metric=asb")
    asb = assert_matches_api(page, client)
    assert "Anti-social behaviour" in page.locator("#legend").inner_text()
    legends.append(page.locator("#legend").inner_text())

    page.locator("#period").select_option("2022-06")
    wait_for_layer(page, "period=2022-06")
    june = assert_matches_api(page, client)
    assert june["metadata"]["period"] == "2022-06" and "June 2022" in page.locator("#legend").inner_text()
    legends.append(page.locator("#legend").inner_text())

    page.get_by_label("Boundaries").select_option("wards-2013")
    wait_for_layer(page, "/api/layers/wards-2013?")
    old_wards = assert_matches_api(page, client)
    assert len(old_wards["features"]) == 26 and "2013 to May 2024" in page.locator("#legend").inner_text()
    legends.append(page.locator("#legend").inner_text())

    page.get_by_label("Classes by").select_option("quantiles")
    wait_for_layer(page, "method=quantiles")
    quantiles = assert_matches_api(page, client)
    assert quantiles["legend"]["method"] == "quantiles" and "Quantiles" in page.locator("#legend").inner_text()
    legends.append(page.locator("#legend").inner_text())

    page.get_by_label("Number of classes").select_option("7")
    page.get_by_label("Colours").select_option("PuBuGn")
    wait_for_layer(page, "palette=PuBuGn")
    assert_matches_api(page, client)

    assert len(set(legends)) == len(legends), "each switch changes the legend"
    assert first["features"][0]["properties"]["value"] != asb["features"][0]["properties"]["value"]
    page.screenshot(path=str(artifacts / "map-client-switched.png"))
    assert page.console_errors == []


def test_the_url_round_trips_the_state(page, browser, live_server, client):
    query = ("set=wards-2013&clusters=1&metric=vbc&period=2022-06&measure=density&method=quantiles&k=4"
             "&palette=Blues&basemap=none&heat=1&radius=500&view=12/51.27/0.52")
    open_map(page, live_server, query)
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    controls = {name: page.locator(f"#{name}").input_value()
                for name in ("metric", "period", "boundaries", "measure", "method", "k", "palette", "radius",
                             "basemap")}
    assert controls == {"metric": "vbc", "period": "2022-06", "boundaries": "wards-2013:clusters",
                        "measure": "density", "method": "quantiles", "k": "4", "palette": "Blues",
                        "radius": "500", "basemap": "none"}
    assert page.locator("#heat").is_checked()
    data = assert_matches_api(page, client)
    assert data["metadata"]["geography"] == "clusters" and data["legend"]["palette"] == "Blues"
    assert "per km²" in page.locator("#legend").inner_text() and "500 m" in page.locator("#legend").inner_text()
    assert page.evaluate("window.cspAtlas.map.getZoom()") == 12
    state = url_state(page)
    assert {k: state[k] for k in ("set", "clusters", "metric", "period", "measure", "method", "k", "palette")} == {
        "set": "wards-2013", "clusters": "1", "metric": "vbc", "period": "2022-06", "measure": "density",
        "method": "quantiles", "k": "4", "palette": "Blues"}

    page.get_by_label("Number of classes").select_option("6")
    wait_for_layer(page, "k=6")
    page.evaluate("window.cspAtlas.map.setZoom(13, {animate: false})")
    page.wait_for_function("new URLSearchParams(location.search).get('view').startsWith('13/')")
    assert url_state(page)["k"] == "6"
    copied = page.url

    other = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    try:
        other.goto(copied)
        other.wait_for_selector("body[data-ready] #map[data-layer-state=ready]")
        assert other.locator("#k").input_value() == "6" and other.locator("#boundaries").input_value() == (
            "wards-2013:clusters")
        assert other.evaluate("window.cspAtlas.map.getZoom()") == 13
        assert path_fills(other) == path_fills(page)
        assert url_state(other) == url_state(page)
    finally:
        other.context.close()


def test_popup_shows_name_code_cluster_value_rank_and_change(page, live_server, client, artifacts):
    open_map(page, live_server, "basemap=none&period=2022-06&measure=count")
    data = api_layer(page, client)
    area = next(f["properties"] for f in data["features"] if f["properties"]["code"] == "E05015593")
    change = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-06&measure=change").get_json()
    figures = next(f["properties"] for f in change["features"] if f["properties"]["code"] == "E05015593")
    x, y = interior_point(page, "E05015593")
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    page.wait_for_function("!document.querySelector('.popup-change').textContent.includes('loading')")
    text = popup.inner_text()
    ordinal = {1: "st", 2: "nd", 3: "rd"}.get(area["rank"] % 10 if area["rank"] not in (11, 12, 13) else 0, "th")
    assert "Allington & Bridge" in text and "E05015593" in text and "Cluster 1" in text
    assert f"{area['value']:.0f} crimes" in text and f"{area['rank']}{ordinal} of 22" in text
    diff = figures["value_current"] - figures["value_base"]
    assert "Change on May 2022" in text
    assert f"{figures['value_base']:.0f} → {figures['value_current']:.0f}" in text
    assert f"{abs(diff):.0f} crimes" in text
    page.screenshot(path=str(artifacts / "map-client-popup.png"))
    assert page.console_errors == []


def test_find_zooms_to_an_area_by_name_or_code_from_the_keyboard(page, live_server):
    open_map(page, live_server)
    zoom_before = page.evaluate("window.cspAtlas.map.getZoom()")
    page.locator("#find-input").focus()
    page.keyboard.type("shepway")
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup-content").wait_for()
    assert "Shepway" in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_function(f"window.cspAtlas.map.getZoom() > {zoom_before}")
    inside = page.evaluate("""() => {
        const map = window.cspAtlas.map;
        const ward = window.cspAtlas.layer().features.find((f) => f.properties.code === 'E05015612');
        return map.getBounds().contains(L.geoJSON(ward).getBounds().getCenter());
    }""")
    assert inside
    page.locator("#find-input").fill("E05015603")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.leaflet-popup-content')?.innerText.includes('High Street')")
    page.locator("#find-input").fill("nowhere at all")
    page.keyboard.press("Enter")
    assert "No area of this layer matches" in page.locator("#status").inner_text()
    assert page.console_errors == []


def test_hotspots_heat_radius_is_in_metres_and_markers_cluster(page, live_server, client, artifacts):
    open_map(page, live_server, "basemap=none&heat=1&markers=1&period=2022-06")
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    points = client.get("/api/crime/points?metric=all-crime&period=2022-06").get_json()
    legend = page.locator("#legend .legend-heat").inner_text()
    assert "300 m" in legend and f"{points['metadata']['count']:,} records" in legend

    def pixel_radius() -> tuple[float, float]:
        return page.evaluate("""() => {
            const h = window.cspAtlas.hotspots.heat; const map = window.cspAtlas.map;
            const lat = map.getCenter().lat * Math.PI / 180;
            const mpp = 40075016.686 * Math.cos(lat) / (256 * 2 ** map.getZoom());
            return [h.options.radius + h.options.blur, 300 / mpp];
        }""")

    drawn, expected = pixel_radius()
    assert math.isclose(drawn, expected, rel_tol=1e-6)
    page.evaluate("window.cspAtlas.map.setZoom(window.cspAtlas.map.getZoom() + 2, {animate: false})")
    page.wait_for_function("window.cspAtlas.map.getZoom() >= 13")
    drawn_after, expected_after = pixel_radius()
    assert math.isclose(drawn_after, expected_after, rel_tol=1e-6)
    assert math.isclose(drawn_after / drawn, 4, rel_tol=0.02)

    page.get_by_label("Heat radius").select_option("500")
    page.wait_for_function("document.querySelector('#legend .legend-heat')?.innerText.includes('500 m')")
    assert url_state(page)["radius"] == "500"

    page.evaluate("window.cspAtlas.map.setView([51.2725, 0.522], 15, {animate: false})")
    page.wait_for_selector("#map[data-markers-state=ready] .crime-cluster")
    total = page.evaluate("""() => window.cspAtlas.hotspots.markers.getLayers().length""")
    assert total == points["metadata"]["count"]
    page.screenshot(path=str(artifacts / "map-client-hotspots.png"))

    page.get_by_label("Crime type").select_option("burglary")
    page.wait_for_function("document.querySelector('#legend .legend-heat')?.innerText.includes('Burglary')")
    burglary = client.get("/api/crime/points?metric=burglary&period=2022-06").get_json()["metadata"]["count"]
    assert f"{burglary:,} records" in page.locator("#legend .legend-heat").inner_text()
    assert url_state(page)["hmetric"] == "burglary"
    assert page.console_errors == []


def test_embed_has_legend_and_attribution_and_no_controls(page, live_server, client, artifacts):
    page.set_viewport_size({"width": 800, "height": 600})
    open_map(page, live_server, "metric=asb&period=2022&set=wards-2013&basemap=none", path="/embed")
    assert page.locator("#panel").count() == 0 and page.locator("select, input, textarea").count() == 0
    legend = page.locator("#legend")
    assert legend.is_visible() and "Anti-social behaviour" in legend.inner_text()
    assert "11 of the 12 months" in legend.inner_text()
    assert "Crown copyright" in page.locator(".leaflet-control-attribution").inner_text()
    assert_matches_api(page, client)
    assert page.locator(".embed-title > a").get_attribute("href").startswith("/?")
    page.screenshot(path=str(artifacts / "map-client-embed.png"))
    assert page.console_errors == []


def test_png_export_has_the_right_size_and_shows_the_map(page, live_server, client, artifacts):
    open_map(page, live_server, "basemap=none&outlines=1")
    image, info = export_png(page, artifacts / "map-client-export.png")
    bands, height, width = image.shape
    assert (width, height) == (info["width"], info["height"]) and bands in (3, 4)
    assert width == (info["frame"]["width"] + LEGEND_WIDTH) * EXPORT_SCALE
    assert height > info["frame"]["height"] * EXPORT_SCALE  # map plus title and footer
    assert info["suggested"] == info["filename"] == "csp-atlas_all-crime_latest_wards-2024.png"
    assert info["marking"] is None  # public data only: no protective marking
    rgb = image[:3].reshape(3, -1).T.astype(int)
    assert rgb.std() > 20, "not blank"
    assert len(np.unique(rgb[::5], axis=0)) > 100, "several distinct colours"
    # every class colour of the API is in the picture, blended as on screen over the plain background
    data = api_layer(page, client)
    sample = rgb[::3]
    for each in data["legend"]["classes"]:
        target = blend(each["color"], 0.85, (0xF5, 0xF5, 0xF3))
        assert (np.abs(sample - target).max(axis=1) <= 3).sum() > 50, each["color"]
    page.get_by_label("Heat map of crimes").check()
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    with_heat, _ = export_png(page, artifacts / "map-client-export-heat.png")
    assert with_heat.shape == image.shape and not np.array_equal(with_heat, image)
    assert page.console_errors == []


def test_phone_width_panel_is_a_drawer(phone_page, live_server, client, artifacts):
    page = phone_page
    open_map(page, live_server)
    assert not page.locator("#panel").is_visible()
    assert page.locator("#legend").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    toggle = page.get_by_role("button", name="Map options", exact=True)
    assert toggle.get_attribute("aria-expanded") == "false"
    page.screenshot(path=str(artifacts / "map-client-phone.png"))
    toggle.click()
    page.wait_for_function("getComputedStyle(document.getElementById('panel')).transform === 'none'")
    assert toggle.get_attribute("aria-expanded") == "true" and page.locator("#panel").is_visible()
    assert page.evaluate("document.activeElement.id") == "metric"
    page.screenshot(path=str(artifacts / "map-client-phone-panel.png"))
    page.get_by_label("Data", exact=True).select_option("asb")
    wait_for_layer(page, "metric=asb")
    page.keyboard.press("Escape")
    page.locator("#legend .legend-toggle").click()  # the legend starts collapsed on a phone
    assert_matches_api(page, client)
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.console_errors == []


def test_empty_results_and_api_errors_are_shown(page, live_server, client):
    def zero_layer(route):
        response = route.fetch()
        body = response.json()
        for feature in body["features"]:
            feature["properties"].update(value=0.0, rank=None)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/layers/wards-2024?*metric=robbery*", zero_layer)
    page.route("**/api/crime/points?metric=robbery*", lambda route: route.fulfill(
        status=200, content_type="application/geo+json", body=json.dumps({
            "type": "FeatureCollection", "features": [], "metadata": {
                "metric": {"id": "robbery", "title": "Robbery"}, "period": "2022-06", "count": 0,
                "crime_types": {}, "source": "test", "data_date": "2022-06", "notes": []}})))
    open_map(page, live_server, "basemap=none&metric=robbery&period=2022-06&heat=1")
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    status = page.locator("#status")
    assert "No crimes recorded for this filter." in status.inner_text()
    assert "(hotspots)" in status.inner_text()

    page.get_by_label("Boundaries").select_option("lsoa-2011")
    page.get_by_label("Measure").select_option("rate")
    page.wait_for_selector("#map[data-layer-state=error]")
    message = client.get(page.locator("#map").get_attribute("data-layer-url")).get_json()["error"]["message"]
    assert message in status.inner_text() and status.get_attribute("role") == "alert"
    assert message in page.locator("#legend").inner_text()
    assert all("400" in error for error in page.console_errors)  # only the refused request itself


def test_hotspot_layers_are_not_requested_for_anonymous_users(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(urlparse(request.url).path))
    open_map(page, live_server)
    page.wait_for_load_state("networkidle")
    assert "/api/hotspot-layers" not in requested  # nobody signed in: not asked for, so no 401 in the console
    assert page.locator("#extra-layers").is_hidden()
    assert page.console_errors == []
