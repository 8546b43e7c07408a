"""Hostile strings in every field that reaches a page are shown as text and never run.

A gis user uploads a boundary set whose title, area names and ONS codes are markup that would run if inserted as HTML;
an internal hotspot layer has such a title and unit, its records such places, categories, notes and recorders; a team,
a patrol area (name, notes, creator, history) likewise. What no user can write here (metric titles, units, sources,
notes, crime types and locations, the signed-in username, API error messages) is rewritten in the API's answers on the
way to the page. Then every view is driven: tooltip, popup, values table, find, legend, controls, share, embed code,
downloads, the embed page, sign-in bar, record layers and their popups, the record form and its error, patrol list,
area, history, summary and suggestions, crime markers.

Each test runs twice. With the Content-Security-Policy header stripped from the page, an inline handler that got in
would run: that proves the encoding on its own. With the header kept, the client must also work without one
violation report. Either way no element of a payload may exist in the DOM, and its literal text is where it belongs.
"""

from __future__ import annotations

import io
import json
import uuid
from html.parser import HTMLParser
from urllib.parse import quote, urlparse

import pytest
from sqlalchemy import text

from server.domain import accounts
from server.store import patrols as patrol_store
from server.store.db import transaction
from tests.conftest import GEODATA, PASSWORD, bearer
from tests.e2e.test_signed_in import TOWN_CENTRE, map_point, open_map, settle

pytestmark = pytest.mark.e2e

XSS = "window.__xss=(window.__xss||0)+1"
# every element or attribute a payload could create if it were parsed as HTML
INJECTED = ('img[src="x"], svg[onload], script:not([src]), a[href^="javascript:" i], iframe, object, embed, '
            "[onerror], [onload], [onmouseover], [onclick], [onfocus], [data-x]")
COLLECT_VIOLATIONS = """
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
      `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} ${e.sample} `
      + `on ${e.target?.outerHTML?.slice(0, 120) || e.target}`));
"""


def hostile(tag: str) -> list[str]:
    """Markup that runs when parsed as HTML (or followed as a link), each ending in a tag to find its text by."""
    return [f'<img src=x onerror="{XSS}">{tag}', f'<svg onload="{XSS}">{tag}', f'"><script>{XSS}</script>{tag}',
            f"' onmouseover='{XSS}' data-x='{tag}", f'<a href="javascript:{XSS}">{tag}</a>', f"javascript:{XSS}//{tag}"]


def one(tag: str, kind: int = 0) -> str:
    return hostile(tag)[kind]


# --- what the database holds -------------------------------------------------------------------------------------

def new_user(engine, username: str, role: str, team: str | None = None) -> str:
    """A user with a password for the browser and a token for the API."""
    with transaction(engine) as session:
        accounts.create_user(session, username, PASSWORD, role)
        if team:
            patrol_store.set_user_team(session, username, team)
        return accounts.issue_token(session, username, "hostile strings")


def hostile_wards(names: list[str], codes: list[str]) -> bytes:
    collection = json.loads((GEODATA / "maidstone_wards_2013.geojson").read_bytes())
    for feature, name, code in zip(collection["features"], names, codes, strict=True):
        feature["properties"].update(WD13NM=name, WD13CD=code)
    return json.dumps(collection).encode()


