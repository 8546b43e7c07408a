"""Hotspot layers (needle finds, DCSM locations), their points, the gazetteer, grants and the audit log.

The access rules live in server.domain.hotspot_records; every route here resolves the caller, lets the domain check
the layer, and maps its errors to HTTP: 401 nobody signed in, 403 no access (a restricted layer without a grant),
404 no such layer/point/place, 409 a state conflict, 400 bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import PurePath
from typing import Any

from flask import Blueprint, g, jsonify, request

from server.api import engine, settings
from server.api.auth import current_user
from server.api.boundaries import parse_bbox
from server.api.errors import ApiError
from server.domain import hotspot_records as records
from server.domain.hotspot_input import (
    PointInputError,
    feature_record,
    parse_location,
    parse_observed,
    parse_point,
    read_import_file,
)
from server.store import accounts
from server.store import hotspots as hotspot_store
from server.store.db import transaction

bp = Blueprint("hotspot_layers", __name__, url_prefix="/api")
READ, WRITE = records.READ, records.WRITE
MAX_AUDIT_LIMIT = 1000


def caller() -> records.Caller | None:
    if "csp_hotspot_caller" not in g:
        user = current_user()
        with transaction(engine()) as db:
            g.csp_hotspot_caller = records.caller_for(db, user)
    return g.csp_hotspot_caller


def signed_in() -> records.Caller:
    found = caller()
    if found is None:
        raise ApiError(401, "sign in or send 'Authorization: Bearer <token>'")
    return found


@contextmanager
def audited(who: records.Caller | None = None) -> Iterator[None]:
    """A denied access to a restricted layer is written to the audit log (in its own transaction) on its way out."""
    try:
        yield
    except records.AccessDenied as denied:
        if denied.audit_layer:
            with transaction(engine()) as db:
                records.audit_denied(db, who, denied, {"method": request.method, "path": request.path})
        raise


def date_arg(name: str, last: bool) -> date | None:
    """from/to: a date, a month (2022-06) or a year (2022); `last` takes the end of a month or year."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        first, final = parse_observed(raw)
    except PointInputError:
        raise ApiError(400, f"{name} must be a date (2022-06-30), a month (2022-06) or a year (2022), "
                            f"not '{raw}'") from None
    if "/" in raw:
        raise ApiError(400, f"{name} must be a single date, month or year, not a range")
    return final if last else first


def date_range() -> tuple[date | None, date | None]:
    date_from, date_to = date_arg("from", last=False), date_arg("to", last=True)
    if date_from and date_to and date_to < date_from:
        raise ApiError(400, f"to ({date_to}) is before from ({date_from})")
    return date_from, date_to


def check_args(allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown parameter(s) {', '.join(unknown)}; valid: {', '.join(allowed) or 'none'}")


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object (Content-Type: application/json)")
    return feature_record(body) if body.get("type") == "Feature" else body


# --- layers -------------------------------------------------------------------------------------------------------


@bp.get("/hotspot-layers")
def list_layers():
    check_args(())
    who = signed_in()
    with transaction(engine()) as db:
        layers = records.readable_layers_json(db, records.visible_layers(db, who), who)
    return jsonify({"hotspot_layers": layers})


@bp.get("/hotspot-layers/<layer_id>")
def layer_detail(layer_id: str):
    check_args(())
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        (item,) = records.readable_layers_json(db, [layer], who)
    return jsonify(item)


@bp.get("/hotspot-layers/<layer_id>/points")
def list_points(layer_id: str):
    check_args(("from", "to", "bbox", "deleted"))
    who = signed_in()
    bbox = parse_bbox(request.args.get("bbox"))
    date_from, date_to = date_range()
    deleted = request.args.get("deleted", "exclude")
    if deleted not in records.DELETED_VIEWS:
        raise ApiError(400, f"deleted must be one of {', '.join(records.DELETED_VIEWS)}")
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        body = records.points_collection(db, layer, who, date_from, date_to, bbox, deleted)
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/hotspot-layers/<layer_id>/points")
def create_point(layer_id: str):
    who = signed_in()
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "create")
        point = parse_point(json_body())
        with transaction(engine()) as db:
            layer = records.require_layer(db, layer_id, who, WRITE, "create")
            feature = records.create_point(db, layer, who, point, settings().record_buffer_metres)
    return jsonify(feature), 201


@bp.get("/hotspot-layers/<layer_id>/points/<int:point_id>")
def get_point(layer_id: str, point_id: int):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        row = records.live_point(db, layer, who, point_id)
        records.audit_read(db, layer, who, "read-point", 1, {"point_id": point_id})
    return jsonify(records.point_feature(row))


@bp.patch("/hotspot-layers/<layer_id>/points/<int:point_id>")
def update_point(layer_id: str, point_id: int):
    who = signed_in()
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "update")
        change = parse_point(json_body(), partial=True)
        with transaction(engine()) as db:
            layer = records.require_layer(db, layer_id, who, WRITE, "update")
            feature = records.update_point(db, layer, who, point_id, change,
                                           settings().record_buffer_metres)
    return jsonify(feature)


@bp.delete("/hotspot-layers/<layer_id>/points/<int:point_id>")
def delete_point(layer_id: str, point_id: int):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, WRITE, "delete")
        feature = records.delete_point(db, layer, who, point_id)
    return jsonify(feature)


@bp.post("/hotspot-layers/<layer_id>/points/<int:point_id>/restore")
def restore_point(layer_id: str, point_id: int):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ, "restore")
        feature = records.restore_point(db, layer, who, point_id)
    return jsonify(feature)


