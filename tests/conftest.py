"""Fixtures: a real PostGIS database (DATABASE_URL from scripts/test), the app, users and tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from server import create_app
from server.config import ROOT, Settings, normalise_database_url
from server.domain import accounts
from server.domain.reference import load_reference_data
from server.store.db import engine_for, transaction, upgrade_schema

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
GEODATA = SHARED / "geodata"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery"
# The suite makes hundreds of analysis, map and export requests from one address: tests/test_security_limits.py
# checks the real limits on an app of its own.
UNLIMITED_RATES = ",".join(f"{bucket}=1000000/60" for bucket in ("analysis", "maps", "exports", "figure-packs",
                                                                   "uploads"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--scale", action="store_true", help="also run the opt-in tests on ../shared/bench-data")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--scale"):
        return
    skip = pytest.mark.skip(reason="scale test: run with --scale")
    for item in items:
        if "scale" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url() -> str:
    """What the app connects as: a role with DML only (tests/test_database_privileges.py)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.exit("DATABASE_URL is not set: run the suite with scripts/test, which starts PostGIS", returncode=2)
    return normalise_database_url(url)


@pytest.fixture(scope="session")
def owner_database_url(database_url: str) -> str:
    """The schema owner's URL (CSP_ATLAS_OWNER_DATABASE_URL from scripts/test), what `db upgrade` uses."""
    url = os.environ.get("CSP_ATLAS_OWNER_DATABASE_URL")
    return normalise_database_url(url) if url else database_url


@pytest.fixture(scope="session")
def engine(database_url: str, owner_database_url: str) -> Engine:
    """The schema owner's engine, after `db upgrade` and the reference data (loaded as the app, as scripts/run does).

    Tests set up and inspect data with it; what the app does goes through the `app` fixture's own engine."""
    upgrade_schema(owner_database_url, database_url, log=lambda _msg: None)
    loaded = load_reference_data(engine_for(database_url), GEODATA, log=lambda _msg: None)
    assert loaded, f"reference data missing in {GEODATA}"
    return engine_for(owner_database_url)


@pytest.fixture(scope="session")
def app(engine: Engine, database_url: str) -> Flask:
    settings = Settings(database_url=database_url, secret_key="test-secret", shared_dir=SHARED,
                        max_upload_bytes=5 * 1024 * 1024, rate_limits=UNLIMITED_RATES,
                        listen_for_version=False)  # tests write and read at once: ask the database every time
    flask_app = create_app(settings)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def tokens(engine: Engine) -> dict[str, str]:
    """One user per role with a bearer token: tokens['gis'] etc."""
    issued = {}
    with transaction(engine) as session:
        for role in ("viewer", "officer", "gis", "admin"):
            username = f"{role}-{uuid.uuid4().hex[:8]}"
            accounts.create_user(session, username, PASSWORD, role)
            issued[role] = accounts.issue_token(session, username, "tests")
    return issued


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def scratch_set(engine: Engine) -> Iterator[str]:
    """A boundary set id that is removed after the test."""
    set_id = f"test-{uuid.uuid4().hex[:10]}"
    yield set_id
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- hotspot layers: users with and without a grant on a restricted layer, and scratch layers ---------------------

RESTRICTED_LAYER = "dcsm-locations"


def _grant(engine: Engine, layer_id: str, username: str, access: str) -> None:
    from server.store import hotspots as hotspot_store

    with transaction(engine) as session:
        user = accounts.find_user(session, username)
        hotspot_store.set_grant(session, layer_id, user.id, access, "tests")


@pytest.fixture(scope="session")
def hotspot_users(engine: Engine) -> dict[str, dict[str, str]]:
    """Users for the restricted-layer rules, each {'username', 'token'}; `tokens` users have no grants.

    dcsm-writer: role viewer with a write grant on dcsm-locations (a DCSM member need not be an officer);
    dcsm-reader: role officer with a read grant; ungranted: role gis, no grant.
    """
    roles = {"dcsm-writer": ("viewer", "write"), "dcsm-reader": ("officer", "read"), "ungranted": ("gis", None)}
    users = {}
    with transaction(engine) as session:
        for name, (role, _access) in roles.items():
            username = f"{name}-{uuid.uuid4().hex[:8]}"
            accounts.create_user(session, username, PASSWORD, role)
            users[name] = {"username": username, "token": accounts.issue_token(session, username, "tests")}
    for name, (_role, access) in roles.items():
        if access:
            _grant(engine, RESTRICTED_LAYER, users[name]["username"], access)
    return users


@pytest.fixture
def scratch_layers(engine: Engine, hotspot_users: dict[str, dict[str, str]]) -> dict[str, str]:
    """A fresh internal and a fresh restricted layer (granted like dcsm-locations). Points cannot be hard-deleted,
    so the layers stay in the (throwaway) test database."""
    suffix = uuid.uuid4().hex[:8]
    layers = {"internal": f"test-internal-{suffix}", "restricted": f"test-restricted-{suffix}"}
    with transaction(engine) as session:
        for sensitivity, layer_id in layers.items():
            session.execute(text("""
                INSERT INTO hotspot_layers (id, title, description, sensitivity, owner_team, retention_months,
                                            retention_note, count_unit)
                VALUES (:id, :title, 'test layer', :sensitivity, 'tests', 12, '', 'records')"""),
                {"id": layer_id, "title": f"Test {sensitivity}", "sensitivity": sensitivity})
    _grant(engine, layers["restricted"], hotspot_users["dcsm-writer"]["username"], "write")
    _grant(engine, layers["restricted"], hotspot_users["dcsm-reader"]["username"], "read")
    return layers
