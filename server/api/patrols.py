"""Patrol areas for task forces: draw, save, edit with history, archive, summarise, export."""

from __future__ import annotations

from typing import Any

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
from server.domain.patrol_exports import FORMATS, Requester, export_patrol, patrol_feature, summary_of
from server.domain.patrol_suggest import LIMITS as SUGGEST_LIMITS
from server.domain.patrol_suggest import SuggestRequest, suggest_areas
from server.store import patrols as store
from server.store.db import transaction
from server.tiles import basemap_source

bp = Blueprint("patrols", __name__, url_prefix="/api/patrol-areas",
               description="Patrol areas for task forces: draw, save, edit with history, summarise, export")


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


def _saver(db) -> patrols.Saver:
    return patrols.Saver(_team_of_user(db), _is_admin())


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
    response = jsonify({"type": "FeatureCollection", "features": [patrol_feature(p) for p in items]})
    response.mimetype = GEOJSON
    return response


@bp.post("")
@responds(bp, 201, AREA)
@require_role("officer")
@bp.arguments(PatrolBody, location="json")
def create_area(body: dict):
    """Save a patrol area for your team: name, geometry, date_from, date_to, notes; admins may give team"""
    with transaction(engine()) as db:
        columns = patrols.patrol_fields(body, _saver(db), partial=False)
        created = store.create_patrol(db, columns, current_user().username)
    return jsonify(patrol_feature(created)), 201


@bp.get("/<int:patrol_id>")
@responds(bp, 200, AREA)
@require_role("officer")
def get_area(patrol_id: int):
    """One patrol area (404 for another team's)"""
    with transaction(engine()) as db:
        return jsonify(patrol_feature(_visible_patrol(db, patrol_id)))


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
        columns = patrols.patrol_fields(body, _saver(db), partial=True)
        if columns:
            patrol = store.update_patrol(db, patrol_id, columns, current_user().username)
    return jsonify(patrol_feature(patrol))


@bp.delete("/<int:patrol_id>")
@responds(bp, 200, "the archived area")
@require_role("officer")
def archive_area(patrol_id: int):
    """Archive (nothing is deleted; PATCH {"archived": false} restores)"""
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify(patrol_feature(store.set_archived(db, patrol_id, True, current_user().username)))


@bp.get("/<int:patrol_id>/history")
@responds(bp, 200, "changes: who, when, old and new values")
@require_role("officer")
def area_history(patrol_id: int):
    """Who changed what and when (old and new values)"""
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify({"history": store.history(db, patrol_id)})


def _caller(db) -> hotspot_records.Caller | None:
    return hotspot_records.caller_for(db, current_user())


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
        return jsonify(summary_of(db, patrols.as_geojson(drawn.area), query.get("period"), _caller(db)))


@bp.get("/<int:patrol_id>/summary")
@responds(bp, 200, SUMMARY)
@require_role("officer")
@bp.arguments(PeriodQuery, location="query")
def summary_of_area(query: dict, patrol_id: int):
    """What is inside a saved patrol area (see POST /api/patrol-areas/summary)"""
    with transaction(engine()) as db:
        return jsonify(summary_of(db, _visible_patrol(db, patrol_id)["geometry"], query.get("period"),
                                  _caller(db)))


@bp.get("/<int:patrol_id>/export.<fmt>")
@responds(bp, 200, "the patrol area with its summary", list(FORMATS.values()), BINARY)
@require_role("officer")
@bp.arguments(PeriodQuery, location="query")
def export_area(query: dict, patrol_id: int, fmt: str):
    """The patrol area with its summary as GeoJSON, KML (phones, in-car systems) or a PDF briefing"""
    if fmt not in FORMATS:
        raise ApiError(404, f"no export '.{fmt}'; use {', '.join('.' + name for name in FORMATS)}")
    with transaction(engine()) as db:
        requester = Requester(_caller(db), current_user().username, settings().protective_marking,
                              basemap_source(settings()))
        body = export_patrol(db, _visible_patrol(db, patrol_id), fmt, query.get("period"), requester)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="patrol-area-{patrol_id}.{fmt}"'
    return response
