"""Patrol areas for task forces: draw, save, edit with history, archive, summarise, export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify
from marshmallow import fields, validate

from server.api import engine, settings
from server.api.auth import current_user, require_role
from server.api.contract import (
    BINARY,
    GEOJSON,
    Blueprint,
    Body,
    JsonBool,
    Query,
    flag,
    number,
    period_param,
    plain_text,
    responds,
    text,
    whole,
)
from server.api.errors import ApiError
from server.api.spatial_statistics import ClusterQuery, point_analysis, point_source
from server.domain import hotspot_records, patrols
from server.domain import spatial_analysis as analysis
from server.domain.briefing import Briefing, briefing_pdf
from server.domain.patrol_suggest import LIMITS as SUGGEST_LIMITS
from server.domain.patrol_suggest import SuggestRequest, suggest_areas
from server.domain.patrol_summary import (
    crime_points_inside,
    gi_hot_spot_features,
    partnership_points,
    summarise,
    summary_period,
    top_streets,
)
from server.domain.periods import parse_period
from server.store import frames
from server.store import partnerships as partnership_store
from server.store import patrols as store
from server.store.db import transaction
from server.tiles import basemap_source

bp = Blueprint("patrols", __name__, url_prefix="/api/patrol-areas",
               description="Patrol areas for task forces: draw, save, edit with history, summarise, export")
EXPORTS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml", "pdf": "application/pdf"}


def _is_admin() -> bool:
    return current_user().role == "admin"


def _team_of_user(db) -> str | None:
    return store.user_team(db, current_user().username)


def _visible_patrol(db, patrol_id: int) -> dict[str, Any]:
    """404 for areas that do not exist or belong to another team: other teams' plans are not disclosed."""
    patrol = store.get_patrol(db, patrol_id)
    if patrol is None or (not _is_admin() and patrol["team"] != _team_of_user(db)):
        raise ApiError(404, f"no patrol area {patrol_id} visible to you")
    return patrol


class OptionalDate(fields.Date):
    """A date like 2024-06-01; null or "" for none."""

    def __init__(self, description: str):
        super().__init__(allow_none=True, metadata={"description": description},
                         error_messages={"invalid": "must be a date like 2024-06-01"})

    def deserialize(self, value: Any, attr: Any = None, data: Any = None, **kwargs: Any) -> Any:
        return None if value == "" else super().deserialize(value, attr, data, **kwargs)


class PatrolBody(Body):
    name = fields.String(required=True, validate=[validate.Length(1, 120, error="is required (at most 120 "
                                                                                 "characters)"), plain_text],
                         error_messages={"required": "is required (at most 120 characters)", "invalid": "must be text"})
    geometry = fields.Dict(required=True, metadata={"description": "GeoJSON Polygon or MultiPolygon, or a LineString "
                                                                   "route with buffer_m; lon/lat"},
                           error_messages={"required": "send a GeoJSON geometry: Polygon, MultiPolygon, or LineString "
                                                       "with buffer_m",
                                           "invalid": "must be a GeoJSON geometry object"})
    buffer_m = number(patrols.MIN_BUFFER_M, patrols.MAX_BUFFER_M, "route width each side in metres", allow_none=True)
    date_from = OptionalDate("first day of the patrol")
    date_to = OptionalDate("last day of the patrol")
    notes = text("free text", max_length=4000, allow_none=True)
    team = text("the team (admins only; others save for their own team)", max_length=80, allow_none=True)
    archived = JsonBool(metadata={"description": "PATCH only: true archives, false restores"})


class PatrolChanges(PatrolBody):
    """PATCH: only what changes."""


class DrawingBody(Body):
    geometry = PatrolBody().fields["geometry"]
    buffer_m = number(patrols.MIN_BUFFER_M, patrols.MAX_BUFFER_M, "route width each side in metres", allow_none=True)


class PeriodQuery(Query):
    period = period_param("crime period; default the last 3 loaded months")


class ListQuery(Query):
    archived = flag("true adds archived areas", default=False)


class SuggestQuery(ClusterQuery):
    n = whole(*SUGGEST_LIMITS["n"], "candidates at most", default=5)
    min_km2 = number(*SUGGEST_LIMITS["min_km2"], "smallest area in km²", default=0.05)
    max_km2 = number(*SUGGEST_LIMITS["max_km2"], "largest area in km²", default=2.0)


def _geometry(body: dict[str, Any]) -> patrols.PatrolGeometry:
    return patrols.parse_patrol_geometry(body.get("geometry"), body.get("buffer_m"))


