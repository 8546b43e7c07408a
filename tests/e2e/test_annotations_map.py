"""The assessment's statements about places and the intervals of re-estimated figures, in headless Chromium:
the panel toggle draws the outlined areas with numbered badges, a badge opens the statement (quote, figure,
paragraph, line), and a re-estimated ward's popup, the values table and the legend say "estimated" with the interval
the API gives."""

from __future__ import annotations

import pytest

from tests.e2e.test_map_client import interior_point, open_map

pytestmark = pytest.mark.e2e
TOWN_CENTRE = "lsoa-e01033090-serious-violence"


def format_number(page, value: float, signed: bool = False) -> str:
    return page.evaluate("([v, signed]) => import('/app/format.js').then((m) => m.formatNumber(v, { signed }))",
                         [value, signed])


def settled_popup(page) -> None:
    """Leaflet fades a popup in: a screenshot taken before the fade ends shows it half transparent."""
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")


def test_annotations_toggle_outlines_and_popup(page, live_server, client, artifacts):
    open_map(page, live_server)
    collection = client.get("/api/annotations").get_json()
    assert page.locator(".annotation-outline").count() == 0
    page.get_by_label("The assessment's places of concern").check()
    page.wait_for_function(f"document.querySelectorAll('path.annotation-outline').length === "
                           f"{len(collection['features'])}")
    assert page.locator(".annotation-badge").count() == len(collection["features"])
    assert "annotations=1" in page.url
    legend = page.locator("#legend").inner_text()
    assert "LSOA of concern" in legend and "District priority area" in legend
    page.screenshot(path=str(artifacts / "annotations-on.png"))

    feature = next(f for f in collection["features"] if f["id"] == TOWN_CENTRE)
    lat, lon = feature["properties"]["label_point"]
    page.evaluate("([lat, lon]) => window.cspAtlas.map.setView([lat, lon], 15, { animate: false })", [lat, lon])
    page.locator(f'.annotation-badge[title="{feature["properties"]["title"]}"]').click()
    popup = page.locator(f'.annotation-popup[data-annotation="{TOWN_CENTRE}"]')
    popup.wait_for()
    text = popup.inner_text()
    assert "267 incidents; harm score 50847" in text
    assert "ranks first in both count and harm for All Serious Violence (ASVC)" in text
    assert "paragraph 35, line 388" in text and "E01033090" in text and "lsoa of concern" in text.lower()
    settled_popup(page)
    page.screenshot(path=str(artifacts / "annotations-popup.png"))

    page.get_by_label("The assessment's places of concern").uncheck()
    page.wait_for_function("document.querySelectorAll('.annotation-outline, .annotation-badge').length === 0")
    assert "annotations=1" not in page.url
    assert page.console_errors == []


def test_priority_area_popup_says_no_figure_printed(page, live_server, client):
    open_map(page, live_server, "basemap=none&annotations=1")
    page.wait_for_selector(".annotation-badge")
    feature = next(f for f in client.get("/api/annotations").get_json()["features"] if f["id"] == "priority-shepway")
    lat, lon = feature["properties"]["label_point"]
    page.evaluate("([lat, lon]) => window.cspAtlas.map.setView([lat, lon], 15, { animate: false })", [lat, lon])
    page.locator(f'.annotation-badge[title="{feature["properties"]["title"]}"]').click()
    text = page.locator('.annotation-popup[data-annotation="priority-shepway"]').inner_text()
    assert "No figure printed" in text and "line 391" in text and "E05005003, E05005004" in text
    assert page.console_errors == []


def test_re_estimated_ward_popup_table_and_legend_show_the_interval(page, live_server, client, artifacts):
    query = "basemap=none&metric=seed-crimes-by-ward&period=2023"
    open_map(page, live_server, query)
    layer = client.get(page.locator("#map").get_attribute("data-layer-url")).get_json()
    assert layer["legend"]["estimated"] is True
    senacre = next(f["properties"] for f in layer["features"] if f["properties"]["code"] == "E05015611")
    x, y = interior_point(page, "E05015611")
    page.mouse.click(x, y)
    popup = page.locator(".area-popup")
    popup.wait_for()
    text = popup.inner_text()
    low, high = format_number(page, senacre["estimate_low"]), format_number(page, senacre["estimate_high"])
    error = format_number(page, round(senacre["estimate_error_pct"], 1))
    assert "Senacre" in text and "(estimated)" in text
    assert f"{low} – {high} (±{error}%)" in popup.locator("dl .estimate-interval").inner_text()
    assert senacre["estimate_low"] < senacre["value"] < senacre["estimate_high"]
    legend = page.locator("#legend").inner_text()
    worst = format_number(page, layer["metadata"]["estimate"]["worst_error_pct"])
    assert "Estimated" in legend and f"up to ±{worst}%" in legend
    change = client.get("/api/layers/wards-2024?metric=seed-crimes-by-ward&period=2023&measure=change").get_json()
    moved = next(f["properties"] for f in change["features"] if f["properties"]["code"] == "E05015611")
    page.wait_for_function("!document.querySelector('.popup-change').textContent.includes('loading')")
    changed = popup.locator(".popup-change").inner_text()
    span = f"{format_number(page, moved['estimate_low'], True)} – {format_number(page, moved['estimate_high'], True)}"
    assert f"(estimated; the change lies within {span})" in changed
    settled_popup(page)
    page.screenshot(path=str(artifacts / "estimate-popup.png"))
    headers = page.locator("#values-table thead th").all_text_contents()
    assert headers == ["Rank", "Area", "Value (estimated)", "Interval"]
    row = page.locator("#values-table tbody tr", has=page.locator('button[data-code="E05015611"]'))
    assert f"{low} – {high}" in row.text_content()
    assert page.console_errors == []


def test_figures_on_their_own_wards_are_not_marked_estimated(page, live_server):
    open_map(page, live_server, "basemap=none&set=wards-2013&metric=seed-crimes-by-ward&period=2023")
    assert "Estimated" not in page.locator("#legend").inner_text()
    assert page.locator("#values-table thead th").all_text_contents() == ["Rank", "Area", "Value"]
