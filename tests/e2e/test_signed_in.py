"""The signed-in map in headless Chromium against the real API and real users: sign-in and sign-out, hotspot layers
per role (an officer sees needle finds only, a DCSM-granted user the DCSM locations too, never in the URL or the
embed view), patrol areas (drawn with Leaflet-Geoman by mouse clicks on the map and by the keyboard alternative; the
live summary equals the API's for the same geometry; save, edit, history, archive, restore, suggestions, exports,
team isolation) and the download links of the map state."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from shapely.geometry import shape

from server.domain import accounts
from server.store import patrols as patrol_store
from server.store.db import transaction
from tests.conftest import PASSWORD, bearer
from tests.e2e.conftest import ConsoleErrors

pytestmark = pytest.mark.e2e

TOWN_CENTRE_VIEW = (51.2725, 0.5225, 15)
TOWN_CENTRE = {"type": "Polygon", "coordinates": [[[0.515, 51.270], [0.532, 51.270], [0.532, 51.280],
                                                     [0.515, 51.280], [0.515, 51.270]]]}
EXPORT_TYPES = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
                "pdf": "application/pdf"}
DOWNLOAD_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3",
                  "shp.zip": "application/zip", "csv": "text/csv", "png": "image/png", "pdf": "application/pdf"}
LAYER_KEYS = ("metric", "period", "measure", "method", "k", "palette")


@pytest.fixture(scope="module")
def people(engine, hotspot_users) -> dict[str, dict[str, str]]:
    """Officers of two teams (unique per run), one without a team, and the DCSM reader of `hotspot_users`."""
    suffix = uuid.uuid4().hex[:6]
    teams = {"a": f"Town Centre Task Force {suffix}", "b": f"Rural Task Force {suffix}", "none": None}
    people = {}
    with transaction(engine) as session:
        for key, team in teams.items():
            username = f"e2e-{key}-{suffix}"
            accounts.create_user(session, username, PASSWORD, "officer")
            patrol_store.set_user_team(session, username, team)
            people[key] = {"username": username, "team": team,
                           "token": accounts.issue_token(session, username, "e2e")}
    people["dcsm"] = {**hotspot_users["dcsm-reader"], "team": None}
    return people


# --- helpers ------------------------------------------------------------------------------------------------

def new_page(browser):
    """A page of its own browser context (its own cookies), recording console errors like the `page` fixture."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.console_errors = ConsoleErrors()
    page.console_errors.attach(page)
    return page


def open_map(page, live_server: str, query: str = "basemap=none", path: str = "/") -> None:
    page.goto(f"{live_server}{path}?{query}")
    page.wait_for_selector("body[data-ready] #map[data-layer-state=ready]")


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.locator("#account .account-toggle").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("#signin-form button[type=submit]").click()
    page.wait_for_selector(f'#account[data-user="{username}"]')


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector('#account[data-user=""]')


def town_centre(page) -> None:
    lat, lon, zoom = TOWN_CENTRE_VIEW
    page.evaluate(f"window.cspAtlas.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")


