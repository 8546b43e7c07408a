"""What is inside a patrol area: boundaries it touches, crime by type with the change, density against the borough."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from server.domain import hotspot_records
from server.domain.crime_data import loaded_span, parsed_period
from server.domain.errors import DomainError
from server.domain.periods import Period, add_months
from server.domain.spatial_analysis import AnalysisError, GiRequest, build_gi
from server.store import annotations as annotation_store
from server.store import coverage as coverage_store
from server.store import crime as crime_store
from server.store import hotspots as hotspot_store
from server.store import patrols as store

DEFAULT_MONTHS = 3


class SummaryError(DomainError, ValueError):
    pass


def summary_period(session: Session, text: str | None) -> Period:
    """The period asked for, else the last DEFAULT_MONTHS loaded months."""
    if text:
        return parsed_period(text, SummaryError)
    last = loaded_span(session, SummaryError).end
    return Period(add_months(last, -(DEFAULT_MONTHS - 1)), last)


def summarise(session: Session, geometry: dict[str, Any], area_km2: float, period: Period,
              caller: hotspot_records.Caller) -> dict[str, Any]:
    return {"area_km2": round(area_km2, 4), "areas": _areas(session, geometry),
            "crime": _crime(session, geometry, area_km2, period),
            "hotspot_points": _hotspot_points(session, geometry, period, caller),
            "gi_hot_spots": _gi_hot_spots(session, geometry, period),
            "annotations": annotation_store.annotations_touching(session, json.dumps(geometry))}


def _hotspot_points(session: Session, geometry: dict[str, Any], period: Period,
                    caller: hotspot_records.Caller) -> list[dict[str, Any]]:
    """Per hotspot layer the caller may read: records inside in the period (restricted reads are audited)."""
    result = []
    for layer in hotspot_records.visible_layers(session, caller):
        inside = hotspot_store.points_inside(session, layer["id"], json.dumps(geometry), period.start,
                                             _month_end(period))
        hotspot_records.audit_read(session, layer, caller, "patrol-summary", inside["records"])
        result.append({"layer": layer["id"], "title": layer["title"], "sensitivity": layer["sensitivity"],
                       "records": inside["records"], "count": float(inside["weight"])})
    return result


def _month_end(period: Period) -> date:
    return add_months(period.end, 1) - timedelta(days=1)


def _gi_hot_spots(session: Session, geometry: dict[str, Any], period: Period) -> list[str]:
    return [f"{f['properties'].get('name', f['id'])} ({f['id']}, Gi_Bin {f['properties']['gi_bin']})"
            for f in gi_hot_spot_features(session, geometry, period)]


def gi_hot_spot_features(session: Session, geometry: dict[str, Any], period: Period) -> list[dict[str, Any]]:
    """LSOAs that are significant Gi* hot spots (95 % or more) of all crime in the period and touch the area."""
    try:
        gi = build_gi(session, GiRequest(metric="all-crime", period=period.label))
    except AnalysisError:
        return []
    drawn = shape(geometry)
    return [f for f in gi["features"] if f["properties"]["gi_bin"] >= 2 and shape(f["geometry"]).intersects(drawn)]


def top_streets(session: Session, geometry: dict[str, Any], period: Period, limit: int = 8) -> list[dict[str, Any]]:
    """The police.uk locations ("On or near …") inside with the most records in the period, with their points."""
    drawn = shape(geometry)
    inside: dict[str, dict[str, Any]] = {}
    for lon, lat, _slug, _month, location in crime_store.crime_points(session, period.start, period.end,
                                                                      bbox=drawn.bounds):
        # "On or near" with no name (police.uk's unnamed spots) is no street to send anyone to
        if location.removeprefix("On or near").strip() and drawn.covers(Point(lon, lat)):
            entry = inside.setdefault(location, {"location": location, "count": 0, "lon": lon, "lat": lat})
            entry["count"] += 1
    return sorted(inside.values(), key=lambda e: (-e["count"], e["location"]))[:limit]


def crime_points_inside(session: Session, geometry: dict[str, Any], period: Period) -> list[tuple[float, float]]:
    drawn = shape(geometry)
    return [(lon, lat) for lon, lat, *_rest in crime_store.crime_points(session, period.start, period.end,
                                                                         bbox=drawn.bounds)
            if drawn.covers(Point(lon, lat))]


def partnership_points(session: Session, geometry: dict[str, Any], period: Period,
                       caller: hotspot_records.Caller) -> list[dict[str, Any]]:
    """The partnership's records inside that the caller may read, with their layer's title and sensitivity (reads
    are audited as for any other use)."""
    drawn = shape(geometry)
    found = []
    for layer in hotspot_records.visible_layers(session, caller):
        points = [p for p in hotspot_store.located_points(session, layer["id"], period.start, _month_end(period),
                                                          bbox=drawn.bounds)
                  if drawn.covers(shape(json.loads(p["geometry"])))]
        hotspot_records.audit_read(session, layer, caller, "patrol-briefing", len(points))
        found += [{"layer": layer["title"], "sensitivity": layer["sensitivity"], "count": p["count"],
                   "place": p.get("place_name") or p.get("place_name_given") or "",
                   "date": p["observed_from"], "geometry": json.loads(p["geometry"])} for p in points]
    return found


def _areas(session: Session, geometry: dict[str, Any]) -> list[dict[str, Any]]:
    by_set: dict[str, dict[str, Any]] = {}
    for row in store.overlapping_areas(session, geometry):
        entry = by_set.setdefault(row["set_id"], {"set": row["set_id"], "title": row["title"], "kind": row["kind"],
                                                  "areas": [], "clusters": {}})
        entry["areas"].append({"code": row["code"], "name": row["name"], "cluster": row["cluster"],
                               "share_of_area": round(row["share_of_area"], 4),
                               "share_of_patrol": round(row["share_of_patrol"], 4)})
        if row["cluster"]:
            share = entry["clusters"].get(row["cluster"], 0.0) + row["share_of_patrol"]
            entry["clusters"][row["cluster"]] = round(share, 4)
    for entry in by_set.values():
        entry["clusters"] = [{"cluster": k, "share_of_patrol": v} for k, v in sorted(entry["clusters"].items())]
    return list(by_set.values())


def _crime(session: Session, geometry: dict[str, Any], area_km2: float, period: Period) -> dict[str, Any]:
    previous = period.previous()
    if not coverage_store.geometry_covered(session, geometry, period.start, period.end):
        return {"period": period.label, "previous_period": previous.label, "total": None, "previous_total": None,
                "by_type": [], "density_per_km2": None, "borough_density_per_km2": None,
                "density_ratio_to_borough": None, "borough_set": store.current_ward_set(session), "covered": False,
                "note": f"No data: the police.uk records imported do not cover this area for {period.label}"}
    rows = store.crimes_inside(session, geometry, (period.start, period.end), (previous.start, previous.end))
    total = sum(r["count"] for r in rows)
    ward_set = store.current_ward_set(session)
    borough = None
    if ward_set:
        covered = coverage_store.covered_area_codes(session, ward_set, period.start, period.end)
        borough = store.borough_density(session, ward_set, (period.start, period.end), sorted(covered))
    density = total / area_km2 if area_km2 else 0.0
    return {
        "period": period.label, "previous_period": previous.label, "total": total,
        "previous_total": sum(r["previous"] for r in rows),
        "by_type": [{"type": r["type"], "slug": r["slug"], "count": r["count"], "previous": r["previous"],
                     "change": r["count"] - r["previous"]} for r in rows],
        "density_per_km2": round(density, 2),
        "borough_density_per_km2": round(borough, 2) if borough is not None else None,
        "density_ratio_to_borough": round(density / borough, 2) if borough else None,
        "borough_set": ward_set,
        "covered": True,
        "note": "police.uk locations are anonymised snap points; counts near the edge are approximate",
    }
