"""The boundary map in a real headless Chromium: layers, hover names, attribution."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def open_map(page, live_server: str, query: str = "basemap=none") -> None:
    page.goto(f"{live_server}/?{query}")
    page.wait_for_selector(".leaflet-overlay-pane path")
    page.wait_for_function("document.getElementById('status').textContent === ''")


def test_map_shows_2024_wards_by_default_with_attribution(page, live_server, artifacts):
    open_map(page, live_server)
    assert page.locator(".leaflet-overlay-pane path").count() == 22
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Crown copyright" in attribution and "Office for National Statistics" in attribution
    page.screenshot(path=str(artifacts / "boundary-map-2024.png"))
    assert page.console_errors == []


def test_switching_to_pre_2024_wards_and_clusters(page, live_server, artifacts):
    open_map(page, live_server)
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Maidstone electoral wards (2013 to May 2024)").check()
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length === 26")
    page.get_by_label("Ward clusters (wards-2013)").check()
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length === 34")
    page.screenshot(path=str(artifacts / "boundary-map-2013-clusters.png"))
    assert page.console_errors == []


def test_hovering_an_area_shows_its_name_and_code(page, live_server):
    open_map(page, live_server, "basemap=none&wards=wards-2013")
    box = page.locator(".leaflet-overlay-pane svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "E0500" in tooltip.inner_text()


def test_lsoas_and_phone_width(phone_page, live_server, artifacts):
    open_map(phone_page, live_server)
    assert phone_page.console_errors == []
    phone_page.screenshot(path=str(artifacts / "boundary-map-phone.png"))
