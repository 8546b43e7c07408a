"""Hotspot layers (needle finds, DCSM locations), their points, the gazetteer, grants and the audit log.

The access rules live in server.domain.hotspot_records; every route here resolves the caller, lets the domain check
the layer, and maps its errors to HTTP: 401 nobody signed in, 403 no access (a restricted layer without a grant),
404 no such layer/point/place, 409 a state conflict, 400 bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import PurePath
from typing import Any, TypeVar

from flask import g, jsonify, request
from marshmallow import ValidationError, fields, validates_schema

from server.api import engine, settings
from server.api.auth import current_user
from server.api.contract import (
    GEOJSON,
    Bbox,
    Blueprint,
    Body,
    Loose,
    Query,
    choice,
    declared_body,
    file_upload,
    flag,
    load_declared,
    loose,
    responds,
    text,
    whole,
)
from server.api.errors import ApiError
from server.domain import hotspot_records as records
from server.domain.hotspot_input import (
    MAX_COUNT,
    MAX_TEXT,
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

bp = Blueprint("hotspot_layers", __name__, url_prefix="/api",
               description="Hotspot layers: the partnership's own records (needle finds, DCSM locations)")
READ, WRITE = records.READ, records.WRITE
MAX_AUDIT_LIMIT = 1000
T = TypeVar("T")


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


def on_layer(layer_id: str, need: str, action: str, work: Callable[[Any, dict[str, Any], records.Caller], T]) -> T:
    """`work(session, layer, caller)` once the signed-in caller may `need` the layer, denials audited."""
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        return work(db, records.require_layer(db, layer_id, who, need, action), who)


OBSERVED = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


class Observed(fields.String):
    """from/to: a date, a month (2022-06) or a year (2022); `last` takes the end of a month or year."""

    def __init__(self, last: bool, description: str, **kwargs: Any):
        super().__init__(metadata={"description": description, "pattern": OBSERVED, "example": "2023-05"}, **kwargs)
        self.last = last

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        if "/" in raw:
            raise ValidationError("must be a single date, month or year, not a range")
        try:
            first, final = parse_observed(raw[:40])
        except PointInputError:
            raise ValidationError(f"must be a date (2022-06-30), a month (2022-06) or a year (2022), "
                                  f"not '{raw[:40]}'") from None
        return final if self.last else first


class ObservedRange(Query):
    """Records observed in a date range (from/to), both optional."""

    date_from = Observed(False, "observed on or after: a date 2023-05-01, a month 2023-05 or a year 2023",
                         data_key="from")
    date_to = Observed(True, "observed on or before: a date, a month (its last day) or a year (31 December)",
                       data_key="to")

    @validates_schema
    def _in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(f"to ({data['date_to']}) is before from ({data['date_from']})")


class PointsQuery(ObservedRange):
    bbox = Bbox()
    deleted = choice(records.DELETED_VIEWS, "exclude (default); include or only: admins", default="exclude")


class PlacesQuery(Query):
    unplaced = flag("true: only places without a point", default=False)


class AuditQuery(Query):
    layer = text("only this layer's entries")
    user = text("only this user's entries")
    action = text("only this action, e.g. read-points")
    before = whole(1, 2**62, "entries older than this id (the previous page's next_before)")
    limit = whole(1, MAX_AUDIT_LIMIT, "entries per page", default=100)


class GrantBody(Body):
    access = choice((READ, WRITE), "read or write: a grant is never implied", required=True,
                    error="must be read or write: a grant is never implied",
                    error_messages={"required": "is required (read or write): a grant is never implied"})


class Location(Loose):
    """A location: lon/lat in degrees or easting/northing in British National Grid metres."""

    lon = loose("number", "the location must lie in the partnership area (the current wards plus "
                "CSP_ATLAS_RECORD_BUFFER_METRES); lon/lat or easting/northing the wrong way round are refused with "
                "what to send")
    lat = loose("number")
    easting = loose("number")
    northing = loose("number")


class HotspotPointInput(Location):
    """A location and/or a place name; observed or observed_from[/observed_to]. Or a GeoJSON Feature with a Point
    and these as its properties. Names are matched like an import's columns (any case, aliases such as longitude);
    the values are checked by server.domain.hotspot_input.parse_point, the check imported files get too."""

    place = loose("string", maxLength=MAX_TEXT["place"])
    location = loose("object", "PATCH only: null removes the point's own location")
    observed = loose("string", "a date, a month, a year or a range of two dates", example="2023-05")
    observed_from = loose("string", format="date")
    observed_to = loose("string", format="date")
    count = loose("integer", "default 1; null = not known", minimum=1, maximum=MAX_COUNT)
    category = loose("string", maxLength=MAX_TEXT["category"])
    notes = loose("string", maxLength=MAX_TEXT["notes"])


PLACE_NAME = "is required (at most 200 characters)"


class PlaceInput(Location):
    name = loose("string", "the place's name", maxLength=200, required=PLACE_NAME)
    note = loose("string")
    layer = loose("string", "a restricted layer's private place")


class PlaceLocation(Location):
    source = loose("string", "where the location comes from")


NO_IMPORT_FILE = "attach a .csv or .geojson file as the multipart field 'file'"
PointsFile = file_upload("PointsFile", NO_IMPORT_FILE)
ACCESS = (401, 403, 404)
ACCESS_RULES = (
    "Access: anonymous 401. Internal layers (needle-finds): any signed-in user reads, role officer or above writes. "
    "Restricted layers (dcsm-locations): only users an admin granted the layer (read or write) and admins; anyone "
    "else gets 403 and the layer is not listed. Reads of restricted layers and all writes are audited.")
FEATURE = "the point as a GeoJSON Feature (geometry null when it has no location yet)"


def point_body() -> dict[str, Any]:
    body = load_declared(HotspotPointInput)
    return feature_record(body) if body.get("type") == "Feature" else body


# --- layers -------------------------------------------------------------------------------------------------------


STATISTICS = (" Each layer has `statistics`: its figures with no locations (the DCSM's 2023 borough counts), each "
              "with value, unit, period, paragraph, source_line and the quote as printed.")


@bp.get("/hotspot-layers")
@responds(bp, 200, "layers", schema="HotspotLayers", errors=(401,))
@bp.arguments(Query, location="query")
def list_layers(_query: dict):
    """The hotspot layers the caller may see, with metadata and the caller's access (read or write)"""
    who = signed_in()
    with transaction(engine()) as db:
        layers = records.readable_layers_json(db, records.visible_layers(db, who), who)
    return jsonify({"hotspot_layers": layers})


