"""The client follows a queued heavy request: api.js's getJSON, given 202 and a job, polls the job until a real worker
has run it and resolves with the result itself, equal to what the URL then answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from server import create_app
from server.store.db import transaction
from tests.test_jobs import run_workers

pytestmark = pytest.mark.e2e

GI = "/api/hotspots/gi?geography=lsoa&period=2022-03&permutations=999&seed=777"


@pytest.fixture
def queueing_server(app, engine) -> Iterator[str]:
    """The app as scripts/run serves it, with Gi* of this size sent to the job queue, on a loopback port."""
    with transaction(engine) as session:  # a data version no cache has seen: the Gi* is not built yet
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    queueing = create_app(replace(app.extensions["csp_settings"], jobs="queue", gi_job_work=10_000))
    server = make_server("127.0.0.1", 0, queueing, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_get_json_follows_a_queued_job_to_its_result(page, queueing_server, database_url, engine, client):
    page.goto(f"{queueing_server}/?basemap=none")
    page.wait_for_selector("body[data-ready]")
    page.evaluate("""url => { window.queuedResult = import('/app/api.js').then((api) => api.getJSON(url)); }""", GI)
    for _ in range(200):  # the page has asked and been given a job
        with transaction(engine) as session:
            if session.execute(text("SELECT count(*) FROM jobs WHERE url = :url AND status = 'queued'"),
                               {"url": GI}).scalar_one():
                break
        time.sleep(0.05)
    else:
        raise AssertionError("the page's request was not queued")
    run_workers(database_url)
    body = page.evaluate("() => window.queuedResult")
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 95
    assert body == client.get(GI).get_json(), "the result the URL answers now"
    assert not page.console_errors