def map_point(page, lat: float, lon: float) -> tuple[float, float]:
    """Page coordinates of a map location."""
    x, y = page.evaluate(f"(() => {{ const p = window.cspAtlas.map.latLngToContainerPoint([{lat}, {lon}]);"
                         "return [p.x, p.y]; })()")
    box = page.locator("#map").bounding_box()
    return box["x"] + x, box["y"] + y


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag a vertex handle of the shape being edited from one map location to another."""
    a, b = map_point(page, *start), map_point(page, *end)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, steps=4)
    page.mouse.move(*b, steps=4)
    page.mouse.up()


def settle(page) -> None:
    """Wait until the map has finished zooming (for screenshots)."""
    page.evaluate("""() => new Promise((resolve) => {
        const map = window.cspAtlas.map;
        const check = () => (map._animatingZoom || map._panAnim?._inProgress ? setTimeout(check, 50) : resolve());
        setTimeout(check, 80);
    })""")


def drawn(page) -> dict:
    return page.evaluate("window.cspAtlas.patrols.drawing.value()")


def wait_for_summary(page) -> None:
    page.wait_for_selector("#patrol-summary[data-state=ready]")


def shown_summary(page) -> dict:
    """The numbers the summary panel shows."""
    return page.evaluate("""() => {
        const s = document.getElementById('patrol-summary');
        const crime = s.querySelector('.ps-crime');
        return {
          area_km2: Number(s.querySelector('.ps-area').dataset.areaKm2),
          total: Number(crime.dataset.total), previous: Number(crime.dataset.previous),
          density: Number(s.querySelector('.ps-density').dataset.density),
          by_type: Object.fromEntries([...s.querySelectorAll('.ps-types tbody tr')].map(
            (r) => [r.dataset.type, [Number(r.dataset.count), Number(r.dataset.change)]])),
          wards_2024: [...s.querySelectorAll('.ps-areas[data-set="wards-2024"] tbody tr')].map((r) => r.dataset.code),
          wards_2013: [...s.querySelectorAll('.ps-areas[data-set="wards-2013"] tbody tr')].map((r) => r.dataset.code),
          lsoas: [...s.querySelectorAll('.ps-areas[data-set="lsoa-2011"] tbody tr')].map((r) => r.dataset.code),
          hotspots: Object.fromEntries([...s.querySelectorAll('.ps-hotspots li')].map(
            (li) => [li.dataset.layer, Number(li.dataset.records)])),
          gi: s.querySelectorAll('.ps-gi li').length,
          annotations: [...s.querySelectorAll('.ps-annotations li')].map((li) => li.dataset.annotation),
        };
    }""")


def api_summary(client, token: str, value: dict) -> dict:
    response = client.post("/api/patrol-areas/summary", json=value, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    codes = {s["set"]: [a["code"] for a in s["areas"]] for s in summary["areas"]}
    crime = summary["crime"]
    return {"area_km2": summary["area_km2"], "total": crime["total"], "previous": crime["previous_total"],
            "density": crime["density_per_km2"],
            "by_type": {r["slug"]: [r["count"], r["change"]] for r in crime["by_type"]},
            "wards_2024": codes["wards-2024"], "wards_2013": codes["wards-2013"], "lsoas": codes["lsoa-2011"],
            "hotspots": {h["layer"]: h["records"] for h in summary["hotspot_points"]},
            "gi": len(summary["gi_hot_spots"]), "annotations": [a["id"] for a in summary["annotations"]]}


def list_names(page) -> list[str]:
    return page.locator("#patrol-list li[data-id] button[data-open]").evaluate_all(
        "(buttons) => buttons.map((b) => b.textContent.trim())")


def only_expected_errors(errors: list[str], *codes: str) -> bool:
    return all(any(code in error for code in codes) for error in errors)


# --- sign-in --------------------------------------------------------------------------------------------------

def test_sign_in_shows_the_user_and_role_and_sign_out_removes_the_signed_in_features(page, live_server, people,
                                                                                   artifacts):
    open_map(page, live_server)
    assert page.locator("#patrols").is_hidden() and page.locator("#extra-layers").is_hidden()
    page.locator("#account .account-toggle").click()
    assert page.evaluate("document.activeElement.id") == "signin-username"
    page.get_by_label("Username").fill(people["a"]["username"])
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")
    error = page.locator(".signin-error")
    error.wait_for()
    assert "wrong username or password" in error.inner_text()  # the API's message
    page.screenshot(path=str(artifacts / "sign-in-error.png"))

    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#account[data-user="{people["a"]["username"]}"]')
    account = page.locator("#account").inner_text()
    assert people["a"]["username"] in account and "officer" in account
    assert "Signed in as" in page.locator("#account [role=status]").inner_text()
    # the features that need a signed-in officer appear without a reload
    page.wait_for_selector("#extra-layers:not([hidden])")
    assert page.locator("#patrols").is_visible()
    assert page.get_by_label("Needle finds").count() == 1
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""

    sign_out(page)
    assert page.locator("#account .account-toggle").is_visible()
    assert page.locator("#patrols").is_hidden() and page.locator("#extra-layers").is_hidden()
    assert page.evaluate("fetch('/api/session').then((r) => r.json())") == {"user": None}
    assert only_expected_errors(page.console_errors, "401")  # only the refused password


# --- hotspot layers -------------------------------------------------------------------------------------------

def test_hotspot_layers_follow_the_role_and_restricted_ones_stay_out_of_urls(browser, live_server, people, client,
                                                                            hotspot_users, artifacts):
    # a DCSM record to find (recorded by the DCSM member with write access)
    notes = f"e2e restricted note {uuid.uuid4().hex[:6]}"
    response = client.post("/api/hotspot-layers/dcsm-locations/points", json={
        "lon": 0.5262, "lat": 51.2718, "observed": "2022-06", "count": 2, "category": "e2e", "notes": notes},
        headers=bearer(hotspot_users["dcsm-writer"]["token"]))
    assert response.status_code == 201, response.get_json()

    # an officer: needle finds, no DCSM, and nothing of DCSM is even asked for
    officer = new_page(browser)
    requested = []
    officer.on("request", lambda request: requested.append(request.url))
    try:
        open_map(officer, live_server)
        sign_in(officer, people["a"]["username"])
        officer.wait_for_selector("#extra-layers:not([hidden])")
        offered = officer.locator("#extra-layers input").evaluate_all("(i) => i.map((x) => x.value)")
        assert "needle-finds" in offered and "dcsm-locations" not in offered  # (other tests add scratch layers)
        assert officer.locator("#extra-layers .badge-restricted").count() == 0
        officer.get_by_label("Needle finds").check()
        officer.wait_for_selector('#legend .legend-extra[data-layer="needle-finds"]')
        points = client.get("/api/hotspot-layers/needle-finds/points",
                            headers=bearer(people["a"]["token"])).get_json()
        locations = {tuple(f["geometry"]["coordinates"]) for f in points["features"]}
        assert officer.locator("path.hotspot-needle-finds").count() == len(locations)
        legend = officer.locator('#legend .legend-extra[data-layer="needle-finds"]')
        assert legend.get_attribute("data-unplaced") == str(points["summary"]["unplaced"])
        assert "INTERNAL" in legend.inner_text().upper() and f"{points['summary']['unplaced']} at places" in (
            legend.inner_text())
        assert parse_qs(urlparse(officer.url).query)["extra"] == ["needle-finds"]
        officer.locator("path.hotspot-needle-finds").first.click(force=True)
        popup = officer.locator(".hotspot-popup")
        popup.wait_for()
        assert "Whatman Park" in popup.inner_text() and "needle finds" in popup.inner_text()
        # the map period filters the records (from/to)
        officer.locator("#period").select_option("2022")
        officer.wait_for_function("document.querySelector('#legend .legend-extra')?.innerText.includes('2022')")
        assert any("needle-finds/points?from=2022&to=2022" in url for url in requested)
        assert not any("dcsm" in url for url in requested)
        assert "young people" not in officer.content()  # nor the DCSM's borough figures
        assert officer.console_errors == []
    finally:
        officer.context.close()

    # a DCSM-granted user: both layers; the restricted one is shown, but not put in the address or the embed code
    member = new_page(browser)
    try:
        open_map(member, live_server, "basemap=none&extra=needle-finds,dcsm-locations")
        sign_in(member, people["dcsm"]["username"])
        member.wait_for_selector("#extra-layers:not([hidden])")
        offered = member.locator("#extra-layers input").evaluate_all("(i) => i.map((x) => x.value)")
        assert {"needle-finds", "dcsm-locations"} <= set(offered)
        member.wait_for_selector('#legend .legend-extra[data-layer="needle-finds"]')
        assert not member.get_by_label("DCSM").is_checked(), "a restricted layer is never switched on from a URL"
        assert "dcsm" not in member.url
        member.get_by_label("DCSM").check()
        member.wait_for_selector('#legend .legend-extra[data-layer="dcsm-locations"]')
        dcsm = client.get("/api/hotspot-layers/dcsm-locations/points",
                          headers=bearer(people["dcsm"]["token"])).get_json()
        assert member.locator("path.hotspot-dcsm-locations").count() == len(
            {tuple(f["geometry"]["coordinates"]) for f in dcsm["features"]}) >= 1
        assert "RESTRICTED" in member.locator('#legend .legend-extra[data-layer="dcsm-locations"]').inner_text().upper()
        # the DCSM's borough figures (no locations) come with its legend, with where they were printed
        figure = member.locator('#legend .legend-extra[data-layer="dcsm-locations"] .legend-statistics'
                                '[data-key="young-people-2023"]')
        assert figure.inner_text().startswith("41 young people, 2023")
        figure.locator("summary").click()
        assert "paragraph 76, line 726" in figure.inner_text() and "41 young people were identified" in (
            figure.inner_text())
        assert "dcsm" not in member.url and "dcsm" not in member.locator("#share-link").input_value()
        assert "dcsm" not in member.locator("#share-embed").input_value()
        assert "extra=" not in member.locator("#share-embed").input_value()
        lat, lon = 51.2718, 0.5262
        member.evaluate(f"window.cspAtlas.map.setView([{lat}, {lon}], 17, {{animate: false}})")
        member.mouse.click(*map_point(member, lat, lon))
        member.locator(".hotspot-popup").wait_for()
        assert notes in member.locator(".hotspot-popup").inner_text()
        member.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        member.screenshot(path=str(artifacts / "signed-in-dcsm-layer.png"))

        # the embed view of the same state never asks for hotspot layers, even for a signed-in member
        embed_requests = []
        member.on("request", lambda request: embed_requests.append(urlparse(request.url).path))
        open_map(member, live_server, "basemap=none&extra=needle-finds,dcsm-locations", path="/embed")
        member.wait_for_load_state("networkidle")
        assert not any(path.startswith("/api/hotspot-layers") or path == "/api/session" for path in embed_requests)
        assert member.locator("path.hotspot-record").count() == 0

        # signing out leaves nothing restricted on the page
        open_map(member, live_server)
        member.wait_for_selector("#extra-layers:not([hidden])")
        member.get_by_label("DCSM").check()
        member.wait_for_selector("path.hotspot-dcsm-locations")
        sign_out(member)
        assert member.locator("path.hotspot-record").count() == 0
        assert member.locator("#legend .legend-extra").count() == 0
        assert member.locator("#extra-layers input").count() == 0
        assert member.console_errors == []
    finally:
        member.context.close()


# --- patrol areas ---------------------------------------------------------------------------------------------

def test_patrol_area_drawn_by_mouse_with_live_summary_saved_edited_archived_and_restored(page, live_server, people,
                                                                                         client, artifacts):
    token = people["a"]["token"]
    open_map(page, live_server)
    sign_in(page, people["a"]["username"])
    town_centre(page)
    page.get_by_role("button", name="Draw area").click()
    page.wait_for_selector("#patrol-bar[data-mode=drawing]")
    corners = [(51.2745, 0.5165), (51.2745, 0.5265), (51.2690, 0.5280), (51.2685, 0.5175)]
    for lat, lon in corners[:3]:
        page.mouse.click(*map_point(page, lat, lon))
    # three corners: the summary already follows the (closed) shape being drawn
    wait_for_summary(page)
    assert shown_summary(page) == api_summary(client, token, drawn(page))
    page.screenshot(path=str(artifacts / "patrol-area-drawing.png"))
    page.mouse.click(*map_point(page, *corners[3]))
    page.mouse.click(*map_point(page, *corners[0]))  # the first corner closes the area
    page.wait_for_selector("#patrol-bar[data-mode=shape]")
    page.wait_for_function("window.cspAtlas.patrols.summary.lastRequest?.geometry?.coordinates[0].length === 5")
    wait_for_summary(page)
    value = drawn(page)
    assert value["geometry"]["type"] == "Polygon" and len(value["geometry"]["coordinates"][0]) == 5
    shown = shown_summary(page)
    assert shown == api_summary(client, token, value)
    assert shown["total"] > 0 and shown["wards_2024"] and shown["wards_2013"] and shown["lsoas"]
    assert "E05015603" in shown["wards_2024"]  # High Street
    assert "lsoa-e01033090-serious-violence" in shown["annotations"]  # the assessment's first LSOA of concern
    bar = page.locator("#patrol-bar").inner_text()
    assert "km²" in bar and f"{shown['total']:,}" in bar

    # edit a vertex by dragging it: the summary follows
    page.locator("#patrol-bar").get_by_role("button", name="Edit vertices").click()
    page.wait_for_selector("#patrol-bar[data-mode=editing]")
    drag(page, corners[2], (51.2660, 0.5300))
    page.wait_for_function(f"window.cspAtlas.patrols.summary.last?.area_km2 > {shown['area_km2']}")
    wait_for_summary(page)
    edited = drawn(page)
    assert shown_summary(page) == api_summary(client, token, edited)
    page.locator("#patrol-bar").get_by_role("button", name="Done editing").click()
    page.screenshot(path=str(artifacts / "patrol-area-drawn.png"))

    # save, rename (history), archive and restore
    name = f"Week Street evenings {uuid.uuid4().hex[:4]}"
    page.locator("#patrol-name").fill(name)
    page.locator("#patrol-from").fill("2022-12-01")
    page.locator("#patrol-to").fill("2022-12-31")
    page.locator("#patrol-notes").fill("Night-time economy, Fridays and Saturdays")
    page.get_by_role("button", name="Save area").click()
    page.wait_for_function(f"document.getElementById('patrol-message').textContent.includes('Saved “{name}”')")
    assert people["a"]["team"] in page.locator("#patrol-message").inner_text()
    page.wait_for_function(f"[...document.querySelectorAll('#patrol-list button')].some((b) => "
                           f"b.textContent.trim() === '{name}')")
    saved_id = page.evaluate("window.cspAtlas.patrols.current.id")
    stored = client.get(f"/api/patrol-areas/{saved_id}", headers=bearer(token)).get_json()
    assert shape(stored["geometry"]).symmetric_difference(shape(edited["geometry"])).area < 1e-10
    assert stored["properties"]["date_from"] == "2022-12-01" and stored["properties"]["notes"].startswith("Night")

    # change the saved area's shape and name: one PATCH with the geometry, and the history has both
    page.locator("#patrol-bar").get_by_role("button", name="Edit vertices").click()
    drag(page, corners[1], (51.2760, 0.5280))
    page.wait_for_function("window.cspAtlas.patrols.dirty")
    page.locator("#patrol-bar").get_by_role("button", name="Done editing").click()
    reshaped = drawn(page)
    renamed = f"{name} (late)"
    page.locator("#patrol-name").fill(renamed)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_function(f"[...document.querySelectorAll('#patrol-list button')].some((b) => "
                           f"b.textContent.trim() === '{renamed}')")
    stored = client.get(f"/api/patrol-areas/{saved_id}", headers=bearer(token)).get_json()
    assert shape(stored["geometry"]).symmetric_difference(shape(reshaped["geometry"])).area < 1e-10
    page.get_by_role("button", name="History").click()
    history = page.locator("#patrol-history")
    history.wait_for()
    assert [a for a in history.locator("> li").evaluate_all("(l) => l.map((x) => x.dataset.action)")] == [
        "create", "update"]
    assert f"Name: “{name}” → “{renamed}”" in history.inner_text() and "Shape changed" in history.inner_text()

    page.get_by_role("button", name="Archive").click()
    page.wait_for_function("document.getElementById('patrol-message').textContent.startsWith('Archived')")
    assert renamed not in list_names(page)
    page.get_by_label("Include archived areas").check()
    page.get_by_role("button", name=f"Restore {renamed}").click()
    page.wait_for_function("document.getElementById('patrol-message').textContent.startsWith('Restored')")
    page.get_by_label("Include archived areas").uncheck()
    page.wait_for_function(f"[...document.querySelectorAll('#patrol-list li:not(.archived) button')].some((b) => "
                           f"b.textContent.trim() === '{renamed}')")
    history = client.get(f"/api/patrol-areas/{saved_id}/history", headers=bearer(token)).get_json()["history"]
    assert [h["action"] for h in history] == ["create", "update", "archive", "restore"]

    # the export links of the open area answer with the right files
    links = page.locator(".patrol-exports a")
    assert links.count() == 3
    for link in links.all():
        href = link.get_attribute("href")
        response = page.request.get(f"{live_server}{href}")
        assert response.status == 200, href
        assert response.headers["content-type"].startswith(EXPORT_TYPES[link.get_attribute("data-format")])
    page.screenshot(path=str(artifacts / "patrol-area-saved.png"), full_page=True)
    assert page.console_errors == []


def test_route_drawn_from_the_keyboard_with_a_buffer(page, live_server, people, client):
    open_map(page, live_server)
    sign_in(page, people["a"]["username"])
    town_centre(page)
    page.get_by_label("Route buffer").fill("40")
    page.get_by_label("Route buffer").press("Tab")
    page.get_by_role("button", name="Draw route").click()
    page.wait_for_selector("#patrol-bar[data-mode=drawing]")
    assert page.evaluate("document.activeElement.dataset.act") == "centre"
    page.keyboard.press("Enter")  # a point at the map centre (the crosshair)
    page.evaluate("window.cspAtlas.map.panBy([0, -250], {animate: false})")  # as the arrow keys would
    page.keyboard.press("Enter")
    page.evaluate("window.cspAtlas.map.panBy([200, -50], {animate: false})")
    page.keyboard.press("Enter")
    page.locator("#patrol-bar").get_by_role("button", name="Finish").click()
    page.wait_for_selector("#patrol-bar[data-mode=shape]")
    wait_for_summary(page)
    value = drawn(page)
    assert value["geometry"]["type"] == "LineString" and len(value["geometry"]["coordinates"]) == 3
    assert value["buffer_m"] == 40
    shown = shown_summary(page)
    assert shown == api_summary(client, people["a"]["token"], value)
    assert 0.02 < shown["area_km2"] < 0.2  # about 400 m of route, 80 m wide, with round ends
    assert page.console_errors == []


def test_a_suggested_area_is_adopted_and_saved(page, live_server, people, client, artifacts):
    open_map(page, live_server, "basemap=none&period=2022")
    sign_in(page, people["a"]["username"])
    page.locator("#patrol-suggest summary").click()
    with page.expect_response(lambda r: "/api/patrol-areas/suggest" in r.url) as answer:
        page.get_by_role("button", name="Suggest areas", exact=True).click()
    url = answer.value.url
    query = parse_qs(urlparse(url).query)
    assert query["metric"] == ["all-crime"] and query["period"] == ["2022"]
    assert {k: query[k][0] for k in ("n", "eps", "min_points")} == {"n": "5", "eps": "100", "min_points": "10"}
    expected = client.get(urlparse(url).path + "?" + urlparse(url).query,
                          headers=bearer(people["a"]["token"])).get_json()["features"]
    page.wait_for_selector("#suggest-list li[data-rank]")
    assert page.locator("#suggest-list li[data-rank]").count() == len(expected) >= 1
    assert page.locator("path.patrol-suggestion").count() == len(expected)
    page.locator("#suggest-list").scroll_into_view_if_needed()
    settle(page)
    page.screenshot(path=str(artifacts / "patrol-suggestions.png"))
    page.get_by_role("button", name="Adopt suggestion 1").click()
    page.wait_for_selector("#patrol-bar[data-mode=shape]")
    wait_for_summary(page)
    assert page.locator("#patrol-name").input_value() == expected[0]["properties"]["name"]
    adopted = drawn(page)
    suggested = shape(expected[0]["geometry"])
    assert shape(adopted["geometry"]).symmetric_difference(suggested).area < 1e-4 * suggested.area  # 6 decimals
    assert shown_summary(page) == api_summary(client, people["a"]["token"], adopted)
    assert page.locator("path.patrol-suggestion").count() == 0
    page.get_by_role("button", name="Save area").click()
    page.wait_for_function("document.getElementById('patrol-message').textContent.startsWith('Saved')")
    page.wait_for_function("(name) => [...document.querySelectorAll('#patrol-list button')].some("
                           "(b) => b.textContent.trim() === name)", arg=expected[0]["properties"]["name"])
    assert page.console_errors == []


def test_other_teams_do_not_see_an_area_and_users_without_a_team_are_told(page, live_server, people, client):
    created = client.post("/api/patrol-areas", json={"name": f"Team A only {uuid.uuid4().hex[:4]}",
                                                      "geometry": TOWN_CENTRE},
                          headers=bearer(people["a"]["token"]))
    assert created.status_code == 201
    area = created.get_json()
    open_map(page, live_server)
    sign_in(page, people["b"]["username"])
    page.wait_for_selector("#patrol-list li")
    assert area["properties"]["name"] not in list_names(page)
    assert page.request.get(f"{live_server}/api/patrol-areas/{area['id']}").status == 404
    sign_out(page)

    sign_in(page, people["none"]["username"])
    page.wait_for_selector("#patrols:not([hidden])")
    page.evaluate("(geometry) => window.cspAtlas.patrols.drawing.show(geometry)", TOWN_CENTRE)
    wait_for_summary(page)
    page.locator("#patrol-name").fill("Nobody's area")
    page.get_by_role("button", name="Save area").click()
    message = page.locator("#patrol-message")
    page.wait_for_function("document.getElementById('patrol-message').textContent.startsWith('Not saved')")
    assert "you belong to no team" in message.inner_text() and message.get_attribute("role") == "alert"
    assert only_expected_errors(page.console_errors, "400", "404")


def test_phone_width_sign_in_and_drawing(phone_page, live_server, people, artifacts):
    page = phone_page
    open_map(page, live_server)
    sign_in(page, people["a"]["username"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("button", name="Map options", exact=True).click()
    page.wait_for_function("getComputedStyle(document.getElementById('panel')).transform === 'none'")
    page.locator("#patrols").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "patrol-phone-panel.png"))
    page.get_by_role("button", name="Draw area").click()
    page.wait_for_selector("#patrol-bar[data-mode=drawing]")
    page.wait_for_function("!document.body.classList.contains('panel-open')")  # the drawer makes room for the map
    for dx, dy in ((-60, -60), (60, -60), (0, 50)):
        page.evaluate(f"window.cspAtlas.map.panBy([{dx}, {dy}], {{animate: false}})")
        page.locator("#patrol-bar").get_by_role("button", name="Add point at map centre").click()
    page.locator("#patrol-bar").get_by_role("button", name="Finish").click()
    page.wait_for_function("document.querySelector('.patrol-bar-summary').textContent.includes('km²')")
    page.screenshot(path=str(artifacts / "patrol-phone-drawn.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.console_errors == []


# --- downloads of the map state (share panel and embed view) ----------------------------------------------------

def check_downloads(page, live_server: str, hrefs: list[str], state: dict[str, str], set_path: str) -> None:
    assert len(hrefs) == 6
    for href in hrefs:
        url = urlparse(href)
        kind, fmt = ("maps" if url.path.startswith("/api/maps/") else "exports"), url.path.split(".", 1)[1]
        assert url.path == f"/api/{kind}/{set_path}.{fmt}"
        assert {k: v[0] for k, v in parse_qs(url.query).items()} == state, href
        response = page.request.get(f"{live_server}{href}")
        assert response.status == 200, href
        assert response.headers["content-type"].startswith(DOWNLOAD_TYPES[fmt]), href


def test_share_panel_and_embed_link_the_files_of_the_same_state(page, live_server, artifacts):
    query = "set=wards-2013&metric=asb&period=2022&measure=density&method=quantiles&k=4&palette=Blues&basemap=none"
    open_map(page, live_server, query)
    state = {"metric": "asb", "period": "2022", "measure": "density", "method": "quantiles", "k": "4",
             "palette": "Blues"}
    hrefs = page.locator("#downloads a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    check_downloads(page, live_server, hrefs, state, "wards-2013")
    page.locator("#downloads").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "share-downloads.png"))

    page.get_by_label("Boundaries").select_option("wards-2013:clusters")
    page.wait_for_selector('#map[data-layer-state=ready][data-layer-url*="/clusters"]')
    clusters = page.locator("#downloads a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert all("/wards-2013/clusters." in href for href in clusters)

    open_map(page, live_server, query + "&clusters=1", path="/embed")
    page.locator(".embed-downloads summary").click()
    page.screenshot(path=str(artifacts / "embed-downloads.png"))
    embed = page.locator(".embed-downloads a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert embed == clusters
    check_downloads(page, live_server, embed, state, "wards-2013/clusters")
    assert page.console_errors == []


def test_an_officer_records_a_needle_find_by_clicking_the_map(page, live_server, people, client, engine, artifacts):
    open_map(page, live_server)
    assert page.locator(".capture-button").count() == 0, "no recording for anonymous visitors"
    sign_in(page, people["a"]["username"])
    page.wait_for_selector(".capture-button")
    town_centre(page)
    settle(page)
    page.locator(".capture-button").click()
    lat, lon = 51.27431, 0.52112
    page.mouse.click(*map_point(page, lat, lon))
    form = page.locator(".capture-form")
    form.wait_for()
    form.get_by_label("Layer").select_option("needle-finds")
    form.get_by_label("Observed").fill("2023-06-14")
    form.get_by_label("Count").fill("3")
    category = f"e2e-{uuid.uuid4().hex[:6]}"
    form.get_by_label("Category").fill(category)
    form.get_by_label("Notes").fill("by the river steps")
    form.get_by_role("button", name="Save record").click()
    page.wait_for_selector(".capture-form", state="detached")
    page.wait_for_selector(".hotspot-needle-finds")
    page.screenshot(path=str(artifacts / "hotspot-record-added.png"))
    points = client.get("/api/hotspot-layers/needle-finds/points?from=2023-06-14&to=2023-06-14",
                        headers=bearer(people["a"]["token"])).get_json()["features"]
    mine = [f for f in points if f["properties"].get("category") == category]
    assert len(mine) == 1
    saved_lon, saved_lat = mine[0]["geometry"]["coordinates"]
    assert saved_lon == pytest.approx(lon, abs=2e-4) and saved_lat == pytest.approx(lat, abs=2e-4)
    assert mine[0]["properties"]["count"] == 3
    assert mine[0]["properties"]["recorded_by"] == people["a"]["username"]
    assert "needle-finds" in page.url, "the layer is switched on to show the new record"
    assert page.console_errors == []


def test_a_refused_record_shows_the_api_message(page, live_server, people):
    open_map(page, live_server)
    sign_in(page, people["a"]["username"])
    page.locator(".capture-button").click()
    page.mouse.click(*map_point(page, 51.27, 0.52))
    form = page.locator(".capture-form")
    form.get_by_label("Observed").fill("")
    form.get_by_role("button", name="Save record").click()
    error = form.locator(".capture-error")
    error.wait_for()
    page.wait_for_function("document.querySelector('.capture-error').textContent.length > 0")
    assert "observed" in error.inner_text().lower()
