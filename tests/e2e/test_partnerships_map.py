"""Two partnerships in one deployment, in the browser: each map opens on its own area with its own default set and
name, and the picker moves between them; the API calls of a partnership's page carry its /p/{slug} prefix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from server.store import partnerships as partnership_store
from server.store.db import transaction
from tests.test_partnership_isolation import copy_set

NORTHERN_WARDS = 5


@pytest.fixture(scope="module")
def north(engine) -> Iterator[dict]:
    """Partnership 'north-…': the five northernmost Maidstone 2013 wards, as a boundary set of its own."""
    suffix = uuid.uuid4().hex[:6]
    slug, name = f"north-{suffix}", f"North Test Partnership {suffix}"
    set_id = f"{slug}-wards"
    with transaction(engine) as session:
        copy_set(session, "wards-2013", set_id, "North electoral wards", northernmost=NORTHERN_WARDS)
        partnership_store.upsert_partnership(session, slug, name, ["E07000113"])
        partnership_store.replace_partnership_sets(session, slug, [set_id], set_id)
    yield {"slug": slug, "set": set_id, "name": name}
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready] #map[data-layer-state=ready]")
    page.wait_for_function("document.getElementById('status').dataset.kind !== 'loading'")


def _bounds(page) -> dict:
    return page.evaluate("""() => { const b = window.cspAtlas.map.getBounds();
        return { south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast() }; }""")


def _centre_in(bounds: dict, bbox: list[float]) -> bool:
    lon, lat = (bounds["west"] + bounds["east"]) / 2, (bounds["south"] + bounds["north"]) / 2
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def test_each_partnership_opens_on_its_area_with_its_name_and_the_picker_moves_between_them(
        page, live_server, client, north, artifacts):
    mine = client.get("/api/partnerships/maidstone").get_json()
    theirs = client.get(f"/api/partnerships/{north['slug']}").get_json()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    _open(page, f"{live_server}/?basemap=none")
    assert page.title() == "CSP Atlas — Safer Maidstone Partnership"
    assert page.locator("h1 #partnership-name").inner_text() == "Safer Maidstone Partnership"
    assert page.evaluate("window.cspAtlas.state().set") == mine["default_set"]
    assert _centre_in(_bounds(page), mine["bbox"])
    picker = page.locator("#partnership-select")
    assert picker.is_visible()
    options = picker.locator("option").all_inner_texts()
    assert "Safer Maidstone Partnership" in options and north["name"] in options
    page.screenshot(path=str(artifacts / "partnerships-default.png"))

    requests.clear()
    picker.select_option(label=north["name"])
    page.wait_for_url(f"**/p/{north['slug']}/**")
    page.wait_for_selector("body[data-ready] #map[data-layer-state=ready]")
    page.wait_for_function("document.getElementById('status').dataset.kind !== 'loading'")
    assert page.title() == f"CSP Atlas — {north['name']}"
    assert page.evaluate("window.cspAtlas.state().set") == north["set"]
    assert len(page.evaluate("window.cspAtlas.layer().features")) == NORTHERN_WARDS
    bounds = _bounds(page)
    assert _centre_in(bounds, theirs["bbox"])
    assert bounds["north"] - bounds["south"] < (mine["bbox"][3] - mine["bbox"][1]) * 1.5, "opened on the whole borough"
    api_calls = [url for url in requests if "/api/" in url or "/ogc/" in url]
    assert api_calls and all(f"/p/{north['slug']}/" in url for url in api_calls), api_calls
    boundaries = page.locator("#boundaries option").all_inner_texts()
    assert boundaries[0].startswith("North electoral wards") and not any("2024" in b for b in boundaries)
    page.screenshot(path=str(artifacts / "partnerships-north.png"))
    assert page.console_errors == []


def test_an_embed_under_a_prefix_is_that_partnerships_map(page, live_server, north):
    _open(page, f"{live_server}/p/{north['slug']}/embed?basemap=none")
    assert page.title() == f"CSP Atlas map — {north['name']}"
    assert len(page.evaluate("window.cspAtlas.layer().features")) == NORTHERN_WARDS
    link = page.locator(".embed-title a[target=_blank]").get_attribute("href")
    assert link.startswith(f"/p/{north['slug']}/?")
    downloads = page.locator(".embed-title a[download]").evaluate_all("(links) => links.map((a) => a.href)")
    assert downloads and all(f"/p/{north['slug']}/api/" in href for href in downloads)
    assert page.console_errors == []
