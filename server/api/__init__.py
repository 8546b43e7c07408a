"""HTTP layer: one blueprint per resource. Parse, validate, call the domain or store, serialise."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Engine

from server.config import Settings


def engine() -> Engine:
    return current_app.extensions["csp_engine"]


def settings() -> Settings:
    return current_app.extensions["csp_settings"]
