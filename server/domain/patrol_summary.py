"""What is inside a patrol area: boundaries it touches, crime by type with the change, density against the borough."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from shapely.geometry import shape
from sqlalchemy.orm import Session

from server.domain import hotspot_records
from server.domain.errors import DomainError
from server.domain.hotspot_analysis import AnalysisError, GiRequest, build_gi
from server.domain.periods import Period, PeriodError, add_months, parse_period
from server.store import annotations as annotation_store
from server.store import crime as crime_store
from server.store import hotspots as hotspot_store
from server.store import patrols as store

DEFAULT_MONTHS = 3


class SummaryError(DomainError, ValueError):
    pass


def summary_period(session: Session, text: str | None) -> Period:
    if text:
        try:
            return parse_period(text)
        except PeriodError as error:
            raise SummaryError(str(error)) from None
    months = crime_store.available_months(session)
    if not months:
        raise SummaryError("no police.uk crime records are loaded yet")
    return Period(add_months(months[-1], -(DEFAULT_MONTHS - 1)), months[-1])


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
        result.append({"layer": layer["id"], "title": layer["title"], "records": inside["records"],
                       "count": float(inside["weight"])})
    return result


def _month_end(period: Period) -> date:
    return add_months(period.end, 1) - timedelta(days=1)


def _gi_hot_spots(session: Session, geometry: dict[str, Any], period: Period) -> list[str]:
    """LSOAs that are significant Gi* hot spots (95 % or more) of all crime in the period and touch the area."""
    try:
        gi = build_gi(session, GiRequest(metric="all-crime", period=period.label))
    except AnalysisError:
        return []
    drawn = shape(geometry)
    return [f"{f['properties'].get('name', f['id'])} ({f['id']}, Gi_Bin {f['properties']['gi_bin']})"
            for f in gi["features"] if f["properties"]["gi_bin"] >= 2 and shape(f["geometry"]).intersects(drawn)]


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
    rows = store.crimes_inside(session, geometry, (period.start, period.end), (previous.start, previous.end))
    total = sum(r["count"] for r in rows)
    ward_set = store.current_ward_set(session)
    borough = store.borough_density(session, ward_set, (period.start, period.end)) if ward_set else None
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
        "note": "police.uk locations are anonymised snap points; counts near the edge are approximate",
    }
