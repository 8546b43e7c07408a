"""The legend says where each month came from: a month fetched from the police.uk API (loopback server) shows as
such, with when and the API's last-updated date, and the CSV months as CSV files."""

from __future__ import annotations

import pytest

from server.domain.police_api import ApiLimits, PoliceApi
from server.domain.police_fetch import FetchRequest, fetch_police_months
from tests.e2e.test_map_client import open_map
from tests.police_api_server import LoopbackPoliceApi
from tests.test_police_fetch import remove_2031, shifted_csv

pytestmark = pytest.mark.e2e


@pytest.fixture
def fetched_month(engine, tmp_path):
    remove_2031(engine)
    with LoopbackPoliceApi([shifted_csv("2022-03", tmp_path)]) as server:
        fetch_police_months(engine, PoliceApi(server.url, ApiLimits(rate=1000, burst=100)), FetchRequest())
    yield "2031-03"
    remove_2031(engine)


def provenance_items(page) -> list[str]:
    page.locator("details.legend-about").evaluate("(details) => { details.open = true; }")
    return page.locator("#legend .legend-provenance li").all_text_contents()


def test_the_legend_shows_each_months_provenance(page, live_server, fetched_month, artifacts):
    open_map(page, live_server, f"basemap=none&metric=all-crime&period={fetched_month}")
    [api_line] = provenance_items(page)
    assert api_line.startswith("2031-03: police.uk API, fetched ") and "police.uk last updated 2031-12-01" in api_line
    page.locator("#legend").screenshot(path=str(artifacts / "legend-provenance-api.png"))

    open_map(page, live_server, "basemap=none&metric=all-crime&period=2022-01/2022-06")
    assert provenance_items(page) == ["2022-01 to 2022-06: police.uk CSV files"]
    assert page.console_errors == []
