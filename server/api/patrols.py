"""Patrol areas for task forces: draw, save, edit with history, archive, summarise, export."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from server.api import engine, settings
from server.api.auth import current_user, require_role
from server.api.errors import ApiError
from server.api.hotspots import number_arg, point_analysis, point_source
from server.domain import hotspot_analysis as analysis
from server.domain import hotspot_records, patrols
from server.domain.briefing import Briefing, briefing_pdf
from server.domain.patrol_suggest import SuggestError, SuggestRequest, suggest_areas
from server.domain.patrol_summary import (
    SummaryError,
    crime_points_inside,
    gi_hot_spot_features,
    partnership_points,
    summarise,
    summary_period,
    top_streets,
)
from server.domain.periods import parse_period
from server.store import frames
from server.store import patrols as store
from server.store.db import transaction
from server.tiles import basemap_source

bp = Blueprint("patrols", __name__, url_prefix="/api/patrol-areas")
SUGGEST_PARAMS = ("source", "metric", "period", "from", "to", "eps", "min_points", "n", "min_km2", "max_km2")
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


def _date(body: dict[str, Any], name: str) -> date | None:
    raw = body.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ApiError(400, f"{name} must be a date like 2024-06-01, not '{raw}'") from None


def _geometry(body: dict[str, Any]) -> patrols.PatrolGeometry:
    buffer_m = body.get("buffer_m")
    try:
        return patrols.parse_patrol_geometry(body.get("geometry"), float(buffer_m) if buffer_m is not None else None)
    except (TypeError, ValueError) as error:
        raise ApiError(400, str(error)) from None


def _fields(db, body: dict[str, Any], partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in body or not partial:
        name = str(body.get("name", "")).strip()
        if not name or len(name) > 120:
            raise ApiError(400, "name is required (at most 120 characters)")
        fields["name"] = name
    if "geometry" in body or not partial:
        drawn = _geometry(body)
        fields.update(geometry=patrols.as_geojson(drawn.area), buffer_m=drawn.buffer_m,
                      route=patrols.as_geojson(drawn.route) if drawn.route else None)
    for name in ("date_from", "date_to"):
        if name in body or not partial:
            fields[name] = _date(body, name)
    if "notes" in body:
        notes = body["notes"]
        if notes is not None and not isinstance(notes, str):
            raise ApiError(400, "notes must be text (a JSON string)")
        if notes and len(notes) > 4000:
            raise ApiError(400, "notes may be at most 4000 characters")
        fields["notes"] = notes or ""
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


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object")
    return body


@bp.get("")
@require_role("officer")
def list_areas():
    include_archived = request.args.get("archived") == "true"
    with transaction(engine()) as db:
        team = None if _is_admin() else _team_of_user(db)
        items = store.list_patrols(db, team, include_archived) if (team or _is_admin()) else []
    return jsonify({"type": "FeatureCollection", "features": [_feature(p) for p in items]})


def _feature(patrol: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in patrol.items() if k not in ("geometry",)}
    return {"type": "Feature", "id": patrol["id"], "geometry": patrol["geometry"], "properties": properties}


@bp.post("")
@require_role("officer")
def create_area():
    body = _body()
    with transaction(engine()) as db:
        created = store.create_patrol(db, _fields(db, body, partial=False), current_user().username)
    return jsonify(_feature(created)), 201


@bp.get("/<int:patrol_id>")
@require_role("officer")
def get_area(patrol_id: int):
    with transaction(engine()) as db:
        return jsonify(_feature(_visible_patrol(db, patrol_id)))


@bp.patch("/<int:patrol_id>")
@require_role("officer")
def edit_area(patrol_id: int):
    body = _body()
    with transaction(engine()) as db:
        patrol = _visible_patrol(db, patrol_id)
        if "archived" in body:
            archived = body.pop("archived")
            if not isinstance(archived, bool):
                raise ApiError(400, f"archived must be true or false (a JSON boolean), not {json.dumps(archived)[:40]}")
            patrol = store.set_archived(db, patrol_id, archived, current_user().username)
        fields = _fields(db, body, partial=True)
        if fields:
            patrol = store.update_patrol(db, patrol_id, fields, current_user().username)
    return jsonify(_feature(patrol))


@bp.delete("/<int:patrol_id>")
@require_role("officer")
def archive_area(patrol_id: int):
    """Archives (nothing is deleted); PATCH {"archived": false} brings it back."""
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify(_feature(store.set_archived(db, patrol_id, True, current_user().username)))


@bp.get("/<int:patrol_id>/history")
@require_role("officer")
def area_history(patrol_id: int):
    with transaction(engine()) as db:
        _visible_patrol(db, patrol_id)
        return jsonify({"history": store.history(db, patrol_id)})


def _summary(db, geometry: dict[str, Any]) -> dict[str, Any]:
    try:
        period = summary_period(db, request.args.get("period"))
    except SummaryError as error:
        raise ApiError(400, str(error)) from None
    area = patrols.parse_patrol_geometry(geometry).area
    caller = hotspot_records.caller_for(db, current_user())
    return summarise(db, geometry, patrols.area_km2(area), period, caller)


@bp.get("/suggest")
@require_role("officer")
def suggest():
    """Candidate patrol areas from DBSCAN clusters of crime (or of a hotspot layer the caller may read)."""
    unknown = set(request.args) - set(SUGGEST_PARAMS)
    if unknown:
        raise ApiError(400, f"unknown parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(SUGGEST_PARAMS)}")
    clusters = analysis.ClusterRequest(point_source(), number_arg("eps", analysis.DEFAULTS["eps"]),
                                       number_arg("min_points", analysis.DEFAULTS["min_points"], whole=True))
    wanted = SuggestRequest(clusters, int(number_arg("n", 5, whole=True)), number_arg("min_km2", 0.05),
                            number_arg("max_km2", 2.0))
    try:
        wanted.validate()
    except SuggestError as error:
        raise ApiError(400, str(error)) from None
    return point_analysis("suggest", wanted, lambda _db, data: suggest_areas(wanted, data))


@bp.post("/summary")
@require_role("officer")
def summary_of_drawing():
    """The summary of a just-drawn geometry, without saving it (called while drawing, debounced)."""
    body = _body()
    drawn = _geometry(body)
    with transaction(engine()) as db:
        return jsonify(_summary(db, patrols.as_geojson(drawn.area)))


@bp.get("/<int:patrol_id>/summary")
@require_role("officer")
def summary_of_area(patrol_id: int):
    with transaction(engine()) as db:
        return jsonify(_summary(db, _visible_patrol(db, patrol_id)["geometry"]))


@bp.get("/<int:patrol_id>/export.<fmt>")
@require_role("officer")
def export_area(patrol_id: int, fmt: str):
    if fmt not in EXPORTS:
        raise ApiError(404, f"no export '.{fmt}'; use .geojson, .kml or .pdf")
    with transaction(engine()) as db:
        patrol = _visible_patrol(db, patrol_id)
        summary = _summary(db, patrol["geometry"])
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
                    hot_spots=gi_hot_spot_features(db, geometry, period))