@pytest.fixture(scope="module")
def world(app, engine, tokens):
    suffix = uuid.uuid4().hex[:8]
    client = app.test_client()
    names = [one(f"ward{i}", i % 6) for i in range(26)]
    codes = [f"<img src=x onerror=__xss={i}>" for i in range(26)]  # ONS codes are at most 32 characters
    set_id, set_title = f"test-xss-{suffix}", one("set-title", 1)
    form = {"file": (io.BytesIO(hostile_wards(names, codes)), "wards.geojson"), "id": set_id, "kind": "ward",
            "code_field": "WD13CD", "name_field": "WD13NM", "valid_from": "2013-05-02", "title": set_title}
    response = client.post("/api/boundary-sets", data=form, headers=bearer(tokens["gis"]))
    assert response.status_code == 201, response.get_json()

    layer = {"id": f"test-xss-{suffix}", "title": one("layer-title", 2), "unit": one("unit", 0)[:80]}
    with transaction(engine) as session:
        session.execute(text("""
            INSERT INTO hotspot_layers (id, title, description, sensitivity, owner_team, retention_months,
                                        retention_note, count_unit)
            VALUES (:id, :title, 'hostile strings test', 'internal', 'tests', 12, '', :unit)"""), layer)
    officer = {"username": f"xss-officer-{suffix}", "team": one("team", 3)}
    officer["token"] = new_user(engine, officer["username"], "officer", officer["team"])
    record = {"place": one("place", 0), "category": one("category", 1)[:120], "notes": one("notes", 4),
              "recorded_by": one("recorder", 2)}
    for lon, lat, observed in ((0.5262, 51.2718, "2022-06"), (0.5262, 51.2718, "2022-07"),
                               (0.5210, 51.2740, "2022-06")):
        body = {"lon": lon, "lat": lat, "observed": observed, "count": 2, "place": record["place"],
                "category": record["category"], "notes": record["notes"]}
        response = client.post(f"/api/hotspot-layers/{layer['id']}/points", json=body,
                               headers=bearer(officer["token"]))
        assert response.status_code == 201, response.get_json()

    patrol = {"name": one("patrol", 0), "renamed": one("renamed", 1), "notes": one("patrol-notes", 2),
              "creator": one("creator", 3), "changer": one("changer", 4)}
    response = client.post("/api/patrol-areas", json={"name": patrol["name"], "geometry": TOWN_CENTRE,
                                                      "date_from": "2022-11-01", "notes": patrol["notes"]},
                           headers=bearer(officer["token"]))
    assert response.status_code == 201, response.get_json()
    patrol["id"] = response.get_json()["id"]
    response = client.patch(f"/api/patrol-areas/{patrol['id']}", json={"name": patrol["renamed"]},
                            headers=bearer(officer["token"]))
    assert response.status_code == 200, response.get_json()
    # Names of people are stored as text: these stand for accounts named before usernames were checked.
    with transaction(engine) as session:
        session.execute(text("UPDATE hotspot_points SET recorded_by = :by WHERE layer_id = :layer"),
                        {"by": record["recorded_by"], "layer": layer["id"]})
        session.execute(text("UPDATE patrol_areas SET created_by = :by WHERE id = :id"),
                        {"by": patrol["creator"], "id": patrol["id"]})
        session.execute(text("UPDATE patrol_area_history SET changed_by = :by WHERE patrol_area_id = :id"),
                        {"by": patrol["changer"], "id": patrol["id"]})

    yield {"set": {"id": set_id, "title": set_title, "names": names, "codes": codes}, "layer": layer,
           "officer": officer, "record": record, "patrol": patrol}
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})
        session.execute(text("UPDATE patrol_areas SET archived_at = now() WHERE id = :id"), {"id": patrol["id"]})


# --- what no user can write: rewritten in the API's answers ------------------------------------------------------

POISON = {
    "metric": one("metric-title", 0), "unit": one("metric-unit", 1), "legend": one("legend-title", 2),
    "source": one("source", 3), "note": one("legend-note", 4), "date": one("data-date", 5),
    "interpolation": one("interpolation", 0), "crime-type": one("crime-type", 1), "location": one("location", 2),
    "username": one("username", 0)[:80], "error": one("api-error", 1), "summary-type": one("summary-type", 3),
    "gi": one("gi-spot", 4), "summary-note": one("summary-note", 5),
}


def poison_metrics(body: dict) -> None:
    for metric in body["metrics"]:
        metric["title"] = f"{POISON['metric']} {metric['title']}"
        metric["unit"] = POISON["unit"]


