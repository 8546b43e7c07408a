"""The web map as officers use it in the field, in headless Chromium (desktop 1280×860 and phone 390×844): the
default measure, the basemap notice, the legend on a phone, popups that fit the screen, who is signed in, the heat
map without the choropleth under it and without saturating when zoomed in, record symbols and cluster markers that
stand out, and "No data" areas. Screenshots are kept under test-artifacts/."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from server.domain import accounts
from server.domain.classify import PALETTES
from server.store.db import transaction
from tests.conftest import PASSWORD
from tests.e2e.conftest import _watched_page
from tests.e2e.test_map_client import (
    api_layer,
    assert_matches_api,
    blend,
    export_png,
    interior_point,
    open_map,
    wait_for_layer,
)

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
HEAT_GRADIENT = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"]  # client/src/hotspots.js
NO_DATA_CODES = ("E05015603", "E05015612")  # High Street, Shepway North


@pytest.fixture
def phone(browser):
    context, page = _watched_page(browser, **PHONE)
    yield page
    context.close()


@pytest.fixture(scope="module")
def officer(engine) -> str:
    username = f"field.officer-{uuid.uuid4().hex[:4]}"
    with transaction(engine) as session:
        accounts.create_user(session, username, PASSWORD, "officer")
    return username


def sign_in(page, username: str) -> None:
    page.locator("#account .account-toggle").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#signin-form button[type=submit]").click()
    page.wait_for_selector(f'#account[data-user="{username}"]')


def next_frames(page) -> None:
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def layer_measure(page) -> str:
    return parse_qs(urlparse(page.locator("#map").get_attribute("data-layer-url")).query)["measure"][0]


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def rgb_hex(css: str) -> str:
    """'rgb(23, 42, 86)' -> '#172a56'."""
    parts = css[css.index("(") + 1:css.index(")")].split(",")[:3]
    return "#" + "".join(f"{int(float(p)):02x}" for p in parts)


# --- the default measure ------------------------------------------------------------------------------------

def test_default_measure_is_the_rate_or_density_and_count_is_one_click_away(page, live_server, client, artifacts):
    open_map(page, live_server)
    assert layer_measure(page) == "rate"  # the 2024 wards have a population
    # the list of sets that decides it is asked for once, by the page's preload, not again by the script
    assert page.evaluate("""performance.getEntriesByType('resource')
        .filter((e) => e.name.endsWith('/api/boundary-sets')).map((e) => e.initiatorType)""") == ["link"]
    assert "measure" not in parse_qs(urlparse(page.url).query)  # chosen by the map, not written into links
    assert page.locator("#measure").input_value() == "rate"
    assert "per 1,000 residents" in page.locator("#legend .legend-sub").inner_text()
    assert_matches_api(page, client)

    page.locator("#legend .legend-measure", has_text="Count").click()
    wait_for_layer(page, "measure=count")
    assert parse_qs(urlparse(page.url).query)["measure"] == ["count"]
    assert "per 1,000" not in page.locator("#legend .legend-sub").inner_text()
    page.locator("#legend .legend-measure", has_text="Rate per 1,000 residents").click()
    wait_for_layer(page, "measure=rate")

    # a shared link that says count keeps count; the LSOAs have no population, so their default is density
    open_map(page, live_server, "basemap=none&measure=count")
    assert layer_measure(page) == "count"
    open_map(page, live_server, "basemap=none&set=lsoa-2011")
    assert layer_measure(page) == "density" and "per km²" in page.locator("#legend .legend-sub").inner_text()
    page.get_by_label("Boundaries").select_option("wards-2013")  # the map's choice follows the boundaries
    wait_for_layer(page, "/api/layers/wards-2013?")
    assert layer_measure(page) == "rate"
    assert page.console_errors == []


# --- the basemap notice -------------------------------------------------------------------------------------

def unreachable_tiles(page) -> None:
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort("internetdisconnected"))


def test_basemap_notice_can_be_dismissed(page, live_server):
    unreachable_tiles(page)
    open_map(page, live_server, "basemap=osm")
    status = page.locator("#status")
    page.wait_for_function("document.getElementById('status').textContent.includes('Basemap tiles cannot')")
    close = page.get_by_role("button", name="Dismiss this notice")
    assert close.is_visible()
    close.click()
    assert page.evaluate("document.getElementById('status').textContent") == "" and not status.is_visible()


def test_basemap_notice_hides_itself_and_leaves_the_phone_legend_clear(browser, live_server, artifacts):
    context, page = _watched_page(browser, **PHONE)
    try:
        page.clock.install()
        unreachable_tiles(page)
        open_map(page, live_server, "basemap=osm")
        page.wait_for_function("document.getElementById('status').textContent.includes('Basemap tiles cannot')")
        status, legend = box(page, "#status"), box(page, "#legend")
        overlap_x = min(status["x"] + status["width"], legend["x"] + legend["width"]) - max(status["x"], legend["x"])
        overlap_y = min(status["y"] + status["height"], legend["y"] + legend["height"]) - max(status["y"], legend["y"])
        assert overlap_x <= 0 or overlap_y <= 0, "the notice covers the legend"
        page.screenshot(path=str(artifacts / "field-phone-basemap-notice.png"))
        page.clock.run_for(5_000)
        assert page.locator("#status").is_visible()
        page.clock.run_for(8_000)
        page.wait_for_function("document.getElementById('status').textContent === ''")
        assert not page.locator("#status").is_visible()
    finally:
        context.close()


# --- the phone: legend, popups, who is signed in ------------------------------------------------------------

def test_phone_legend_is_collapsed_and_small_and_opens_on_tap(phone, live_server, client, artifacts):
    page = phone
    open_map(page, live_server)
    legend = box(page, "#legend")
    screen = 390 * 844
    assert legend["width"] * legend["height"] < 0.2 * screen
    assert legend["width"] * legend["height"] < 0.05 * screen  # one line: the colour ramp and a button
    toggle = page.locator("#legend .legend-toggle")
    assert toggle.get_attribute("aria-expanded") == "false" and not page.locator("#legend-body").is_visible()
    ramp = page.locator("#legend .legend-ramp span").count()
    assert ramp == len(api_layer(page, client)["legend"]["classes"])
    page.screenshot(path=str(artifacts / "field-phone-legend-collapsed.png"))
    toggle.tap()
    assert toggle.get_attribute("aria-expanded") == "true" and page.locator("#legend-body").is_visible()
    assert_matches_api(page, client)
    page.screenshot(path=str(artifacts / "field-phone-legend-open.png"))
    toggle.tap()
    assert not page.locator("#legend-body").is_visible()
    assert page.console_errors == []


def test_phone_popup_fits_the_screen_and_the_tapped_area_stays_visible(phone, live_server, artifacts):
    page = phone
    open_map(page, live_server)
    page.locator("#legend .legend-toggle").tap()  # opened: the popup closes it again for room
    page.wait_for_timeout(600)  # so that the next tap is not taken with this one for a double tap (a zoom)
    # the ward at the right edge of the borough: before, its popup was cut off on the right
    code = page.evaluate("""() => {
        const map = window.cspAtlas.map;
        const east = (f) => L.geoJSON(f).getBounds().getEast();
        return window.cspAtlas.layer().features.reduce((a, b) => (east(a) > east(b) ? a : b)).properties.code;
    }""")
    x, y = interior_point(page, code)
    zoom = page.evaluate("window.cspAtlas.map.getZoom()")
    page.touchscreen.tap(x, y)
    popup = page.locator(".leaflet-popup")
    popup.wait_for()
    page.wait_for_function("!window.cspAtlas.map._panAnim?._inProgress")  # the pan that makes room for the popup
    next_frames(page)
    assert page.evaluate("window.cspAtlas.map.getZoom()") == zoom
    frame = box(page, ".leaflet-popup-content-wrapper")
    map_box = box(page, "#map")
    assert frame["x"] >= map_box["x"] and frame["x"] + frame["width"] <= map_box["x"] + map_box["width"]
    assert frame["y"] >= map_box["y"] and frame["y"] + frame["height"] <= map_box["y"] + map_box["height"]
    assert frame["height"] <= 0.5 * map_box["height"]
    assert page.locator("#legend .legend-toggle").get_attribute("aria-expanded") == "false"
    # the tapped place (the popup's tip) is on screen and shows the area tapped, not the popup or the legend
    tip = page.evaluate("""() => {
        const popup = document.querySelector('.leaflet-popup');
        const map = window.cspAtlas.map;
        const point = map.latLngToContainerPoint(Object.values(map._layers).find((l) => l.isPopupOpen?.())
            .getPopup().getLatLng());
        const rect = map.getContainer().getBoundingClientRect();
        return [rect.left + point.x, rect.top + point.y];
    }""")
    assert map_box["x"] <= tip[0] <= map_box["x"] + map_box["width"]
    assert map_box["y"] <= tip[1] <= map_box["y"] + map_box["height"]
    below = page.evaluate("([x, y]) => document.elementFromPoint(x, y + 4)?.getAttribute('class') || ''", tip)
    assert f"code-{code}" in below
    page.screenshot(path=str(artifacts / "field-phone-popup.png"))
    assert page.console_errors == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_bar_shows_who_is_signed_in(browser, live_server, officer, artifacts, size):
    options = PHONE if size == "phone" else {"viewport": {"width": 1280, "height": 860}}
    context, page = _watched_page(browser, **options)
    try:
        open_map(page, live_server)
        sign_in(page, officer)
        name = page.locator("#account .account-username")
        role = page.locator("#account .account-name .role")
        assert name.is_visible() and role.is_visible() and role.inner_text() == "officer"
        shown = name.bounding_box()
        assert shown["width"] > 30 and shown["x"] + shown["width"] <= options["viewport"]["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= options["viewport"]["width"]
        assert officer.startswith(name.inner_text().rstrip("…")[:8])
        if size == "phone":  # the drawer's button, down to its icon, still there beside the name
            assert page.get_by_role("button", name="Map options", exact=True).is_visible()
        page.screenshot(path=str(artifacts / f"field-{size}-signed-in.png"))
        assert page.console_errors == []
    finally:
        context.close()


# --- the heat map ----------------------------------------------------------------------------------------------

def saturated_share(page) -> float:
    """The share of the heat map's painted pixels in its darkest colour (viridis' last stop)."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('canvas.leaflet-heatmap-layer');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0; let darkest = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] > 0) painted += 1;
          if (data[i + 3] > 0 && Math.abs(data[i] - 0x44) < 6 && data[i + 1] < 10 && Math.abs(data[i + 2] - 0x54) < 6) {
            darkest += 1;
          }
        }
        return painted ? darkest / painted : 0;
    }""")


def test_heat_map_shows_areas_as_outlines_and_does_not_saturate_zoomed_in(page, live_server, artifacts):
    open_map(page, live_server, "basemap=none&heat=1&period=2022-06&view=12/51.27/0.55")
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    opacities = page.evaluate("""() => [...document.querySelectorAll('path.area')].map(
        (p) => [p.getAttribute('fill-opacity'), getComputedStyle(p).strokeOpacity])""")
    assert opacities and all(fill == "0" and float(stroke) > 0.5 for fill, stroke in opacities)
    assert page.locator("#legend .legend-outlines-only").is_visible()
    page.screenshot(path=str(artifacts / "field-heat-zoom12.png"))
    max_12 = page.evaluate("window.cspAtlas.hotspots.heat.options.max")

    page.evaluate("window.cspAtlas.map.setView([51.2725, 0.522], 15, {animate: false})")
    page.wait_for_function(f"window.cspAtlas.hotspots.heat.options.max > {max_12}")
    next_frames(page)  # leaflet.heat redraws on the next animation frame
    max_15 = page.evaluate("window.cspAtlas.hotspots.heat.options.max")
    densest = page.evaluate("Math.round(window.cspAtlas.hotspots.densities.at(-1))")
    assert max_15 == max(2, densest)  # at zoom 15 the ramp reaches to the densest place
    share = saturated_share(page)
    assert share < 0.02, f"{share:.1%} of the heat map at its darkest"
    legend = page.locator("#legend .legend-heat").inner_text()
    assert f"≥ {max_15:,}" in legend
    page.screenshot(path=str(artifacts / "field-heat-zoom15.png"))

    # the zoom-12 ramp kept at zoom 15 (as before) saturates the town centre: what the per-zoom max prevents
    page.evaluate(f"window.cspAtlas.hotspots.heat.setOptions({{max: {max_12}}})")
    next_frames(page)
    assert saturated_share(page) > 5 * max(share, 0.002)
    page.get_by_label("Heat map of crimes").uncheck()
    page.wait_for_function("document.querySelector('path.area').getAttribute('fill-opacity') !== '0'")
    assert page.console_errors == []


def test_cluster_markers_are_readable_on_the_heat_map(page, live_server, artifacts):
    open_map(page, live_server, "basemap=none&heat=1&markers=1&period=2022-06&view=15/51.2725/0.522")
    page.wait_for_selector("#map[data-markers-state=ready] .crime-cluster")
    style = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.crime-cluster'));
        return {fill: s.backgroundColor, ring: s.borderTopColor, text: s.color, ringWidth: s.borderTopWidth}; }""")
    fill, ring, text = (rgb_hex(style[k]) for k in ("fill", "ring", "text"))
    assert contrast(text, fill) >= 7
    assert float(style["ringWidth"].rstrip("px")) >= 2
    for stop in HEAT_GRADIENT:  # the fill or its ring stands out from every colour of the heat map
        assert max(contrast(fill, stop), contrast(ring, stop)) >= 4.5, stop
    page.screenshot(path=str(artifacts / "field-clusters-on-heat.png"))