@bp.get("/hotspot-layers/<layer_id>")
@responds(bp, 200, "layer", schema="HotspotLayer", errors=ACCESS)
@bp.arguments(Query, location="query")
def layer_detail(_query: dict, layer_id: str):
    """One hotspot layer's metadata"""
    (item,) = on_layer(layer_id, READ, "read", lambda db, layer, who: records.readable_layers_json(db, [layer], who))
    return jsonify(item)


@bp.get("/hotspot-layers/<layer_id>/points")
@responds(bp, 200, "RFC 7946 FeatureCollection with `layer` and `summary` (the records not on the map)", GEOJSON,
          "FeatureCollection", errors=ACCESS)
@bp.arguments(PointsQuery, location="query")
def list_points(query: dict, layer_id: str):
    """The layer's points that have a location (their own, or their named place's), as GeoJSON"""
    who = signed_in()
    bbox, date_from, date_to = query.get("bbox"), query.get("date_from"), query.get("date_to")
    deleted = query["deleted"]
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        body = records.points_collection(db, layer, who, date_from, date_to, bbox, deleted)
    response = jsonify(body)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/hotspot-layers/<layer_id>/points")
@responds(bp, 201, FEATURE, schema="HotspotPoint", errors=ACCESS)
@declared_body(bp, HotspotPointInput)
def create_point(layer_id: str):
    """Record a point (write access). Body: a JSON object or a GeoJSON Feature with a Point."""
    who = signed_in()
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "create")
        point = parse_point(point_body())
        with transaction(engine()) as db:
            layer = records.require_layer(db, layer_id, who, WRITE, "create")
            feature = records.create_point(db, layer, who, point, settings().record_buffer_metres)
    return jsonify(feature), 201


@bp.get("/hotspot-layers/<layer_id>/points/<int:point_id>")
@responds(bp, 200, FEATURE, schema="HotspotPoint", errors=ACCESS)
def get_point(layer_id: str, point_id: int):
    """One point"""
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        layer = records.require_layer(db, layer_id, who, READ)
        row = records.live_point(db, layer, who, point_id)
        records.audit_read(db, layer, who, "read-point", 1, {"point_id": point_id})
    return jsonify(records.point_feature(row))