def poison_layer(body: dict) -> None:
    if "legend" not in body:
        return  # an error answer
    body["legend"].update(title=POISON["legend"], unit=POISON["unit"])
    body["legend"]["notes"] = [*body["legend"].get("notes", []), POISON["note"]]
    body["metadata"].update(source=POISON["source"], data_date=POISON["date"], interpolation=POISON["interpolation"])


def poison_points(body: dict) -> None:
    body["metadata"]["crime_types"] = {slug: POISON["crime-type"] for slug in body["metadata"]["crime_types"]}
    body["metadata"]["metric"]["title"] = POISON["metric"]
    for feature in body["features"]:
        feature["properties"]["location"] = POISON["location"]


def poison_session(body: dict) -> None:
    if body.get("user"):
        body["user"]["username"] = POISON["username"]


def poison_summary(body: dict) -> None:
    crime = body.get("crime")
    if crime:
        crime["note"] = POISON["summary-note"]
        for row in crime["by_type"]:
            row["type"] = POISON["summary-type"]
    body["gi_hot_spots"] = [POISON["gi"]]


def rewrite(page, path_test, mutate) -> None:
    def handle(route) -> None:
        if not path_test(urlparse(route.request.url).path):
            route.fallback()
            return
        response = route.fetch()
        if "json" not in response.headers.get("content-type", ""):
            route.fulfill(response=response)
            return
        body = response.json()
        mutate(body)
        route.fulfill(response=response, json=body)

    page.route("**/api/**", handle)


def strip_csp(route) -> None:
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