# --- record symbols ---------------------------------------------------------------------------------------------

def test_record_symbols_have_halos_and_shapes_that_stand_out_on_every_palette(browser, live_server, officer,
                                                                               artifacts):
    context, page = _watched_page(browser, viewport={"width": 1280, "height": 860})
    try:
        open_map(page, live_server, "basemap=none&palette=YlOrRd&view=14/51.2725/0.53")
        sign_in(page, officer)
        page.wait_for_selector("#extra-layers:not([hidden])")
        page.get_by_label("Needle finds").check()
        page.wait_for_selector("path.hotspot-needle-finds")
        symbols = page.evaluate("""() => [...document.querySelectorAll('path.hotspot-needle-finds')].map((p) => ({
            d: p.getAttribute('d'), ring: p.getAttribute('stroke'), fill: p.getAttribute('fill'),
            halo: p.previousElementSibling?.getAttribute('class')?.includes('hotspot-halo')
              ? p.previousElementSibling.getAttribute('stroke') : null}))""")
        halos = page.locator("path.hotspot-halo").count()
        assert symbols and halos >= len(symbols)
        colours = {colour for palette in PALETTES.values() for classes in palette.values() for colour in classes}
        assert len(colours) > 100
        for symbol in symbols:
            assert symbol["d"].count("L") == 3  # a diamond, not a circle like the crime dots
            ring, halo = symbol["ring"], symbol["halo"] or page.locator("path.hotspot-halo").first.get_attribute(
                "stroke")
            for colour in colours:  # a ring of the symbol contrasts with every class colour of every palette
                assert max(contrast(ring, colour), contrast(halo, colour)) >= 4.5, colour
        assert page.locator('#legend .legend-extra[data-layer="needle-finds"] svg.legend-symbol').count() == 1
        page.screenshot(path=str(artifacts / "field-record-symbols.png"))
        assert page.console_errors == []
    finally:
        context.close()


