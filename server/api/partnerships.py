"""Partnerships: GET /api/partnerships and /api/partnerships/{slug}, and the URL prefix /p/{slug}/ that makes any
existing URL act for one partnership.

The prefix is taken off in one WSGI middleware, before Flask routes the request: PATH_INFO loses it and SCRIPT_NAME
gains it, so every blueprint, rule and OGC path stays as it is, and every URL Flask builds (url_for, request.url_root,
request.script_root) keeps it. The middleware also records the slug for the request's transactions
(server/store/scope.py), which put it in the setting the row-level security policies read. URLs without a prefix act
for the default partnership, so links and embeds made before there were several still work. A url_value_preprocessor
on prefixed rules would have needed every rule registered twice and every hand-built link changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, jsonify, request

from server.api import engine
from server.api.caching import heard_version
from server.api.contract import Blueprint, responds
from server.api.errors import ApiError
from server.domain import ogc as ogc_domain
from server.store import partnerships as store
from server.store import scope
from server.store.db import transaction

PREFIX = re.compile(r"/p/([^/]{1,80})(/.*)?", re.DOTALL)
SLUG = re.compile(r"[a-z][a-z0-9-]{1,39}", re.ASCII)
ENVIRON = "csp_atlas.partnership"

bp = Blueprint("partnerships", __name__, url_prefix="/api/partnerships",
               description="Community Safety Partnerships served here; prefix any path with /p/{slug} to act for one")


class PartnershipPrefix:
    """WSGI middleware: /p/{slug}/rest is /rest acting for partnership {slug}."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = PREFIX.fullmatch(environ.get("PATH_INFO", ""))
        slug = None
        if match:
            slug = match[1]
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + f"/p/{slug}"
            environ["PATH_INFO"] = match[2] or "/"
            environ[ENVIRON] = slug
        with scope.acting_for(slug):  # no response streams from the database after this returns
            return self.app(environ, start_response)


def register(app: Flask) -> None:
    """Before anything else touches the database: an unknown partnership is a 404, and a boundary set another
    partnership shows is a 404 here (the sets are shared reference data, so no row-level policy hides them)."""
    app.wsgi_app = PartnershipPrefix(app.wsgi_app)
    app.before_request(_check_partnership_and_sets)


def _check_partnership_and_sets() -> None:
    slug = request.environ.get(ENVIRON)
    named = _set_ids_named()
    if slug is None and not named:
        return
    known, hidden = _partnership_and_hidden_sets(slug, tuple(named))
    if not known:
        raise ApiError(404, f"no partnership '{slug[:40]}'; GET /api/partnerships lists them")
    if hidden:
        raise ApiError(404, f"no boundary set '{hidden[0]}'")


# Answers per data version this process has heard of (partnerships and their sets bump it, migration 0014), so a
# response the process holds is still served without a database round trip (server/api/caching.py).
_checked: dict[tuple[int, str | None, tuple[str, ...]], tuple[bool, list[str]]] = {}
_CHECKED_ENTRIES = 4096


def _partnership_and_hidden_sets(slug: str | None, named: tuple[str, ...]) -> tuple[bool, list[str]]:
    version = heard_version()
    key = (version, slug, named) if version is not None else None
    if key is not None and key in _checked:
        return _checked[key]
    with transaction(engine()) as db:
        known = slug is None or (SLUG.fullmatch(slug) is not None and store.exists(db, slug))
        answer = (known, store.hidden_sets(db, list(named)) if known and named else [])
    if key is not None:
        if len(_checked) >= _CHECKED_ENTRIES:
            _checked.clear()
        _checked[key] = answer
    return answer


def _set_ids_named() -> list[str]:
    """The boundary set ids a request names: in its path (set_id, a map's or export's file name, an OGC collection)
    or its query string (set)."""
    args = request.view_args or {}
    named = [args["set_id"]] if isinstance(args.get("set_id"), str) else []
    if request.blueprint == "maps" and isinstance(args.get("filename"), str):
        named.append(args["filename"].partition(".")[0])
    if request.blueprint == "ogc" and isinstance(args.get("collection_id"), str):
        wanted = ogc_domain.parse_collection_id(args["collection_id"])
        if wanted.kind in ("areas", "clusters", "classified"):
            named.append(wanted.key)
    named += request.args.getlist("set")
    if request.blueprint == "boundaries" and request.method == "POST":  # an upload replaces the set it names
        named.append(request.form.get("id", ""))
    return [value for value in named if value][:10]


def _url(partnership: dict[str, Any]) -> str:
    return "/" if partnership["is_default"] else f"/p/{partnership['slug']}/"


def _summary(partnership: dict[str, Any]) -> dict[str, Any]:
    return {"slug": partnership["slug"], "name": partnership["name"], "lad_codes": list(partnership["lad_codes"]),
            "parent": partnership["parent_slug"], "default": partnership["is_default"],
            "bbox": partnership["bbox"], "url": _url(partnership)}


@bp.get("")
@responds(bp, 200, "every partnership served here", schema="Partnerships")
def list_partnerships():
    """The partnerships this deployment serves: name, district codes, extent and the URL of each one's map"""
    with transaction(engine()) as db:
        partnerships = store.list_partnerships(db)
    return jsonify({"partnerships": [_summary(p) for p in partnerships]})


@bp.get("/<slug>")
@responds(bp, 200, "the partnership with its boundary sets, area and default view", schema="Partnership")
def get_partnership(slug: str):
    """A partnership: its boundary sets, the one its map opens on, its area (GeoJSON) and default view"""
    with transaction(engine()) as db:
        found = store.get_partnership(db, slug) if SLUG.fullmatch(slug) else None
        if found is None:
            raise ApiError(404, f"no partnership '{slug[:40]}'; GET /api/partnerships lists them")
        sets = store.sets_of(db, slug)
        area = store.partnership_outline(db, slug)
    return jsonify({**_summary(found), "boundary_sets": [{
        "id": s["id"], "kind": s["kind"], "title": s["title"], "has_clusters": s["has_clusters"],
        "valid_from": s["valid_from"].isoformat() if s["valid_from"] else None,
        "valid_to": s["valid_to"].isoformat() if s["valid_to"] else None} for s in sets],
        "default_set": found["default_set"], "area": area,
        "default_view": {"set": found["default_set"], "bbox": found["bbox"]}})


SERVERS = [{"url": "/", "description": "the default partnership"},
           {"url": "/p/{partnership}", "description": "one partnership: every path of this document, prefixed",
            "variables": {"partnership": {"default": "maidstone",
                                          "description": "a slug from GET /api/partnerships"}}}]