@bp.patch("/hotspot-layers/<layer_id>/points/<int:point_id>")
@responds(bp, 200, FEATURE, schema="HotspotPoint", errors=(*ACCESS, 409))
@declared_body(bp, HotspotPointInput)
def update_point(layer_id: str, point_id: int):
    """Edit a point (write access): send only what changes

    `location: null` removes its own point, `place: null` its place. The old and new values go to its history."""
    who = signed_in()
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "update")
        change = parse_point(point_body(), partial=True)
        with transaction(engine()) as db:
            layer = records.require_layer(db, layer_id, who, WRITE, "update")
            feature = records.update_point(db, layer, who, point_id, change,
                                           settings().record_buffer_metres)
    return jsonify(feature)


@bp.delete("/hotspot-layers/<layer_id>/points/<int:point_id>")
@responds(bp, 200, FEATURE, schema="HotspotPoint", errors=(*ACCESS, 409))
def delete_point(layer_id: str, point_id: int):
    """Delete a point (soft: kept with who and when; an admin can restore it)"""
    return jsonify(on_layer(layer_id, WRITE, "delete",
                            lambda db, layer, who: records.delete_point(db, layer, who, point_id)))


@bp.post("/hotspot-layers/<layer_id>/points/<int:point_id>/restore")
@responds(bp, 200, FEATURE, schema="HotspotPoint", errors=(*ACCESS, 409))
def restore_point(layer_id: str, point_id: int):
    """Restore a deleted point (admins)"""
    return jsonify(on_layer(layer_id, READ, "restore",
                            lambda db, layer, who: records.restore_point(db, layer, who, point_id)))


@bp.get("/hotspot-layers/<layer_id>/points/<int:point_id>/history")
@responds(bp, 200, "the point and every change of it: action, who, when, old and new values", errors=ACCESS)
def point_history(layer_id: str, point_id: int):
    """Every change of a point: action, who, when, old and new values"""
    return jsonify(on_layer(layer_id, READ, "read", lambda db, layer, who: records.history(db, layer, who, point_id)))


def _unlocated(query: dict, layer_id: str, area_level: bool) -> list[dict[str, Any]]:
    return on_layer(layer_id, READ, "read", lambda db, layer, who: records.unlocated_records(
        db, layer, who, area_level, query.get("date_from"), query.get("date_to")))


@bp.get("/hotspot-layers/<layer_id>/unplaced")
@responds(bp, 200, "records and place names", errors=ACCESS)
@bp.arguments(ObservedRange, location="query")
def unplaced(query: dict, layer_id: str):
    """Records at named places that have no point yet (placing the place places them)"""
    items = _unlocated(query, layer_id, area_level=False)
    return jsonify({"layer": layer_id, "records": items, "places": sorted({i["place"] for i in items})})


@bp.get("/hotspot-layers/<layer_id>/series")
@responds(bp, 200, "records", errors=ACCESS)
@bp.arguments(ObservedRange, location="query")
def area_series(query: dict, layer_id: str):
    """Area-level records, e.g. the monthly borough totals of needle finds (area_code E07000110)"""
    return jsonify({"layer": layer_id, "records": _unlocated(query, layer_id, area_level=True)})


@bp.post("/hotspot-layers/<layer_id>/import")
@responds(bp, 201, "imported: counts, new places, ignored columns", errors=(*ACCESS, 400, 413))
@declared_body(bp, PointsFile, "files")
def import_points(layer_id: str):
    """Import a CSV or a GeoJSON file of points, all or nothing

    CSV columns: lon,lat or easting,northing or place; observed or observed_from/observed_to; count; category;
    notes. A refused file gives 400 with problems [{file, row, reason}] (CSV row = line number, header = 1; GeoJSON
    row = feature number). Unknown place names become new, unplaced gazetteer places."""
    who = signed_in()
    with audited(who):
        with transaction(engine()) as db:
            records.require_layer(db, layer_id, who, WRITE, "import")
        upload = load_declared(PointsFile, "files")["file"]
        if not upload.filename:
            raise ApiError(400, NO_IMPORT_FILE)
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
@responds(bp, 200, "grants", errors=ACCESS)
def list_grants(layer_id: str):
    """Who is granted the layer (admins)"""
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "see grants")
        layer = records.require_layer(db, layer_id, who, READ)
        grants = hotspot_store.layer_grants(db, layer["id"])
    return jsonify({"layer": layer_id, "grants": [{
        "username": row["username"], "role": row["role"], "active": row["active"], "access": row["access"],
        "granted_by": row["granted_by"], "granted_at": row["granted_at"].isoformat()} for row in grants]})