@pytest.fixture(params=["csp-stripped", "csp-enforced"])
def hostile_page(request, browser, live_server):
    """A page whose API answers carry hostile strings; the page's CSP is removed in the csp-stripped run."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.mode = request.param
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.probe_requests = []
    page.on("request", lambda r: page.probe_requests.append(r.url) if urlparse(r.url).path == "/x" else None)
    page.add_init_script(COLLECT_VIOLATIONS)
    rewrite(page, lambda p: p == "/api/metrics", poison_metrics)
    rewrite(page, lambda p: p.startswith("/api/layers/"), poison_layer)
    rewrite(page, lambda p: p == "/api/crime/points", poison_points)
    rewrite(page, lambda p: p == "/api/session", poison_session)
    rewrite(page, lambda p: p.startswith("/api/patrol-areas/") and p.endswith("summary"), poison_summary)
    if request.param == "csp-stripped":
        page.route(lambda url: urlparse(url).path in ("/", "/embed"), strip_csp)
    yield page
    # A handler still rewriting an answer when the page goes would raise in the next test's first call (its response
    # body disposed): unroute first, ignoring what the handlers in flight raise.
    page.unroute_all(behavior="ignoreErrors")
    context.close()


def assert_inert(page) -> None:
    """Nothing of a payload ran or became an element, and (with the CSP) nothing was blocked."""
    state = page.evaluate(f"""() => ({{
        xss: window.__xss === undefined ? null : window.__xss,
        injected: [...document.querySelectorAll('{INJECTED}')].map((e) => e.outerHTML.slice(0, 160)),
        violations: window.__cspViolations || [],
    }})""")
    assert state["xss"] is None, "a payload ran"
    assert state["injected"] == []
    assert page.probe_requests == [], "an injected <img src=x> was loaded"
    assert state["violations"] == []
    assert [e for e in page.console_errors if "Content Security Policy" in e or "__xss" in e] == []


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def parse_html(code: str) -> list[tuple[str, dict[str, str | None]]]:
    """The elements of an HTML snippet and their (decoded) attributes, as a browser would build them."""
    parser = _Elements()
    parser.feed(code)
    parser.close()
    return parser.found


def texts(page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("(els) => els.map((e) => e.textContent.trim())")


def hover_ward_at_centre(page) -> str:
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.move(x + 4, y + 4)
    tooltip = page.locator(".leaflet-tooltip.area-label")
    tooltip.wait_for()
    return tooltip.locator("strong").text_content()


# --- the tests -----------------------------------------------------------------------------------------------------

def test_areas_legend_table_find_share_and_controls(hostile_page, live_server, world, artifacts):
    page, wards = hostile_page, world["set"]
    open_map(page, live_server, f"set={wards['id']}&metric=all-crime&period=2022&basemap=none")

    # tooltip: the name as text, the code as text
    name = hover_ward_at_centre(page)
    assert name in wards["names"]
    tooltip = page.locator(".leaflet-tooltip.area-label").text_content()
    assert wards["codes"][wards["names"].index(name)] in tooltip
    page.screenshot(path=str(artifacts / f"hostile-tooltip-{page.mode}.png"))
    page.mouse.move(2, 2)

    # values table: every name and code, as text and as data-code
    assert sorted(texts(page, "#values-table button[data-code]")) == sorted(wards["names"])
    codes = page.locator("#values-table button[data-code]").evaluate_all("(b) => b.map((x) => x.dataset.code)")
    assert sorted(codes) == sorted(wards["codes"])
    assert texts(page, "#values-table caption") == [f"{POISON['legend']}: {POISON['unit']}"]

    # find: the list offers "name (code)"; finding one opens its popup
    offered = page.locator("#find-list option").evaluate_all("(o) => o.map((x) => x.value)")
    assert sorted(offered) == sorted(f"{n} ({c})" for n, c in zip(wards["names"], wards["codes"], strict=True))
    page.locator("#find-input").fill(wards["names"][4])
    page.locator("#find button[type=submit]").click()
    popup = page.locator(".area-popup")
    popup.wait_for()
    assert popup.locator("h2").text_content() == wards["names"][4]
    assert popup.locator("code").text_content() == wards["codes"][4]
    assert POISON["unit"] in popup.text_content()
    page.wait_for_function("!document.querySelector('.popup-change').textContent.includes('loading')")
    page.wait_for_function("(name) => document.getElementById('status').textContent.includes(name)",
                           arg=wards["names"][4])
    settle(page)
    page.screenshot(path=str(artifacts / f"hostile-popup-{page.mode}.png"))

    # legend: title, unit, source, date, boundaries, notes, interpolation
    legend = page.locator("#legend")
    assert legend.locator(".legend-title").text_content() == POISON["legend"]
    assert POISON["unit"] in legend.locator(".legend-sub").text_content()
    about = legend.locator(".legend-about-list").text_content()
    for key in ("source", "date", "note", "interpolation"):
        assert POISON[key] in about, key
    assert wards["title"] in about

    # controls: metric titles and the boundary set's title are option text
    assert all(t.startswith(POISON["metric"]) for t in texts(page, "#metric option"))
    assert any(wards["title"] in t for t in texts(page, "#boundaries option"))

    # share: the embed code is HTML whose attributes hold the title; the download links stay on our API
    elements = parse_html(page.locator("#share-embed").input_value())
    assert [tag for tag, _ in elements] == ["iframe"]
    iframe = elements[0][1]
    assert iframe["title"] == POISON["legend"] and iframe["src"].startswith(f"{live_server}/embed?set={wards['id']}")
    hrefs = page.locator("#downloads a").evaluate_all("(a) => a.map((x) => x.getAttribute('href'))")
    assert len(hrefs) == 6 and all(h.startswith("/api/") and wards["id"] in h for h in hrefs)
    assert_inert(page)


def test_api_error_messages_are_text(hostile_page, live_server):
    page = hostile_page
    page.goto(f"{live_server}/?set=wards-2024&palette={quote(POISON['error'])}&basemap=none")
    page.wait_for_selector("body[data-ready] #map[data-layer-state=error]")
    message = page.locator("#legend .legend-empty").text_content()
    assert f"unknown palette '{POISON['error']}'" in message
    assert POISON["error"] in page.locator("#status").text_content()
    assert_inert(page)


def test_embed_page(hostile_page, live_server, world):
    page, wards = hostile_page, world["set"]
    open_map(page, live_server, f"set={wards['id']}&metric=all-crime&period=2022&basemap=none", path="/embed")
    assert hover_ward_at_centre(page) in wards["names"]
    page.mouse.move(2, 2)
    assert page.locator("#legend .legend-title").text_content() == POISON["legend"]
    page.locator(".embed-downloads summary").click()
    hrefs = page.locator(".embed-downloads a").evaluate_all("(a) => a.map((x) => x.getAttribute('href'))")
    assert len(hrefs) == 6 and all(h.startswith("/api/") for h in hrefs)
    assert page.locator(".embed-title > a").get_attribute("href").startswith("/?")
    assert_inert(page)


def test_crime_markers_and_heat_legend(hostile_page, live_server):
    page = hostile_page
    open_map(page, live_server, "metric=all-crime&period=2022-06&basemap=none&heat=1&markers=1&view=17/51.2725/0.5225")
    page.wait_for_selector("#map[data-markers-state=ready]")
    assert POISON["metric"] in page.locator("#legend .legend-heat").text_content()
    page.evaluate("""() => new Promise((resolve) => {
        const marker = window.cspAtlas.hotspots.markers.getLayers()[0];
        window.cspAtlas.hotspots.markers.zoomToShowLayer(marker, () => { marker.openPopup(); resolve(); });
    })""")
    popup = page.locator(".crime-popup")
    popup.wait_for()
    assert popup.locator("h2").text_content() == POISON["crime-type"]
    assert POISON["location"] in popup.text_content()
    assert_inert(page)


def test_signed_in_bar_records_form_and_patrols(hostile_page, live_server, world, artifacts):
    page, layer, record, patrol = hostile_page, world["layer"], world["record"], world["patrol"]
    open_map(page, live_server, "metric=all-crime&basemap=none")
    page.locator("#account .account-toggle").click()
    page.get_by_label("Username").fill(world["officer"]["username"])
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#signin-form button[type=submit]").click()
    page.wait_for_function("(name) => document.getElementById('account').dataset.user === name", arg=POISON["username"])
    assert page.locator("#account .account-name").text_content().split() == [
        "Signed", "in", "as", *POISON["username"].split(), "officer"]
    assert POISON["username"] in page.locator("#account [role=status]").text_content()

    # the record layer: checkbox label, legend, popups with place, category, notes and recorder
    page.wait_for_selector("#extra-layers:not([hidden])")
    label = page.locator("#extra-layers label", has=page.locator(f'input[value="{layer["id"]}"]'))
    assert label.text_content().split()[:len(layer["title"].split())] == layer["title"].split()
    label.locator("input").check()
    legend = page.locator(f'#legend .legend-extra[data-layer="{layer["id"]}"]')
    legend.wait_for()
    assert layer["title"] in legend.text_content() and layer["unit"] in legend.text_content()
    page.evaluate("window.cspAtlas.map.setView([51.2718, 0.5262], 17, {animate: false})")
    page.mouse.click(*map_point(page, 51.2718, 0.5262))
    popup = page.locator(".hotspot-popup")
    popup.wait_for()
    assert popup.locator("h2").text_content().startswith(layer["title"])
    shown = popup.text_content()
    for key in ("place", "category", "notes", "recorded_by"):
        assert record[key] in shown, key
    settle(page)
    page.screenshot(path=str(artifacts / f"hostile-records-{page.mode}.png"))
    page.evaluate("window.cspAtlas.map.closePopup()")

    # the record form: the layer's title as an option; the API's refusal as text
    def refuse(route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fulfill(status=400, json={"error": {"status": 400, "message": POISON["error"]}})

    page.route("**/api/hotspot-layers/*/points", refuse)
    page.locator(".capture-button").click()
    page.mouse.click(*map_point(page, 51.2722, 0.5245))
    form = page.locator(".capture-form")
    form.wait_for()
    assert layer["title"] in texts(page, ".capture-form select option")
    form.locator("select").select_option(layer["id"])
    form.locator("button[type=submit]").click()
    page.wait_for_function("(m) => document.querySelector('.capture-error').textContent === m", arg=POISON["error"])
    assert_inert(page)
    page.evaluate("window.cspAtlas.map.closePopup()")

    # patrol areas: list, the open area, its history, the summary, suggestions and their error
    page.wait_for_selector("#patrols:not([hidden])")
    page.wait_for_selector("#patrol-list button[data-open]")
    assert patrol["renamed"] in texts(page, "#patrol-list button[data-open]")
    assert texts(page, "#patrol-team") == [f"of {world['officer']['team']}"]
    page.locator(f'#patrol-list button[data-open="{patrol["id"]}"]').click()
    page.wait_for_selector("#patrol-open:not([hidden])")
    assert page.locator("#patrol-name").input_value() == patrol["renamed"]
    assert page.locator("#patrol-notes").input_value() == patrol["notes"]
    meta = page.locator(".patrol-open-meta").text_content()
    assert world["officer"]["team"] in meta and patrol["creator"] in meta
    assert page.locator("#patrol-form-title").text_content() == f"Edit “{patrol['renamed']}”"
    page.get_by_role("button", name="History").click()
    page.wait_for_selector("#patrol-history:not([hidden]) li")
    history = page.locator("#patrol-history").text_content()
    assert f"“{patrol['name']}” → “{patrol['renamed']}”" in history and patrol["changer"] in history
    page.wait_for_selector("#patrol-summary[data-state=ready]")
    summary = page.locator("#patrol-summary").text_content()
    for key in ("summary-type", "summary-note", "gi"):
        assert POISON[key] in summary, key
    assert any(name in summary for name in world["set"]["names"]), "the hostile wards under the town centre"
    assert layer["title"] in summary  # the records inside
    settle(page)
    page.screenshot(path=str(artifacts / f"hostile-patrol-{page.mode}.png"), full_page=True)

    page.locator("#patrol-suggest summary").click()
    assert f"{layer['title']} (internal)" in texts(page, "#suggest-source option")
    page.route("**/api/patrol-areas/suggest**",
               lambda route: route.fulfill(status=400, json={"error": {"status": 400, "message": POISON["error"]}}))
    page.locator("#suggest-run").click()
    page.wait_for_selector("#suggest-list .error")
    assert texts(page, "#suggest-list .error") == [f"Could not suggest areas: {POISON['error']}"]
    assert_inert(page)


def test_the_html_tag_escapes_values_and_nests_fragments(page, live_server):
    open_map(page, live_server)
    result = page.evaluate("""async () => {
        const { html, htmlText, setHtml } = await import('/app/html.js');
        const name = `<img src=x onerror="window.__xss=1">'"&\\``;
        const inner = html`<b>${name}</b>`;
        const box = document.createElement('div');
        setHtml(box, html`<p title="${name}" class="${'a" onclick="x'}">${inner}${[inner, 'x']}${null}${false}${0}
          <span data-fill="#abcdef"></span></p>`);
        const refused = [];
        for (const attempt of [() => setHtml(box, '<b>plain</b>'), () => htmlText(name), () => html(name)]) {
          try { attempt(); refused.push(false); } catch (error) { refused.push(error instanceof TypeError); }
        }
        const p = box.querySelector('p');
        return { title: p.title, className: p.className, bold: [...p.querySelectorAll('b')].map((b) => b.textContent),
                 elements: box.querySelectorAll('*').length, text: p.textContent.trim(),
                 fill: box.querySelector('span').style.backgroundColor, refused };
    }""")
    name = "<img src=x onerror=\"window.__xss=1\">'\"&`"
    assert result["title"] == name and result["className"] == 'a" onclick="x'
    assert result["bold"] == [name, name] and result["elements"] == 4  # p, b, b, span
    assert result["text"] == f"{name}{name}x0"
    assert result["fill"] == "rgb(171, 205, 239)"  # data-fill is applied through the CSSOM
    assert result["refused"] == [True, True, True]
    assert page.evaluate("window.__xss") is None
