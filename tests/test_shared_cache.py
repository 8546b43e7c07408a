"""One response cache for every worker and process: built once per data version, surviving a restart, bounded in
bytes, stored gzip-compressed; gzip on the other JSON responses; whole-table aggregates once per data version."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from dataclasses import replace

import pytest
from sqlalchemy import text

from server import create_app
from server.config import ROOT
from server.store import crime as crime_store
from server.store import response_cache
from server.store.db import transaction
from server.store.versioned import per_data_version

LAYER = "/api/layers/wards-2024?metric=burglary&period=2022-04&method=quantiles&k=4"


@pytest.fixture
def new_data_version(engine):
    """A data version no cache entry has seen yet (as an import would make)."""
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    from server.domain import layers

    calls: list[str] = []
    original = layers.build_layer

    def counted(db, request):
        calls.append(request.metric)
        return original(db, request)

    monkeypatch.setattr(layers, "build_layer", counted)
    return calls


# Another worker process: counts its own builds of the layer and prints them with the body it served.
OTHER_PROCESS = """
import hashlib, json, sys
from server import create_app
from server.config import ROOT
from server.config import Settings
from server.domain import layers
built = []
original = layers.build_layer
layers.build_layer = lambda db, request: built.append(1) or original(db, request)
settings = Settings(database_url=sys.argv[1], secret_key="x", shared_dir=".", rate_limits=sys.argv[2])
body = create_app(settings).test_client().get(sys.argv[3]).get_data()
print(json.dumps({"built": len(built), "sha": hashlib.sha256(body).hexdigest()}))
"""


def other_process(database_url: str, url: str) -> dict:
    from tests.conftest import UNLIMITED_RATES

    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, database_url, UNLIMITED_RATES, url],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_layer_is_built_once_for_all_processes_and_survives_a_restart(app, database_url, new_data_version,
                                                                        builds):
    body = app.test_client().get(LAYER).get_data()
    assert builds == ["burglary"]
    for _restart in range(2):
        served = other_process(database_url, LAYER)
        assert served == {"built": 0, "sha": hashlib.sha256(body).hexdigest()}, "another process built it again"


def test_responses_are_gzip_for_clients_that_accept_it_with_one_weak_etag(client):
    plain = client.get(LAYER)
    zipped = client.get(LAYER, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(zipped.get_data())) == plain.get_json()
    assert len(zipped.get_data()) < len(plain.get_data()) / 3
    assert zipped.headers["ETag"] == plain.headers["ETag"] and plain.headers["ETag"].startswith('W/"')
    assert "Accept-Encoding" in zipped.headers["Vary"]
    again = client.get(LAYER, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_other_json_responses_are_gzip_too(client):
    for url in ("/api/metrics", "/api/boundary-sets/wards-2024/features", "/api/openapi.json"):
        plain = client.get(url)
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers.get("Content-Encoding") == "gzip", url
        assert json.loads(gzip.decompress(zipped.get_data())) == plain.get_json(), url


def test_the_shared_cache_stays_within_its_byte_budget(app, engine, new_data_version):
    budget = 40_000
    small = create_app(replace(app.extensions["csp_settings"], cache_bytes=budget)).test_client()
    for k in range(3, 9):
        assert small.get(f"/api/layers/lsoa-2011?metric=all-crime&period=2022-05&k={k}").status_code == 200
    with transaction(engine) as session:
        assert 0 < response_cache.total_bytes(session) <= budget


def test_aggregates_are_computed_once_per_data_version(engine):
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
    calls = []

    def months(session):
        calls.append(1)
        return crime_store.available_months.__wrapped__(session)

    counted = per_data_version(months)
    with transaction(engine) as session:
        first = counted(session)
        assert counted(session) == first and len(calls) == 1
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
        assert counted(session) == first and len(calls) == 2, "a new version computes again"


def test_an_aggregate_seen_inside_a_rolled_back_import_is_never_served_later(engine):
    """The version number of a rolled-back import comes again with other data; the memo must tell them apart."""
    seen = []
    counted = per_data_version(lambda session: seen.append(1) or len(seen))
    with pytest.raises(RuntimeError), transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
        assert counted(session) == 1
        raise RuntimeError("the import failed")
    with transaction(engine) as session:
        session.execute(text("UPDATE data_version SET version = version + 1 WHERE id = 1"))
        assert counted(session) == 2