def _fields(db, body: dict[str, Any], partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in body or not partial:
        name = body["name"].strip()
        if not name:
            raise ApiError(400, "name is required (at most 120 characters)")
        fields["name"] = name
    if "geometry" in body or not partial:
        drawn = _geometry(body)
        fields.update(geometry=patrols.as_geojson(drawn.area), buffer_m=drawn.buffer_m,
                      route=patrols.as_geojson(drawn.route) if drawn.route else None)
    for name in ("date_from", "date_to"):
        if name in body or not partial:
            fields[name] = body.get(name)
    if "notes" in body:
        fields["notes"] = body["notes"] or ""
    if "team" in body or not partial:
        fields["team"] = _team_for(db, body.get("team"))
    if fields.get("date_from") and fields.get("date_to") and fields["date_to"] < fields["date_from"]:
        raise ApiError(400, "date_to must not be before date_from")
    return fields


def _team_for(db, requested: str | None) -> str:
    own = _team_of_user(db)
    if _is_admin() and requested:
        return str(requested)
    if requested and requested != own:
        raise ApiError(403, f"you may save patrol areas for your own team ({own or 'none'}) only")
    if not own:
        raise ApiError(400, "you belong to no team; an admin can set it with 'scripts/atlas users team NAME TEAM'")
    return own


AREA = "the patrol area as a GeoJSON Feature"
AREAS = "RFC 7946 FeatureCollection of patrol areas"


@bp.get("")
@responds(bp, 200, AREAS, GEOJSON, "FeatureCollection")
@require_role("officer")
@bp.arguments(ListQuery, location="query")
def list_areas(query: dict):
    """Your team's patrol areas (admins: all); archived=true adds archived ones. Role officer."""
    include_archived = query["archived"]
    with transaction(engine()) as db:
        team = None if _is_admin() else _team_of_user(db)
        items = store.list_patrols(db, team, include_archived) if (team or _is_admin()) else []
    response = jsonify({"type": "FeatureCollection", "features": [_feature(p) for p in items]})
    response.mimetype = GEOJSON
    return response


def _feature(patrol: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in patrol.items() if k not in ("geometry",)}
    return {"type": "Feature", "id": patrol["id"], "geometry": patrol["geometry"], "properties": properties}


@bp.post("")
@responds(bp, 201, AREA)
@require_role("officer")
@bp.arguments(PatrolBody, location="json")
def create_area(body: dict):
    """Save a patrol area for your team: name, geometry, date_from, date_to, notes; admins may give team"""
    with transaction(engine()) as db:
        created = store.create_patrol(db, _fields(db, body, partial=False), current_user().username)
    return jsonify(_feature(created)), 201


@bp.get("/<int:patrol_id>")
@responds(bp, 200, AREA)
@require_role("officer")
def get_area(patrol_id: int):
    """One patrol area (404 for another team's)"""
    with transaction(engine()) as db:
        return jsonify(_feature(_visible_patrol(db, patrol_id)))


@bp.patch("/<int:patrol_id>")
@responds(bp, 200, AREA)
@require_role("officer")
@bp.arguments(PatrolChanges(partial=True), location="json")
def edit_area(body: dict, patrol_id: int):
    """Edit fields or geometry (kept in the history); {"archived": true|false} archives or restores"""
    with transaction(engine()) as db:
        patrol = _visible_patrol(db, patrol_id)
        if "archived" in body:
            patrol = store.set_archived(db, patrol_id, body.pop("archived"), current_user().username)
        fields = _fields(db, body, partial=True)
        if fields:
            patrol = store.update_patrol(db, patrol_id, fields, current_user().username)
    return jsonify(_feature(patrol))


@bp.delete("/<int:patrol_id>")
@responds(bp, 200, "the archived area")
@require_role("officer")
def archive_area(patrol_id: int):
    """Archive (nothing is deleted; PATCH {"archived": false} restores)"""
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify(_feature(store.set_archived(db, patrol_id, True, current_user().username)))


@bp.get("/<int:patrol_id>/history")
@responds(bp, 200, "changes: who, when, old and new values")
@require_role("officer")
def area_history(patrol_id: int):
    """Who changed what and when (old and new values)"""
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify({"history": store.history(db, patrol_id)})


def _summary(db, geometry: dict[str, Any], period_text: str | None) -> dict[str, Any]:
    period = summary_period(db, period_text)
    area = patrols.parse_patrol_geometry(geometry).area
    caller = hotspot_records.caller_for(db, current_user())
    return summarise(db, geometry, patrols.area_km2(area), period, caller)


@bp.get("/suggest")
@responds(bp, 200, "candidate areas, most records first, and those left out for their size", GEOJSON,
          "FeatureCollection")
@require_role("officer")
@bp.arguments(SuggestQuery, location="query")
def suggest(query: dict):
    """Candidate patrol areas from DBSCAN clusters of crime (or of a hotspot layer you may read)

    Up to n areas, each between min_km2 and max_km2, most records first."""
    clusters = analysis.ClusterRequest(point_source(query), query["eps"], query["min_points"])
    wanted = SuggestRequest(clusters, query["n"], query["min_km2"], query["max_km2"])
    wanted.validate()
    return point_analysis("suggest", wanted, lambda _db, data: suggest_areas(wanted, data))


SUMMARY = ("area, wards (both sets), clusters and LSOAs with the share inside, crimes by type with the change on the "
           "previous period, density against the borough, hotspot records inside (layers you may read), significant "
           "Gi* hot spots covered")


@bp.post("/summary")
@responds(bp, 200, SUMMARY)
@require_role("officer")
@bp.arguments(PeriodQuery, location="query")
@bp.arguments(DrawingBody, location="json")
def summary_of_drawing(query: dict, body: dict):
    """Summary of a drawn geometry without saving it (called while drawing, debounced)"""
    drawn = _geometry(body)
    with transaction(engine()) as db:
        return jsonify(_summary(db, patrols.as_geojson(drawn.area), query.get("period")))


@bp.get("/<int:patrol_id>/summary")
@responds(bp, 200, SUMMARY)
@require_role("officer")
@bp.arguments(PeriodQuery, location="query")
def summary_of_area(query: dict, patrol_id: int):
    """What is inside a saved patrol area (see POST /api/patrol-areas/summary)"""
    with transaction(engine()) as db:
        return jsonify(_summary(db, _visible_patrol(db, patrol_id)["geometry"], query.get("period")))


@bp.get("/<int:patrol_id>/export.<fmt>")
@responds(bp, 200, "the patrol area with its summary", list(EXPORTS.values()), BINARY)
@require_role("officer")
@bp.arguments(PeriodQuery, location="query")
def export_area(query: dict, patrol_id: int, fmt: str):
    """The patrol area with its summary as GeoJSON, KML (phones, in-car systems) or a PDF briefing"""
    if fmt not in EXPORTS:
        raise ApiError(404, f"no export '.{fmt}'; use .geojson, .kml or .pdf")
    with transaction(engine()) as db:
        patrol = _visible_patrol(db, patrol_id)
        summary = _summary(db, patrol["geometry"], query.get("period"))
        if fmt == "geojson":
            body = Response(json.dumps(_geojson_export(patrol, summary), default=str), mimetype=EXPORTS[fmt])
        elif fmt == "kml":
            body = Response(patrols.to_kml(patrol, summary), mimetype=EXPORTS[fmt])
        else:
            body = Response(briefing_pdf(_briefing(db, patrol, summary), basemap_source(settings())),
                            mimetype=EXPORTS[fmt])
    body.headers["Content-Disposition"] = f'attachment; filename="patrol-area-{patrol_id}.{fmt}"'
    return body



def _geojson_export(patrol: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The area and, when it was drawn as a route, the route line: a FeatureCollection with the summary."""
    features = [{**_feature(patrol), "properties": {**_feature(patrol)["properties"], "part": "area"}}]
    if patrol.get("route"):
        features.append({"type": "Feature", "id": f"{patrol['id']}-route", "geometry": patrol["route"],
                         "properties": {"name": f"{patrol['name']} (route)", "part": "route",
                                        "buffer_m": patrol["buffer_m"]}})
    return {"type": "FeatureCollection", "name": patrol["name"], "features": features, "summary": summary}


def _briefing(db, patrol: dict[str, Any], summary: dict[str, Any]) -> Briefing:
    period = parse_period(summary["crime"]["period"])
    caller = hotspot_records.caller_for(db, current_user())
    geometry = patrol["geometry"]
    return Briefing(patrol=patrol, summary=summary, period=period,
                    produced_at=datetime.now(ZoneInfo("Europe/London")), produced_by=current_user().username,
                    marking=settings().protective_marking,
                    wards=frames.areas(db, summary["crime"]["borough_set"] or "wards-2024"),
                    crime_points=crime_points_inside(db, geometry, period),
                    streets=top_streets(db, geometry, period),
                    partnership=partnership_points(db, geometry, period, caller),
                    hot_spots=gi_hot_spot_features(db, geometry, period),
                    partnership_name=partnership_store.acting_name(db))
