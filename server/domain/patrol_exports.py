"""A patrol area as the files a task force takes out: GeoJSON, KML (phones, in-car systems) or a PDF briefing, each
with the area's summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.domain import patrols
from server.domain.basemap import BasemapSource
from server.domain.briefing import Briefing, briefing_pdf
from server.domain.hotspot_records import Caller
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

FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Requester:
    """Who asks for the file, and what the briefing prints about it."""

    caller: Caller | None  # for the hotspot layers they may read
    username: str
    marking: str  # the deployment's protective marking
    basemap: BasemapSource | None = None


def patrol_feature(patrol: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in patrol.items() if k != "geometry"}
    return {"type": "Feature", "id": patrol["id"], "geometry": patrol["geometry"], "properties": properties}


def summary_of(session: Session, geometry: dict[str, Any], period_text: str | None,
               caller: Caller | None) -> dict[str, Any]:
    """What is inside a drawn or saved area over the period asked for (default: the last loaded months)."""
    period = summary_period(session, period_text)
    area = patrols.parse_patrol_geometry(geometry).area
    return summarise(session, geometry, patrols.area_km2(area), period, caller)


def export_patrol(session: Session, patrol: dict[str, Any], fmt: str, period_text: str | None,
                  requester: Requester) -> bytes:
    """The file of format `fmt` (one of FORMATS) for a patrol area the requester may see."""
    summary = summary_of(session, patrol["geometry"], period_text, requester.caller)
    if fmt == "geojson":
        return json.dumps(_geojson_export(patrol, summary), default=str).encode()
    if fmt == "kml":
        return patrols.to_kml(patrol, summary)
    return briefing_pdf(_briefing(session, patrol, summary, requester), requester.basemap)


def _geojson_export(patrol: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The area and, when it was drawn as a route, the route line: a FeatureCollection with the summary."""
    feature = patrol_feature(patrol)
    features = [{**feature, "properties": {**feature["properties"], "part": "area"}}]
    if patrol.get("route"):
        features.append({"type": "Feature", "id": f"{patrol['id']}-route", "geometry": patrol["route"],
                         "properties": {"name": f"{patrol['name']} (route)", "part": "route",
                                        "buffer_m": patrol["buffer_m"]}})
    return {"type": "FeatureCollection", "name": patrol["name"], "features": features, "summary": summary}


def _briefing(session: Session, patrol: dict[str, Any], summary: dict[str, Any], requester: Requester) -> Briefing:
    period = parse_period(summary["crime"]["period"])
    geometry = patrol["geometry"]
    return Briefing(patrol=patrol, summary=summary, period=period,
                    produced_at=datetime.now(ZoneInfo("Europe/London")), produced_by=requester.username,
                    marking=requester.marking,
                    wards=frames.areas(session, summary["crime"]["borough_set"]
                                       or partnership_store.default_set(session)),
                    crime_points=crime_points_inside(session, geometry, period),
                    streets=top_streets(session, geometry, period),
                    partnership=partnership_points(session, geometry, period, requester.caller),
                    hot_spots=gi_hot_spot_features(session, geometry, period),
                    partnership_name=partnership_store.acting_name(session))