@bp.get("/hotspot-layers/<layer_id>/points/<int:point_id>/history")
def point_history(layer_id: str, point_id: int):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        body = records.history(db, layer, who, point_id)
    return jsonify(body)


@bp.get("/hotspot-layers/<layer_id>/unplaced")
def unplaced(layer_id: str):
    check_args(("from", "to"))
    who = signed_in()
    date_from, date_to = date_range()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        items = records.unlocated_records(db, layer, who, False, date_from, date_to)
    return jsonify({"layer": layer_id, "records": items, "places": sorted({i["place"] for i in items})})


@bp.get("/hotspot-layers/<layer_id>/series")
def area_series(layer_id: str):
    check_args(("from", "to"))
    who = signed_in()
    date_from, date_to = date_range()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        items = records.unlocated_records(db, layer, who, True, date_from, date_to)
    return jsonify({"layer": layer_id, "records": items})


@bp.post("/hotspot-layers/<layer_id>/import")
def import_points(layer_id: str):
    who = signed_in()
    upload = request.files.get("file")
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "import")
        if upload is None or not upload.filename:
            raise ApiError(400, "attach a .csv or .geojson file as the multipart field 'file'")
        name = PurePath(upload.filename.replace("\\", "/")).name
        parsed = read_import_file(name, upload.read())
        with transaction(engine()) as db:
            layer = records.require_layer(db, layer_id, who, WRITE, "import")
            summary = records.import_points(db, layer, who, parsed, settings().record_buffer_metres)
    return jsonify(summary), 201


# --- grants -------------------------------------------------------------------------------------------------------


def _user_or_404(db: Any, username: str) -> Any:
    user = accounts.find_user(db, username)
    if user is None:
        raise ApiError(404, f"no user '{username}'")
    return user


@bp.get("/hotspot-layers/<layer_id>/grants")
def list_grants(layer_id: str):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "see grants")
        layer = records.require_layer(db, layer_id, who, READ)
        grants = hotspot_store.layer_grants(db, layer["id"])
    return jsonify({"layer": layer_id, "grants": [{
        "username": row["username"], "role": row["role"], "active": row["active"], "access": row["access"],
        "granted_by": row["granted_by"], "granted_at": row["granted_at"].isoformat()} for row in grants]})


@bp.put("/hotspot-layers/<layer_id>/grants/<username>")
def put_grant(layer_id: str, username: str):
    who = signed_in()
    body = json_body()
    access = body.get("access")
    if access not in (READ, WRITE):
        raise ApiError(400, "send {\"access\": \"read\"} or {\"access\": \"write\"}: a grant is never implied")
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "grant access to layers")
        result = records.grant(db, who, layer_id, _user_or_404(db, username), access)
    return jsonify(result)


@bp.delete("/hotspot-layers/<layer_id>/grants/<username>")
def delete_grant(layer_id: str, username: str):
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "revoke access to layers")
        removed = records.revoke(db, who, layer_id, _user_or_404(db, username))
    if not removed:
        raise ApiError(404, f"'{username}' has no grant on '{layer_id}'")
    return jsonify({"layer": layer_id, "user": username, "revoked": True})


# --- gazetteer ----------------------------------------------------------------------------------------------------


@bp.get("/gazetteer")
def list_places():
    check_args(("unplaced",))
    who = signed_in()
    unplaced_only = request.args.get("unplaced", "false").lower()
    if unplaced_only not in ("true", "false"):
        raise ApiError(400, "unplaced must be true or false")
    with audited(who), transaction(engine()) as db:
        places = records.list_places(db, who, unplaced_only == "true")
    return jsonify({"places": places})


@bp.post("/gazetteer")
def create_place():
    who = signed_in()
    body = json_body()
    name = " ".join(str(body.pop("name", "") or "").split())
    note = str(body.pop("note", "") or "").strip()
    layer_id = body.pop("layer", None) or None
    if not name or len(name) > 200:
        raise ApiError(400, "name is required (at most 200 characters)")
    with audited(who):
        location = parse_location(body) if body else None
        with transaction(engine()) as db:
            if location is not None:
                records.require_in_area(db, location, settings().record_buffer_metres)
            place = records.create_place(db, who, name, location.lon if location else None,
                                         location.lat if location else None, note, layer_id)
    return jsonify(place), 201


@bp.put("/gazetteer/<int:place_id>/location")
def place_place(place_id: int):
    who = signed_in()
    body = json_body()
    source = str(body.pop("source", "") or "").strip()
    with audited(who):
        location = parse_location(body)
        with transaction(engine()) as db:
            records.require_in_area(db, location, settings().record_buffer_metres)
            place = records.place_place(db, who, place_id, location.lon, location.lat, source)
    return jsonify(place)


# --- audit log ----------------------------------------------------------------------------------------------------


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, not '{raw}'") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be from {low} to {high}")
    return value


@bp.get("/hotspot-audit")
def audit_log():
    check_args(("layer", "user", "action", "before", "limit"))
    who = signed_in()
    limit = _int_arg("limit", 100, 1, MAX_AUDIT_LIMIT)
    before = _int_arg("before", None, 1, 2**62)
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "read the audit log")
        entries = hotspot_store.audit_entries(db, layer_id=request.args.get("layer") or None,
                                              username=request.args.get("user") or None,
                                              action=request.args.get("action") or None, before_id=before,
                                              limit=limit or 100)
    items = [{**entry, "at": entry["at"].isoformat()} for entry in entries]
    return jsonify({"entries": items, "next_before": items[-1]["id"] if len(items) == limit else None})
