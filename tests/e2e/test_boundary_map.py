"""The boundary map in a real headless Chromium: ward sets, cluster outlines, hover names, attribution."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def open_map(page, live_server: str, query: str = "basemap=none") -> None:
    page.goto(f"{live_server}/?{query}")
    page.wait_for_selector("body[data-ready] #map[data-layer-state=ready] .leaflet-overlay-pane path")
    page.wait_for_function("document.getElementById('status').textContent === ''")


def wait_for_paths(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('.leaflet-overlay-pane path').length === {count}")


def test_map_shows_2024_wards_by_default_with_attribution(page, live_server, artifacts):
    open_map(page, live_server)
    assert page.locator(".leaflet-overlay-pane path").count() == 22
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Crown copyright" in attribution and "Office for National Statistics" in attribution
    assert "police.uk" in attribution
    page.screenshot(path=str(artifacts / "boundary-map-2024.png"))
    assert page.console_errors == []


def test_switching_to_pre_2024_wards_and_clusters(page, live_server, artifacts):
    open_map(page, live_server)
    page.get_by_label("Boundaries").select_option("wards-2013")
    wait_for_paths(page, 26)
    page.get_by_label("Outline the ward clusters").check()
    wait_for_paths(page, 34)  # 26 wards and the 8 cluster outlines over them
    page.screenshot(path=str(artifacts / "boundary-map-2013-clusters.png"))
    page.get_by_label("Boundaries").select_option("wards-2013:clusters")
    wait_for_paths(page, 8)
    page.get_by_label("Boundaries").select_option("lsoa-2011")
    wait_for_paths(page, 95)
    assert page.console_errors == []


def test_hovering_an_area_shows_its_name_and_code(page, live_server):
    open_map(page, live_server, "basemap=none&wards=wards-2013")
    box = page.locator(".leaflet-overlay-pane svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "E0500" in tooltip.inner_text()


def test_lsoas_and_phone_width(phone_page, live_server, artifacts):
    open_map(phone_page, live_server, "basemap=none&set=lsoa-2011")
    assert phone_page.locator(".leaflet-overlay-pane path").count() == 95
    assert phone_page.console_errors == []
    phone_page.screenshot(path=str(artifacts / "boundary-map-phone.png"))
