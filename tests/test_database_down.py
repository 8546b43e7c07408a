"""While PostgreSQL cannot be reached every route that needs it says 503 with Retry-After, never a 500."""

from __future__ import annotations

import socket

import pytest

from server import create_app
from server.config import Settings
from tests.conftest import SHARED


@pytest.fixture(scope="module")
def client_without_database():
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(database_url=f"postgresql://atlas_app:x@127.0.0.1:{port}/atlas", secret_key="test",
                        shared_dir=SHARED)
    return create_app(settings).test_client()


@pytest.mark.parametrize("path", ["/api/layers/wards-2024", "/api/metrics", "/api/boundary-sets",
                                  "/api/boundary-sets/wards-2024/features", "/api/patrol-areas"])
def test_routes_needing_the_database_answer_503(client_without_database, path):
    response = client_without_database.get(path, headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "database is unavailable" in response.get_json()["error"]["message"]


def test_health_says_unavailable(client_without_database):
    response = client_without_database.get("/api/health")
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}