@bp.put("/hotspot-layers/<layer_id>/grants/<username>")
@responds(bp, 200, "granted", errors=ACCESS)
@bp.arguments(GrantBody, location="json")
def put_grant(body: dict, layer_id: str, username: str):
    """Grant a restricted layer to a user (admins): {"access": "read"} or {"access": "write"}"""
    who = signed_in()
    access = body["access"]
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "grant access to layers")
        result = records.grant(db, who, layer_id, _user_or_404(db, username), access)
    return jsonify(result)


@bp.delete("/hotspot-layers/<layer_id>/grants/<username>")
@responds(bp, 200, "revoked", errors=ACCESS)
def delete_grant(layer_id: str, username: str):
    """Revoke a user's grant (admins)"""
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "revoke access to layers")
        removed = records.revoke(db, who, layer_id, _user_or_404(db, username))
    if not removed:
        raise ApiError(404, f"'{username}' has no grant on '{layer_id}'")
    return jsonify({"layer": layer_id, "user": username, "revoked": True})


# --- gazetteer ----------------------------------------------------------------------------------------------------


@bp.get("/gazetteer")
@responds(bp, 200, "places", errors=(401, 403))
@bp.arguments(PlacesQuery, location="query")
def list_places(query: dict):
    """Named places the caller may see, with their point (null when unplaced), sources and record counts

    Shared places, and private places of restricted layers the caller may read; counts per visible layer."""
    who = signed_in()
    with audited(who), transaction(engine()) as db:
        places = records.list_places(db, who, query["unplaced"])
    return jsonify({"places": places})


@bp.post("/gazetteer")
@responds(bp, 201, "the place (409: the gazetteer has that name already)", errors=(*ACCESS, 409))
@declared_body(bp, PlaceInput)
def create_place():
    """Add a named place (officer or above), with or without a location"""
    who = signed_in()
    body = load_declared(PlaceInput)
    name = " ".join(str(body.pop("name", "") or "").split())
    note = str(body.pop("note", "") or "").strip()
    layer_id = body.pop("layer", None) or None
    if not name or len(name) > 200:
        raise ApiError(400, f"name {PLACE_NAME}")
    with audited(who):
        location = parse_location(body) if body else None
        with transaction(engine()) as db:
            if location is not None:
                records.require_in_area(db, location, settings().record_buffer_metres)
            place = records.create_place(db, who, name, location.lon if location else None,
                                         location.lat if location else None, note, layer_id)
    return jsonify(place), 201


@bp.put("/gazetteer/<int:place_id>/location")
@responds(bp, 200, "the place, placed (its unplaced records are placed with it)", errors=(*ACCESS, 409))
@declared_body(bp, PlaceLocation)
def place_place(place_id: int):
    """Give a place its location (lon/lat or easting/northing) and the source of it"""
    who = signed_in()
    body = load_declared(PlaceLocation)
    source = str(body.pop("source", "") or "").strip()
    with audited(who):
        location = parse_location(body)
        with transaction(engine()) as db:
            records.require_in_area(db, location, settings().record_buffer_metres)
            place = records.place_place(db, who, place_id, location.lon, location.lat, source)
    return jsonify(place)


# --- audit log ----------------------------------------------------------------------------------------------------


@bp.get("/hotspot-audit")
@responds(bp, 200, "entries, newest first, and next_before for the next page", errors=(401, 403))
@bp.arguments(AuditQuery, location="query")
def audit_log(query: dict):
    """The hotspot audit log (admins): reads of restricted layers, denials and every change"""
    who = signed_in()
    limit, before = query["limit"], query.get("before")
    with audited(who), transaction(engine()) as db:
        records.require_admin(who, "read the audit log")
        entries = hotspot_store.audit_entries(db, layer_id=query.get("layer"),
                                              username=query.get("user"), action=query.get("action"),
                                              before_id=before,
                                              limit=limit or 100)
    items = [{**entry, "at": entry["at"].isoformat()} for entry in entries]
    return jsonify({"entries": items, "next_before": items[-1]["id"] if len(items) == limit else None})
