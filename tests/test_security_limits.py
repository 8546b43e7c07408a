"""Bounded work: body limits per route, JSON depth, anonymous analysis caps, per-client rate limits shared by every
worker (PostgreSQL), and a cap on heavy requests at once that leaves health answering."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import pytest
from flask import Flask
from werkzeug.serving import make_server

from server import create_app
from server.store.db import transaction
from tests.conftest import PASSWORD, UNLIMITED_RATES, bearer


@pytest.fixture
def limited_settings(app: Flask):
    """The suite's settings with the real default limits and a bucket name no other test uses."""
    return replace(app.extensions["csp_settings"], rate_limits="analysis=3/60", heavy_concurrency=1,
                   heavy_wait_seconds=0.2)


def test_sign_in_refuses_a_large_body_before_reading_it(client):
    response = client.post("/api/session", data=b'{"username": "' + b"a" * 200_000 + b'"}',
                           content_type="application/json")
    assert response.status_code == 413
    assert "4 KiB" in response.get_json()["error"]["message"]


def test_ordinary_routes_take_at_most_a_mebibyte(client, tokens):
    body = b'{"name": "x", "notes": "' + b"n" * (1024 * 1024 + 10) + b'"}'
    response = client.post("/api/patrol-areas", data=body, content_type="application/json",
                           headers=bearer(tokens["officer"]))
    assert response.status_code == 413


def test_deeply_nested_json_is_bad_input_not_a_server_error(client, tokens):
    body = '{"name": ' * 100_000 + "1" + "}" * 100_000
    for path in ("/api/patrol-areas", "/api/gazetteer", "/api/hotspot-layers/needle-finds/points"):
        response = client.post(path, data=body, content_type="application/json", headers=bearer(tokens["officer"]))
        assert response.status_code == 400, (path, response.get_json())
    shallow_enough = '{"name": ' * 70 + "1" + "}" * 70
    response = client.post("/api/gazetteer", data=shallow_enough, content_type="application/json",
                           headers=bearer(tokens["officer"]))
    assert response.status_code == 400, "nested beyond 64 levels is refused even where Python could parse it"


@pytest.mark.parametrize(("query", "message"), [
    ("permutations=9999", "permutations above 999 need a sign-in"),
    ("geography=hex&cell=150", "hexagons smaller than 300 m need a sign-in"),
])
def test_anonymous_analysis_is_capped(client, tokens, query, message):
    response = client.get(f"/api/hotspots/gi?period=2022-06&{query}&seed={uuid.uuid4().int % 1000}")
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_signed_in_users_may_ask_for_more_permutations(client, tokens):
    response = client.get("/api/hotspots/gi?period=2022-06&permutations=1999", headers=bearer(tokens["viewer"]))
    assert response.status_code == 200


def test_expensive_routes_are_rate_limited_per_client_across_processes(limited_settings, engine):
    """Two app instances stand for two workers: the count lives in PostgreSQL, so it is shared."""
    from server.domain import accounts

    username = f"limits-{uuid.uuid4().hex[:8]}"  # a user of its own: the other tests' requests count for theirs
    with transaction(engine) as session:
        accounts.create_user(session, username, PASSWORD, "viewer")
        fresh_token = accounts.issue_token(session, username, "tests")
    first, second = create_app(limited_settings).test_client(), create_app(limited_settings).test_client()
    left_in_window = 60 - time.time() % 60  # the windows are fixed minutes: do not straddle two
    if left_in_window < 15:
        time.sleep(left_in_window + 0.5)
    client_key = f"10.{uuid.uuid4().int % 250}.0.1"  # an address of its own, so earlier runs do not count
    environ = {"REMOTE_ADDR": client_key}
    url = "/api/hotspots/clusters?period=2022-06&min_points=5&eps=100"
    statuses = [c.get(url, environ_base=environ).status_code for c in (first, second, first)]
    assert statuses == [200, 200, 200]
    refused = second.get(url, environ_base=environ)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "at most 3 in 60 s" in refused.get_json()["error"]["message"]
    assert first.get(url, headers=bearer(fresh_token), environ_base=environ).status_code == 200, \
        "a signed-in user is counted as themself, not by address"
    assert first.get("/api/layers/wards-2024", environ_base=environ).status_code == 200, "cheap routes are not"


def test_heavy_requests_beyond_the_cap_are_shed_and_health_still_answers(limited_settings, monkeypatch):
    from server.domain import spatial_analysis

    started, release = threading.Event(), threading.Event()
    original = spatial_analysis.build_clusters

    def slow_clusters(*args, **kwargs):
        started.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(spatial_analysis, "build_clusters", slow_clusters)
    app = create_app(replace(limited_settings, rate_limits=UNLIMITED_RATES))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    eps = 50 + uuid.uuid4().int % 100_000 / 1000  # a key no cache holds yet
    holder = threading.Thread(target=lambda: urllib.request.urlopen(
        f"{base}/api/hotspots/clusters?period=2022-06&eps={eps}&min_points=3", timeout=30).read())
    holder.start()
    try:
        assert started.wait(10), "the first heavy request did not start"
        with pytest.raises(urllib.error.HTTPError) as busy:
            urllib.request.urlopen(f"{base}/api/hotspots/clusters?period=2022-06&eps={eps + 1}&min_points=3",
                                   timeout=10)
        assert busy.value.code == 503 and busy.value.headers["Retry-After"]
        began = time.perf_counter()
        with urllib.request.urlopen(f"{base}/api/health", timeout=10) as health:
            assert health.status == 200
        assert time.perf_counter() - began < 5, "health waited behind the heavy request"
    finally:
        release.set()
        holder.join(30)
        server.shutdown()
