"""Hotspot layers and their points: who may read and write them, edits with history, soft delete, imports,
the gazetteer of named places, and the audit log (no Flask: the API and the CLI call these inside a transaction).

Access rules (the same for every route, the statistics included):

- nobody signed in: nothing (HTTP 401);
- ``internal`` layers (needle finds): every signed-in user may read them, viewers included (they are partnership
  staff with read-only accounts); writing needs the ``officer`` role or above;
- ``restricted`` layers (DCSM locations): only users an admin granted the layer (``read`` or ``write``), and
  admins. Everyone else gets 403 and does not see the layer listed; its points appear in no other response;
- admins may do everything, and only admins restore deleted points, see deleted points and read the audit log;
- named places: any signed-in user sees the shared gazetteer; a place first named in a restricted layer is private
  to that layer. Placing an unplaced shared place needs ``officer``; moving a placed one needs ``gis`` (it moves
  every record at it). A private place needs write access to its layer.

The audit log (append-only in the database) records every read of a restricted layer and every write to any layer:
user, time, action, layer and number of features.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server.domain.accounts import role_at_least
from server.domain.errors import ConflictError, DomainError, NotFoundError
from server.domain.hotspot_input import (
    ImportFileError,
    ParsedImport,
    PointInput,
    PointInputError,
)
from server.domain.partnership_area import DEFAULT_BUFFER_METRES, check_location, location_problems
from server.store import annotations as annotation_store
from server.store import hotspots as store

READ, WRITE = "read", "write"
DELETED_VIEWS = ("exclude", "include", "only")


class AccessDenied(DomainError):
    """401 (nobody signed in) or 403; `audit_layer` names the restricted layer whose denial is logged."""

    def __init__(self, status: int, message: str, audit_layer: str | None = None, action: str = ""):
        super().__init__(message)
        self.status = status
        self.audit_layer = audit_layer
        self.action = action


class NotFound(NotFoundError, LookupError):
    pass


class Conflict(ConflictError):
    pass


class RecordError(DomainError, ValueError):
    """Input that is well-formed but cannot be applied (HTTP 400)."""


@dataclass(frozen=True)
class Caller:
    username: str
    role: str
    user_id: int | None = None
    grants: Mapping[str, str] = field(default_factory=dict)  # layer id -> read | write

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def caller_for(session: Session, user: Any) -> Caller | None:
    """The caller of a request from a signed-in User row (None when nobody is signed in)."""
    if user is None:
        return None
    return Caller(user.username, user.role, user.id, store.grants_of_user(session, user.id))


# --- access -------------------------------------------------------------------------------------------------------


def layer_access(layer: Mapping[str, Any], caller: Caller | None) -> str | None:
    """'write', 'read' or None."""
    if caller is None:
        return None
    if caller.is_admin:
        return WRITE
    if layer["sensitivity"] == "internal":
        return WRITE if role_at_least(caller.role, "officer") else READ
    return caller.grants.get(layer["id"])


def visible_layers(session: Session, caller: Caller | None) -> list[dict[str, Any]]:
    return [dict(layer, access=layer_access(layer, caller)) for layer in store.list_layers(session)
            if layer_access(layer, caller)]


def require_layer(session: Session, layer_id: str, caller: Caller | None, need: str = READ,
                  action: str = "read") -> dict[str, Any]:
    """The layer if the caller may `need` it; else AccessDenied: 401 when nobody is signed in, 404 for a layer that
    does not exist or that the caller may not read (the same answer, so a restricted layer's existence does not leak;
    the denial is still audited), 403 for a write without write access."""
    if caller is None:
        raise AccessDenied(401, "sign in or send 'Authorization: Bearer <token>' to see hotspot layers")
    layer = store.get_layer(session, layer_id)
    if layer is None:
        raise AccessDenied(404, no_such_layer(layer_id))
    access = layer_access(layer, caller)
    if access is None:
        raise AccessDenied(404, no_such_layer(layer_id), audit_layer=layer_id, action=action)
    if need == WRITE and access != WRITE:
        how = ("the 'officer' role or higher" if layer["sensitivity"] == "internal"
               else "a write grant from an admin")
        raise AccessDenied(403, f"you may read '{layer_id}' but not change it: that needs {how}",
                           audit_layer=layer_id if layer["sensitivity"] == "restricted" else None, action=action)
    return layer


def readable_layers_json(session: Session, layers: list[Mapping[str, Any]], caller: Caller | None
                         ) -> list[dict[str, Any]]:
    """The layers the caller may read, each with its borough-level figures (e.g. the DCSM's 2023 counts).

    The one way those figures leave the database: a layer the caller may not read is dropped here, figures and all.
    """
    readable = [(layer, layer_access(layer, caller)) for layer in layers]
    readable = [(layer, access) for layer, access in readable if access]
    figures = annotation_store.layer_statistics(session, [layer["id"] for layer, _access in readable])
    return [dict(layer_json(layer, access), statistics=figures.get(layer["id"], [])) for layer, access in readable]


def no_such_layer(layer_id: str) -> str:
    return f"no hotspot layer '{layer_id}'"


def require_admin(caller: Caller | None, what: str) -> Caller:
    if caller is None:
        raise AccessDenied(401, "sign in or send 'Authorization: Bearer <token>'")
    if not caller.is_admin:
        raise AccessDenied(403, f"only admins may {what}")
    return caller


def audit_denied(session: Session, caller: Caller | None, denied: AccessDenied, detail: dict[str, Any]) -> None:
    if denied.audit_layer and caller is not None:
        store.audit(session, caller.username, caller.role, f"denied-{denied.action}", denied.audit_layer, 0, detail)


def audit_read(session: Session, layer: Mapping[str, Any], caller: Caller, action: str, count: int,
               detail: dict[str, Any] | None = None) -> None:
    """Reads are logged for restricted layers only."""
    if layer["sensitivity"] == "restricted":
        store.audit(session, caller.username, caller.role, action, layer["id"], count, detail)


def audit_write(session: Session, layer_id: str | None, caller: Caller, action: str, count: int,
                detail: dict[str, Any] | None = None) -> None:
    store.audit(session, caller.username, caller.role, action, layer_id, count, detail)


# --- serialising --------------------------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def layer_json(layer: Mapping[str, Any], access: str | None = None) -> dict[str, Any]:
    months = layer["retention_months"]
    retention = f"{months // 12} years" if months % 12 == 0 else f"{months} months"
    item = {"id": layer["id"], "title": layer["title"], "description": layer["description"],
            "sensitivity": layer["sensitivity"], "owner_team": layer["owner_team"],
            "retention": {"months": months, "text": retention, "note": layer["retention_note"]},
            "count_unit": layer["count_unit"]}
    if access:
        item["access"] = access
    return item


def snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """The editable values of a point, as kept in its history."""
    location = None if row["own_lon"] is None else {"lon": row["own_lon"], "lat": row["own_lat"]}
    return {"location": location, "place": row["place_name"], "place_id": row["place_id"],
            "place_name_given": row["place_name_given"], "area_code": row["area_code"],
            "observed_from": _iso(row["observed_from"]), "observed_to": _iso(row["observed_to"]),
            "count": row["count"], "category": row["category"], "notes": row["notes"]}


def point_properties(row: Mapping[str, Any]) -> dict[str, Any]:
    properties = {
        "id": row["id"], "layer": row["layer_id"], "observed_from": _iso(row["observed_from"]),
        "observed_to": _iso(row["observed_to"]), "count": row["count"], "category": row["category"],
        "notes": row["notes"], "place": row["place_name"], "place_id": row["place_id"],
        "place_name_given": row["place_name_given"] or None, "place_note": row["place_note"] or None,
        "area_code": row["area_code"], "located_by": row["located_by"], "source": row["source"] or None,
        "recorded_by": row["recorded_by"], "recorded_at": _iso(row["recorded_at"]),
        "updated_by": row["updated_by"], "updated_at": _iso(row["updated_at"]),
        "deleted": row["deleted_at"] is not None}
    if row["deleted_at"] is not None:
        properties.update(deleted_by=row["deleted_by"], deleted_at=_iso(row["deleted_at"]))
    return properties


def point_feature(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": row["id"],
            "geometry": json.loads(row["geometry"]) if row["geometry"] else None,
            "properties": point_properties(row)}


# --- reading ------------------------------------------------------------------------------------------------------


def points_collection(session: Session, layer: Mapping[str, Any], caller: Caller, date_from: date | None,
                      date_to: date | None, bbox: tuple[float, float, float, float] | None,
                      deleted: str = "exclude") -> dict[str, Any]:
    """The located points of a layer as an RFC 7946 FeatureCollection, with the layer and what is not on the map."""
    if deleted != "exclude":
        require_admin(caller, "see deleted points")
    rows = store.located_points(session, layer["id"], date_from, date_to, bbox, deleted)
    summary = store.point_summary(session, layer["id"], date_from, date_to)
    audit_read(session, layer, caller, "read-points", len(rows),
               {"from": _iso(date_from), "to": _iso(date_to), "bbox": bbox, "deleted": deleted})
    return {"type": "FeatureCollection", "features": [point_feature(r) for r in rows],
            "layer": layer_json(layer, layer_access(layer, caller)),
            "summary": {"features": len(rows), "located": summary["located"],
                        "unplaced": summary["unplaced"], "area_level": summary["area_level"],
                        "from": _iso(date_from), "to": _iso(date_to)}}


def unlocated_records(session: Session, layer: Mapping[str, Any], caller: Caller, area_level: bool,
                      date_from: date | None = None, date_to: date | None = None) -> list[dict[str, Any]]:
    rows = store.unlocated_points(session, layer["id"], area_level, date_from, date_to)
    audit_read(session, layer, caller, "read-area-records" if area_level else "read-unplaced", len(rows))
    return [point_properties(r) for r in rows]


def live_point(session: Session, layer: Mapping[str, Any], caller: Caller, point_id: int) -> dict[str, Any]:
    """A point that is not deleted (admins also see deleted ones); NotFound otherwise."""
    row = store.get_point(session, layer["id"], point_id)
    if row is None or (row["deleted_at"] is not None and not caller.is_admin):
        raise NotFound(f"no point {point_id} in '{layer['id']}'")
    return row


def history(session: Session, layer: Mapping[str, Any], caller: Caller, point_id: int) -> dict[str, Any]:
    row = live_point(session, layer, caller, point_id)
    entries = [{"id": e["id"], "action": e["action"], "by": e["changed_by"], "at": _iso(e["changed_at"]),
                "old": e["old_values"], "new": e["new_values"]} for e in store.point_history(session, point_id)]
    audit_read(session, layer, caller, "read-history", 1, {"point_id": point_id})
    return {"point": point_feature(row), "history": entries}


# --- places -------------------------------------------------------------------------------------------------------


def place_key(name: str) -> str:
    """How names are compared: case, punctuation, '&'/'and' and a leading 'the' do not matter."""
    key = name.casefold().replace("&", " and ")
    key = re.sub(r"[^\w\s]", "", key)
    key = " ".join(key.split())
    return key.removeprefix("the ").strip()


def find_place(places: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """Shared places first, then private ones; by name or alias."""
    key = place_key(name)
    for place in sorted(places, key=lambda p: (p["layer_id"] is not None, p["id"])):
        if place["name_key"] == key or key in {place_key(alias) for alias in place["aliases"] or []}:
            return place
    return None


@dataclass
class PlaceResolver:
    """Finds or creates the places a layer's records name (new places of a restricted layer are private to it)."""

    session: Session
    layer: Mapping[str, Any]
    username: str
    created: list[str] = field(default_factory=list)
    _places: list[dict[str, Any]] | None = None

    def place_id(self, name: str) -> int:
        private_to = self.layer["id"] if self.layer["sensitivity"] == "restricted" else None
        if self._places is None:
            # A restricted record binds only to its layer's private places: a shared place can be created, placed
            # and moved by people without the layer's grant, and would move the record with it.
            self._places = [p for p in store.places_in_scope(self.session, [self.layer["id"]])
                            if p["layer_id"] == private_to]
        found = find_place(self._places, name)
        if found is not None:
            return found["id"]
        new_id = store.create_place(self.session, name=name, name_key=place_key(name), layer_id=private_to,
                                    created_by=self.username,
                                    sources=[{"source": f"first named in a record of {self.layer['id']}",
                                              "by": self.username}])
        self._places.append({"id": new_id, "name": name, "name_key": place_key(name), "aliases": [],
                             "layer_id": private_to})
        self.created.append(name)
        return new_id


def place_json(place: Mapping[str, Any], counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    placed = place["lon"] is not None
    return {"id": place["id"], "name": place["name"], "aliases": place["aliases"], "note": place["note"] or None,
            "placed": placed, "lon": place["lon"], "lat": place["lat"], "placed_by": place["placed_by"],
            "placed_at": _iso(place["placed_at"]), "private_to_layer": place["layer_id"],
            "sources": place["sources"], "records": dict(counts or {})}


def list_places(session: Session, caller: Caller, unplaced_only: bool = False) -> list[dict[str, Any]]:
    layers = visible_layers(session, caller)
    layer_ids = [layer["id"] for layer in layers]
    counts = store.record_counts_by_place(session, layer_ids)
    places = [p for p in store.places_in_scope(session, layer_ids) if not (unplaced_only and p["lon"] is not None)]
    for layer in layers:
        counted = sum(counts.get(p["id"], {}).get(layer["id"], 0) for p in places)
        private = sum(1 for p in places if p["layer_id"] == layer["id"])
        if counted or private:
            audit_read(session, layer, caller, "read-gazetteer", counted, {"private_places": private})
    return [place_json(p, counts.get(p["id"])) for p in places]


def _visible_place(session: Session, caller: Caller, place_id: int) -> dict[str, Any]:
    place = store.get_place(session, place_id)
    if place is None or (place["layer_id"] and not _layer_readable(session, place["layer_id"], caller)):
        raise NotFound(f"no place {place_id} in the gazetteer")
    return place


def _layer_readable(session: Session, layer_id: str, caller: Caller) -> bool:
    layer = store.get_layer(session, layer_id)
    return layer is not None and layer_access(layer, caller) is not None


def create_place(session: Session, caller: Caller, name: str, lon: float | None, lat: float | None,
                 note: str = "", layer_id: str | None = None) -> dict[str, Any]:
    if layer_id is not None:
        layer = require_layer(session, layer_id, caller, WRITE, "create-place")
        if layer["sensitivity"] != "restricted":
            raise RecordError("only places of a restricted layer are private; leave layer out for a shared place")
    elif not role_at_least(caller.role, "officer"):
        raise AccessDenied(403, "adding a place to the gazetteer needs the 'officer' role or higher")
    visible = [layer_id] if layer_id else []
    existing = find_place([p for p in store.places_in_scope(session, visible) if p["layer_id"] == layer_id], name)
    if existing is not None:
        raise Conflict(f"the gazetteer already has '{existing['name']}' (place {existing['id']})")
    place_id = store.create_place(session, name=name, name_key=place_key(name), layer_id=layer_id,
                                  created_by=caller.username, lon=lon, lat=lat, note=note,
                                  sources=[{"source": "added in CSP Atlas", "by": caller.username}])
    audit_write(session, layer_id, caller, "create-place", 0, {"place_id": place_id, "placed": lon is not None})
    return place_json(_visible_place(session, caller, place_id))


def place_place(session: Session, caller: Caller, place_id: int, lon: float, lat: float,
                source: str = "") -> dict[str, Any]:
    """Put a place on the map (or move it); every record located by the place moves with it, with history."""
    place = _visible_place(session, caller, place_id)
    affected = store.points_located_by_place(session, place_id)
    _check_may_place(session, caller, place, affected)
    old = None if place["lon"] is None else {"lon": place["lon"], "lat": place["lat"]}
    store.set_place_location(session, place_id, lon, lat, caller.username,
                             {"source": source or "placed in CSP Atlas", "by": caller.username, "lon": lon,
                              "lat": lat})
    new = {"lon": lon, "lat": lat}
    store.add_history(session, [{"point_id": p["id"], "layer_id": p["layer_id"], "action": "place",
                                 "changed_by": caller.username,
                                 "old_values": {"place_location": old, "place": place["name"]},
                                 "new_values": {"place_location": new, "place": place["name"]}} for p in affected])
    by_layer: dict[str, int] = {}
    for point in affected:
        by_layer[point["layer_id"]] = by_layer.get(point["layer_id"], 0) + 1
    for layer_id, count in sorted(by_layer.items()):
        audit_write(session, layer_id, caller, "place", count, {"place_id": place_id, "moved": old is not None})
    if not by_layer:
        audit_write(session, place["layer_id"], caller, "place", 0, {"place_id": place_id, "moved": old is not None})
    readable = {layer["id"] for layer in visible_layers(session, caller)}
    result = place_json(store.get_place(session, place_id),
                        {k: v for k, v in by_layer.items() if k in readable})
    result["records_placed"] = sum(v for k, v in by_layer.items() if k in readable)
    return result


def _check_may_place(session: Session, caller: Caller, place: Mapping[str, Any],
                     affected: list[dict[str, Any]]) -> None:
    """Placing a place moves every record located by it: that needs write access to each of their layers."""
    if place["layer_id"]:
        require_layer(session, place["layer_id"], caller, WRITE, "place")
    else:
        needed = "gis" if place["lon"] is not None else "officer"
        if not role_at_least(caller.role, needed):
            what = "moving a placed" if needed == "gis" else "placing a"
            raise AccessDenied(403, f"{what} shared place needs the '{needed}' role or higher (it moves every "
                                    "record at the place)")
    for layer_id in sorted({p["layer_id"] for p in affected} - {place["layer_id"]}):
        try:
            require_layer(session, layer_id, caller, WRITE, "place")
        except AccessDenied as denied:
            raise AccessDenied(403, "this place locates records that you may not change, so you may not place it",
                               audit_layer=denied.audit_layer, action="place") from None


# --- writing ------------------------------------------------------------------------------------------------------


def _new_values(point: PointInput, resolver: PlaceResolver) -> dict[str, Any]:
    return {"lon": point.lon, "lat": point.lat,
            "place_id": resolver.place_id(point.place) if point.place else None,
            "place_name_given": point.place or "", "observed_from": point.observed_from,
            "observed_to": point.observed_to, "count": point.count, "category": point.category,
            "notes": point.notes}


def insert_record(session: Session, layer: Mapping[str, Any], values: dict[str, Any], by: str, source: str = "",
            seed_key: str | None = None) -> dict[str, Any]:
    point_id = store.insert_point(session, layer["id"], values, by, source, seed_key)
    row = store.get_point(session, layer["id"], point_id)
    store.add_history(session, [{"point_id": point_id, "layer_id": layer["id"], "action": "create",
                                 "changed_by": by, "old_values": None, "new_values": snapshot(row)}])
    return row


def require_in_area(session: Session, point: PointInput, buffer_metres: float = DEFAULT_BUFFER_METRES) -> None:
    """PointInputError when the point's location lies outside the partnership area (saying so, or what to swap)."""
    problem = check_location(session, point.given_location, buffer_metres)
    if problem:
        raise PointInputError([problem])


def create_point(session: Session, layer: Mapping[str, Any], caller: Caller, point: PointInput,
                 buffer_metres: float = DEFAULT_BUFFER_METRES) -> dict[str, Any]:
    require_in_area(session, point, buffer_metres)
    resolver = PlaceResolver(session, layer, caller.username)
    row = insert_record(session, layer, _new_values(point, resolver), caller.username, "captured in CSP Atlas")
    audit_write(session, layer["id"], caller, "create", 1, {"point_id": row["id"], "new_places": resolver.created})
    return point_feature(row)


def update_point(session: Session, layer: Mapping[str, Any], caller: Caller, point_id: int,
                 change: PointInput, buffer_metres: float = DEFAULT_BUFFER_METRES) -> dict[str, Any]:
    row = live_point(session, layer, caller, point_id)
    require_in_area(session, change, buffer_metres)
    if row["deleted_at"] is not None:
        raise Conflict(f"point {point_id} is deleted; restore it before editing")
    if not change.given:
        raise RecordError("nothing to change: send any of location (lon/lat or easting/northing, or null), place, "
                          "observed, observed_from, observed_to, count, category, notes")
    changes = _changes(session, layer, caller, row, change)
    if changes:
        store.update_point(session, point_id, changes, caller.username)
    after = store.get_point(session, layer["id"], point_id)
    old, new = snapshot(row), snapshot(after)
    changed = sorted(k for k in new if new[k] != old[k])
    if changed:
        store.add_history(session, [{"point_id": point_id, "layer_id": layer["id"], "action": "update",
                                     "changed_by": caller.username, "old_values": {k: old[k] for k in changed},
                                     "new_values": {k: new[k] for k in changed}}])
        audit_write(session, layer["id"], caller, "update", 1, {"point_id": point_id, "fields": changed})
    return point_feature(after)


def _changes(session: Session, layer: Mapping[str, Any], caller: Caller, row: Mapping[str, Any],
             change: PointInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "location" in change.given:
        changes.update(lon=change.lon, lat=change.lat)
    if "place" in change.given:
        resolver = PlaceResolver(session, layer, caller.username)
        changes.update(place_id=resolver.place_id(change.place) if change.place else None,
                       place_name_given=change.place or "")
    for name in ("observed_from", "observed_to", "count", "category", "notes"):
        if name in change.given:
            changes[name] = getattr(change, name)
    observed_from = changes.get("observed_from", row["observed_from"])
    observed_to = changes.get("observed_to", row["observed_to"])
    if observed_to < observed_from:
        raise RecordError(f"observed_to {observed_to} would be before observed_from {observed_from}")
    has_point = changes["lon"] is not None if "lon" in changes else row["own_lon"] is not None
    has_place = changes["place_id"] is not None if "place_id" in changes else row["place_id"] is not None
    if not (has_point or has_place or row["area_code"]):
        raise RecordError("the point would have no location: keep lon/lat or a place")
    return changes


def delete_point(session: Session, layer: Mapping[str, Any], caller: Caller, point_id: int) -> dict[str, Any]:
    row = live_point(session, layer, caller, point_id)
    if row["deleted_at"] is not None:
        raise Conflict(f"point {point_id} is already deleted")
    store.set_deleted(session, point_id, caller.username)
    store.add_history(session, [{"point_id": point_id, "layer_id": layer["id"], "action": "delete",
                                 "changed_by": caller.username, "old_values": {"deleted": False},
                                 "new_values": {"deleted": True}}])
    audit_write(session, layer["id"], caller, "delete", 1, {"point_id": point_id})
    return point_feature(store.get_point(session, layer["id"], point_id))


def restore_point(session: Session, layer: Mapping[str, Any], caller: Caller, point_id: int) -> dict[str, Any]:
    require_admin(caller, "restore deleted points")
    row = live_point(session, layer, caller, point_id)
    if row["deleted_at"] is None:
        raise Conflict(f"point {point_id} is not deleted")
    store.set_deleted(session, point_id, None)
    store.add_history(session, [{"point_id": point_id, "layer_id": layer["id"], "action": "restore",
                                 "changed_by": caller.username,
                                 "old_values": {"deleted": True, "deleted_by": row["deleted_by"],
                                                "deleted_at": _iso(row["deleted_at"])},
                                 "new_values": {"deleted": False}}])
    audit_write(session, layer["id"], caller, "restore", 1, {"point_id": point_id})
    return point_feature(store.get_point(session, layer["id"], point_id))


def import_points(session: Session, layer: Mapping[str, Any], caller: Caller, parsed: ParsedImport,
                  buffer_metres: float = DEFAULT_BUFFER_METRES) -> dict[str, Any]:
    """Store every row of a checked file in the caller's transaction (all or nothing): ImportFileError naming every
    row whose location lies outside the partnership area."""
    located = [(number, point.given_location) for number, point in parsed.rows if point.given_location]
    reasons = location_problems(session, [loc for _, loc in located], buffer_metres)
    problems = [{"file": parsed.file, "row": number, "reason": reason}
                for (number, _), reason in zip(located, reasons, strict=True) if reason]
    if problems:
        raise ImportFileError(parsed.file, problems)
    resolver = PlaceResolver(session, layer, caller.username)
    located = 0
    for row_number, point in parsed.rows:
        row = insert_record(session, layer, _new_values(point, resolver), caller.username,
                      f"imported from {parsed.file} row {row_number}")
        located += row["geometry"] is not None
    audit_write(session, layer["id"], caller, "import", len(parsed.rows),
                {"file": parsed.file, "new_places": resolver.created})
    return {"layer": layer["id"], "file": parsed.file, "imported": len(parsed.rows), "located": located,
            "unplaced": len(parsed.rows) - located, "new_places": resolver.created,
            "ignored_columns": parsed.ignored_columns, "coordinates": parsed.coordinates}


# --- grants -------------------------------------------------------------------------------------------------------


def grant(session: Session, caller: Caller, layer_id: str, user: Any, access: str) -> dict[str, Any]:
    require_admin(caller, "grant access to layers")
    layer = store.get_layer(session, layer_id)
    if layer is None:
        raise NotFound(f"no hotspot layer '{layer_id}'")
    if access not in (READ, WRITE):
        raise RecordError("access must be 'read' or 'write'")
    if layer["sensitivity"] != "restricted":
        raise RecordError(f"'{layer_id}' is {layer['sensitivity']}: its access follows roles, so grants are only "
                          "for restricted layers")
    before = store.set_grant(session, layer_id, user.id, access, caller.username)
    audit_write(session, layer_id, caller, "grant", 0, {"user": user.username, "access": access, "before": before})
    return {"layer": layer_id, "user": user.username, "access": access, "previous": before}


def revoke(session: Session, caller: Caller, layer_id: str, user: Any) -> bool:
    require_admin(caller, "revoke access to layers")
    if store.get_layer(session, layer_id) is None:
        raise NotFound(f"no hotspot layer '{layer_id}'")
    removed = store.remove_grant(session, layer_id, user.id)
    if removed:
        audit_write(session, layer_id, caller, "revoke", 0, {"user": user.username})
    return removed
