"""One legend for the screen and the PNG: every map layer supplies its legend items (client/src/legend-items.js), the
on-screen legend shows them as HTML and the PNG export draws the same items on its canvas. With the classes, the
ward-cluster outlines, the assessment's annotations, the heat map, the crime markers and a record layer all on, the
items the export reports it drew are the legend's, in the legend's order, and the layers they stand for are in the
picture."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import PASSWORD
from tests.e2e.test_map_client import EXPORT_SCALE, export_png, open_map
from tests.e2e.test_signed_in import sign_in

pytestmark = pytest.mark.e2e
HEADER = 64  # client/src/export.js: the title band above the map frame
ANNOTATION_COLOURS = ("#7a0177", "#08519c")  # client/src/annotations.js
NEEDLE_FINDS = "#b35806"  # client/src/hotspot-layers.js


def screen_items(page) -> list[list[str]]:
    """What the on-screen legend shows: each item's kind and its label as read (white space collapsed)."""
    return page.evaluate("""() => [...document.querySelectorAll('#legend [data-legend-kind]')].map((item) => [
        item.dataset.legendKind, item.querySelector('.legend-label').textContent.replace(/\\s+/g, ' ').trim()])""")


def pixels_near(image: np.ndarray, colour: str, box: tuple[int, int, int, int], tolerance: int = 12) -> int:
    top, bottom, left, right = box
    rgb = image[:3, top:bottom, left:right].reshape(3, -1).T.astype(int)
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).max(axis=1) <= tolerance).sum())


def test_the_png_export_draws_the_items_of_the_on_screen_legend(page, live_server, client, hotspot_users, artifacts):
    open_map(page, live_server, "basemap=none&outlines=1&annotations=1&heat=1&markers=1&extra=needle-finds")
    sign_in(page, hotspot_users["dcsm-reader"]["username"], PASSWORD)  # an officer
    page.wait_for_selector('#legend .legend-extra[data-layer="needle-finds"]')
    page.wait_for_selector("#map[data-hotspot-state=ready]")
    page.wait_for_function("document.querySelectorAll('path.annotation-outline').length > 0")
    page.wait_for_selector("path.cluster-outline")

    shown = screen_items(page)
    kinds = [kind for kind, _ in shown]
    labels = [label for _, label in shown]
    assert kinds.count("class") == len(client.get(page.locator("#map").get_attribute("data-layer-url"))
                                       .get_json()["legend"]["classes"])
    for label in ("Ward cluster boundary", "LSOA of concern", "District priority area", "Crime density (heat map)",
                  "one record", "a cluster of records", "Needle finds"):
        assert label in labels, label
    # the legend's items are the layers' items, nothing added or left out by the HTML
    supplied = page.evaluate("window.cspAtlas.legendItems().map((i) => [i.kind, i.label])")
    assert shown == supplied

    image, info = export_png(page, artifacts / "legend-export-all-layers.png")
    page.locator("#legend").screenshot(path=str(artifacts / "legend-export-all-layers-screen.png"))
    drawn = info["legend"]
    # the partnership's records are in the picture: marked as the server's briefings are, top right and at the foot
    assert info["marking"] == "OFFICIAL-SENSITIVE"
    _bands, height, width = image.shape
    marking_red = "#b00020"
    assert pixels_near(image, marking_red, (0, 24 * EXPORT_SCALE, width // 2, width), tolerance=40) > 20
    assert pixels_near(image, marking_red, (height - 40 * EXPORT_SCALE, height, width // 2, width), tolerance=40) > 20
    assert [[item["kind"], item["label"]] for item in drawn] == shown
    colours = page.evaluate("window.cspAtlas.legendItems().map((i) => i.colour ?? null)")
    assert [item["colour"] for item in drawn] == colours

    # the export's map frame shows the layers its legend lists: record symbols and annotation outlines included
    frame = (HEADER * EXPORT_SCALE, (HEADER + info["frame"]["height"]) * EXPORT_SCALE,
             0, info["frame"]["width"] * EXPORT_SCALE)
    assert pixels_near(image, NEEDLE_FINDS, frame) > 20
    for colour in ANNOTATION_COLOURS:
        assert pixels_near(image, colour, frame) > 50, colour
    assert page.console_errors == []
