"""Police.uk crime records as GeoJSON points for heat maps and markers: one metric or the union of several, over a
period and optionally a bounding box."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain.crime_data import crime_period, metric_catalogue, police_metric, type_filters
from server.domain.metrics import POLICE_SOURCE, Metric
from server.store import crime as crime_store

LOCATION_NOTE = ("police.uk publishes each crime at an anonymised snap point near where it happened, not at its "
                 "exact address")


def _chosen_types(metric_ids: str, metrics: dict[str, Metric],
                  all_slugs: list[str]) -> tuple[list[Metric], list[str] | None, list[str] | None]:
    """The metrics asked for (one, or several joined by commas) and the crime types they take and leave out
    together."""
    chosen = [police_metric(metrics, metric_id)
              for metric_id in [part.strip() for part in metric_ids.split(",") if part.strip()] or ["all-crime"]]
    if len(chosen) == 1:
        return chosen, *type_filters(chosen[0])
    slugs: set[str] = set()
    for metric in chosen:
        slugs |= set(metric.include_types) if metric.include_types else set(all_slugs) - set(metric.exclude_types)
    return chosen, sorted(slugs), None


def points_collection(session: Session, metric_ids: str, period_text: str | None,
                      bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    types = crime_store.crime_types(session)
    chosen, include, exclude = _chosen_types(metric_ids, metric_catalogue(session), [slug for slug, _n, _c in types])
    period, covered = crime_period(session, period_text)
    rows = crime_store.crime_points(session, period.start, period.end, include, exclude, bbox)
    notes = []
    if len(covered) < period.months:
        notes.append(f"police.uk data covers {len(covered)} of the {period.months} months of {period.label}")
    no_location = crime_store.no_location_count(session, period.start, period.end, include, exclude)
    if no_location:
        notes.append(f"{no_location} records of this filter have no location and are not shown")
    metric = {"id": ",".join(m.id for m in chosen), "title": " and ".join(m.title for m in chosen)}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                      "properties": {"crime_type": slug, "month": month, "location": location}}
                     for lon, lat, slug, month, location in rows],
        "metadata": {"metric": metric, "period": period.label,
                     "count": len(rows), "crime_types": {slug: name for slug, name, _count in types},
                     "source": POLICE_SOURCE, "data_date": f"{covered[-1]:%Y-%m}", "bbox": list(bbox) if bbox else None,
                     "notes": notes, "location_note": LOCATION_NOTE},
    }
