"""Heavy work leaves the web workers: Gi* and kernel density beyond their size settings are queued as jobs whose
result equals the synchronous one; a heavy GET that finds every heavy slot busy is queued (202) rather than refused
(503), while one already built is served without a slot; and a process that has heard the data version serves the
responses it holds without a database round trip, and hears the next version within moments."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, text

from server import create_app
from server.domain import spatial_analysis as analysis
from server.store.db import engine_for, transaction
from tests.test_jobs import run_workers

GI_LSOA = "/api/hotspots/gi?geography=lsoa&period=2022-05&permutations=999&seed=4242"  # 95 × 1,000 = 95,000
GI_WARDS = "/api/hotspots/gi?geography=wards-2024&period=2022-05&permutations=999&seed=4242"  # 22,000
KDE = "/api/hotspots/kde?metric=burglary&period=2022-05"  # 200 m cells over Maidstone's box: about 17,000
MAP = "/api/maps/wards-2013.png?metric=shoplifting&period=2022-04&width=400&height=300&dpi=72"


@pytest.fixture
def fresh_version(engine):
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))


def client_for(app, **changes):
    return create_app(replace(app.extensions["csp_settings"], **changes)).test_client()


def without_timing(body: dict) -> dict:
    return {**body, "metadata": {k: v for k, v in body["metadata"].items() if k != "compute_seconds"}}


def queued_then_served(client, url: str, database_url: str) -> dict:
    first = client.get(url)
    assert first.status_code == 202, first.get_data(as_text=True)
    job = first.get_json()["job"]
    assert job["status"] == "queued" and job["links"]["result"] == url
    run_workers(database_url)
    status = client.get(first.headers["Location"]).get_json()
    assert status["status"] == "done", status
    served = client.get(status["result"])
    assert served.status_code == 200
    return served.get_json()


def test_gi_beyond_the_work_setting_is_a_job_whose_result_equals_the_synchronous_one(app, engine, database_url,
                                                                                     fresh_version):
    client = client_for(app, jobs="queue", gi_job_work=50_000)
    assert client.get(GI_WARDS).status_code == 200, "under the setting: answered at once"
    served = queued_then_served(client, GI_LSOA, database_url)
    request = analysis.GiRequest(metric="all-crime", period="2022-05", geography="lsoa", cell=500.0, tolerance=10.0,
                                 permutations=999, seed=4242, inference="z_sim", fdr=True)
    with transaction(engine) as session:
        direct = json.loads(json.dumps(analysis.build_gi(session, request)))
    assert without_timing(served) == without_timing(direct)
    assert len(served["features"]) == 95


def test_kde_beyond_the_cell_setting_is_a_job_whose_result_equals_the_synchronous_one(app, engine, database_url,
                                                                                      fresh_version):
    assert client_for(app, jobs="queue", kde_job_cells=10**9).get(KDE).status_code == 200
    with transaction(engine) as session:  # the inline answer above is cached: make a new version for the job
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    client = client_for(app, jobs="queue", kde_job_cells=10_000)
    served = queued_then_served(client, KDE, database_url)
    request = analysis.KdeRequest(analysis.PointSource(analysis.CRIME, "burglary", "2022-05"), None,
                                  analysis.DEFAULTS["kde_cell"])
    with transaction(engine) as session:
        data = analysis.crime_points(session, "burglary", "2022-05")
        direct = json.loads(json.dumps(analysis.build_kde(session, request, data)))
    assert without_timing(served) == without_timing(direct)
    assert served["features"], "some cells are dense"


def test_a_heavy_request_finding_every_slot_busy_is_queued_and_a_built_one_needs_no_slot(app, database_url,
                                                                                       fresh_version):
    queued = create_app(replace(app.extensions["csp_settings"], jobs="queue", heavy_concurrency=1))
    slots = queued.extensions["csp_heavy_slots"]
    client = queued.test_client()
    assert slots.acquire(blocking=False), "a long heavy request holds the only slot"
    try:
        first = client.get(MAP)
        assert first.status_code == 202 and first.get_json()["job"]["kind"] == "busy-maps"
        run_workers(database_url)
        served = client.get(MAP)
        assert served.status_code == 200 and served.data[:8] == b"\x89PNG\r\n\x1a\n", "built by the worker"
    finally:
        slots.release()


def test_inline_mode_still_refuses_with_503_when_every_slot_stays_busy(app, fresh_version):
    inline = create_app(replace(app.extensions["csp_settings"], jobs="inline", heavy_concurrency=1,
                                heavy_wait_seconds=0.2))
    slots = inline.extensions["csp_heavy_slots"]
    assert slots.acquire(blocking=False)
    try:
        refused = inline.test_client().get(MAP.replace("shoplifting", "burglary"))
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    finally:
        slots.release()


def wait_until_heard(flask_app, version: int) -> None:
    listener = flask_app.extensions["csp_version_listener"]
    for _ in range(300):
        if listener.version == version:
            return
        time.sleep(0.01)
    raise AssertionError(f"the listener heard {listener.version}, not {version}")


def current_version(engine) -> int:
    with transaction(engine) as session:
        return session.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one()


def test_a_held_response_is_served_without_a_query_and_a_new_version_is_heard(app, engine, database_url):
    listening = create_app(replace(app.extensions["csp_settings"], listen_for_version=True))
    client = listening.test_client()
    url = "/api/layers/wards-2024?metric=drugs&period=2022-02&k=3"
    first = client.get(url)  # starts the listener; built or read from the shared cache
    assert first.status_code == 200
    wait_until_heard(listening, current_version(engine))
    client.get(url)  # now held by this process under the version it heard
    statements: list[str] = []
    app_engine = engine_for(listening.extensions["csp_settings"].database_url)
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(app_engine, "before_cursor_execute", record)
    try:
        held = client.get(url)
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert held.status_code == 200 and held.get_json() == first.get_json()
    assert statements == [], "no database round trip for a held response"

    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    wait_until_heard(listening, current_version(engine))
    after = client.get(url)
    assert after.status_code == 200 and after.headers["ETag"] != held.headers["ETag"]


def test_anonymous_health_asks_the_database_at_most_once_a_second(app):
    checked = create_app(app.extensions["csp_settings"])
    client = checked.test_client()
    statements: list[str] = []
    app_engine = engine_for(checked.extensions["csp_settings"].database_url)
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(app_engine, "before_cursor_execute", record)

    def asked() -> int:
        return sum("alembic_version" in s for s in statements)

    try:
        answers = [client.get("/api/health") for _ in range(5)]
        asked_within_the_second = asked()
        time.sleep(1.1)
        answers.append(client.get("/api/health"))  # answered at once; one thread asks again meanwhile
        answers.append(client.get("/api/health"))
        for _ in range(200):
            if asked() == 2:
                break
            time.sleep(0.01)
        time.sleep(0.1)
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    assert all(a.status_code == 200 and a.get_json() == {"status": "ok"} for a in answers)
    assert asked_within_the_second == 1
    assert asked() == 2, "asked again once, in the background, when the answer was a second old"