# --- "No data" and the API's class labels ---------------------------------------------------------------------

def test_no_data_areas_are_hatched_and_counted_and_class_labels_come_from_the_api(page, live_server, artifacts):
    def partial_layer(route):
        response = route.fetch()
        body = response.json()
        for feature in body["features"]:
            if feature["properties"]["code"] in NO_DATA_CODES:
                feature["properties"].update(value=None, color=None, rank=None)
        body["legend"]["no_data_count"] = len(NO_DATA_CODES)
        for index, each in enumerate(body["legend"]["classes"]):
            each["label"] = f"class label {index + 1}"
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/layers/wards-2024?*", partial_layer)
    open_map(page, live_server)
    fills = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('path.area')].map((p) => [
        [...p.classList].find((c) => c.startsWith('code-')).slice(5), getComputedStyle(p).fill]))""")
    for code, fill in fills.items():
        if code in NO_DATA_CODES:
            assert "csp-no-data-hatch" in fill, (code, fill)
        else:
            assert fill.startswith("rgb"), (code, fill)
    assert page.locator("#csp-no-data-hatch").count() == 1
    row = page.locator("#legend tr.no-data")
    assert row.get_attribute("data-count") == "2" and "No data" in row.inner_text()
    assert "repeating-linear-gradient" in row.locator(".swatch").evaluate("(s) => getComputedStyle(s).backgroundImage")
    ranges = page.locator("#legend tr.legend-class:not(.no-data) td.range").all_inner_texts()
    assert ranges and ranges == [f"class label {i + 1}" for i in range(len(ranges))]
    page.locator("#map").screenshot(path=str(artifacts / "field-no-data.png"))
    # the PNG export hatches them the same way: both colours of the hatching, as drawn at the map's fill opacity
    image, _ = export_png(page, artifacts / "field-no-data-export.png")
    rgb = image[:3].reshape(3, -1).T.astype(int)
    for colour in ("#ececec", "#8c8c8c"):
        target = blend(colour, 0.85, (0xF5, 0xF5, 0xF3))
        assert (np.abs(rgb - target).max(axis=1) <= 3).sum() > 500, colour
    assert page.console_errors == []


# --- recording: the form's count, and a click far outside the partnership -------------------------------------

def test_the_record_form_refuses_a_count_of_zero_and_shows_why_a_far_point_is_refused(page, live_server, officer):
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and "/points" in r.url else None)
    open_map(page, live_server)
    sign_in(page, officer)
    page.wait_for_selector(".capture-button")
    page.locator(".capture-button").click()
    x, y = interior_point(page, "E05015603")  # High Street
    page.mouse.click(x, y)
    form = page.locator(".capture-form")
    count = form.get_by_label("Count")
    assert count.get_attribute("min") == "1"
    count.fill("0")
    form.get_by_role("button", name="Save record").click()
    assert "at least 1" in form.locator(".capture-error").inner_text()
    assert count.get_attribute("aria-invalid") == "true" and posted == []
    form.get_by_role("button", name="Cancel").click()

    # 90 km west of the borough: the API refuses it and the form says how far outside the partnership area it is
    page.evaluate("window.cspAtlas.map.setView([51.27, -0.75], 12, {animate: false})")
    page.locator(".capture-button").click()
    map_box = box(page, "#map")
    page.mouse.click(map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2)
    form.get_by_role("button", name="Save record").click()
    page.wait_for_function("document.querySelector('.capture-error')?.textContent.includes('outside')")
    message = form.locator(".capture-error").inner_text()
    assert "km outside the partnership area" in message and len(posted) == 1
    assert all("400" in error for error in page.console_errors)  # only the refused request itself
