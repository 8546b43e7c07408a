"""Police.uk crime imports: upload street-level files (GIS staff) and list past imports."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import jsonify, request
from werkzeug.datastructures import FileStorage

from server.api import engine
from server.api.auth import current_user, require_role
from server.api.caching import cached_response
from server.api.contract import GEOJSON, Bbox, Blueprint, Query, period_param, responds, text
from server.api.errors import ApiError
from server.api.upload_jobs import queue_upload, runs_as_job
from server.domain import uploads
from server.domain.accounts import role_at_least
from server.domain.metrics import POLICE_SOURCE, catalogue
from server.domain.periods import Period, parse_period
from server.domain.uploads import safe_file_name
from server.store import crime as store
from server.store.db import transaction

bp = Blueprint("crime", __name__, url_prefix="/api/crime", description="Police.uk crime records")


def _uploaded_files() -> list[FileStorage]:
    uploads = [upload for upload in request.files.getlist("file") if upload.filename]
    if not uploads:
        raise ApiError(400, "attach one or more police.uk street-level files as multipart fields named 'file'")
    return uploads


def _save_uploads(uploads: list[FileStorage], scratch: Path) -> list[tuple[Path, str]]:
    """Save each upload under its own folder (two uploads may share a name); returns (path, name) pairs."""
    saved = []
    for position, upload in enumerate(uploads):
        name = safe_file_name(upload.filename, position, ".csv")
        folder = scratch / str(position)
        folder.mkdir()
        upload.save(folder / name)
        saved.append((folder / name, name))
    return saved


@bp.post("/imports")
@responds(bp, 201, "imported: per file and in total, rows read, inserted, duplicates, no location, unplaced per "
          "boundary set, per month", schema="CrimeImportSummary", errors=(400, 413), queued=True)
@bp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {
        "type": "string", "format": "binary", "description": "a file; repeat the field for more"}}}}}})
@require_role("gis")
def create_import():
    """Import data.police.uk street-level crime files (.csv or .csv.gz) in one transaction. Role gis or admin.

    A bad header or row in any file refuses them all (400 naming the file and line). Rows already loaded are counted
    as duplicates, not inserted again. Uploads over CSP_ATLAS_UPLOAD_JOB_BYTES are queued as a job (202)."""
    files = _uploaded_files()
    if runs_as_job():
        return queue_upload(uploads.CRIME_IMPORT, "/api/crime/imports", {},
                            [(safe_file_name(upload.filename, position, ".csv"), upload.read())
                             for position, upload in enumerate(files)])
    user = current_user()
    with tempfile.TemporaryDirectory(prefix="csp-atlas-crime-") as scratch:
        summary = uploads.import_crime_files(engine(), _save_uploads(files, Path(scratch)),
                                             user.username if user else None)
    return jsonify(summary), 201


def _import_json(row: dict[str, Any], show_importer: bool) -> dict[str, Any]:
    imported_at: datetime = row["imported_at"]
    return {"id": row["id"], "file": row["file_name"], "checksum": row["checksum"],
            "imported_at": imported_at.isoformat(), "imported_by": row["imported_by"] if show_importer else None,
            "rows_read": row["rows_read"], "inserted": row["inserted"], "duplicates": row["duplicates"],
            "no_location": row["no_location"], "unplaced": row["unplaced"], "per_month": row["per_month"]}


@bp.get("/imports")
@responds(bp, 200, "past imports, newest first", schema="CrimeImports")
@require_role("viewer")
def list_imports():
    """Past imports of police.uk crime files, newest first, each with its summary. Any signed-in user."""
    with transaction(engine()) as db:
        rows = store.list_imports(db)
    show_importer = role_at_least(current_user().role, "gis")  # who imported what is for GIS staff and admins
    return jsonify({"imports": [_import_json(row, show_importer) for row in rows]})


# --- crime points for the hotspot map ----------------------------------------------------------------------

class PointsQuery(Query):
    metric = text("all-crime (default), asb, vbc, cas or a police.uk crime type such as burglary; several joined by "
                  "commas give their union (all-crime,asb = every record); the partnership's tables have no locations",
                  pattern=r"^[a-z0-9][a-z0-9-]{0,79}(,[a-z0-9][a-z0-9-]{0,79}){0,19}$", max_length=400,
                  default="all-crime", pattern_error="must be metric ids separated by commas, e.g. all-crime,asb")
    period = period_param("a month (2022-06), a year (2022) or a range (2022-01/2022-11); default: all loaded months")
    bbox = Bbox()


def _points_period(text: str | None, months: list) -> Period:
    if not months:
        raise ApiError(400, "no police.uk crime records are loaded yet")
    if not text:
        return Period(months[0], months[-1])
    period = parse_period(text)
    if not any(period.contains(m) for m in months):
        raise ApiError(400, f"no police.uk records for {period.label}; loaded months: "
                            f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}")
    return period


def _points_types(metric_arg: str, metrics: dict, all_slugs: list[str]) -> tuple[list, list[str] | None]:
    """The metrics asked for (one, or several joined by commas) and the crime types they cover together."""
    chosen = []
    for metric_id in [part.strip() for part in metric_arg.split(",") if part.strip()] or ["all-crime"]:
        if metric_id not in metrics:
            police = sorted(m.id for m in metrics.values() if m.is_police)
            raise ApiError(400, f"unknown metric '{metric_id}'; crime points exist for: {', '.join(police)}")
        metric = metrics[metric_id]
        if not metric.is_police:
            raise ApiError(400, f"'{metric_id}' is a table of the partnership's figures with no locations; crime "
                                "points exist only for police.uk metrics such as all-crime, asb, vbc, cas or a "
                                "crime type")
        chosen.append(metric)
    if len(chosen) == 1:
        only = chosen[0]
        return chosen, list(only.include_types) if only.include_types else None
    slugs: set[str] = set()
    for metric in chosen:
        slugs |= set(metric.include_types) if metric.include_types else set(all_slugs) - set(metric.exclude_types)
    return chosen, sorted(slugs)


def _points_collection(db, args: dict[str, Any]) -> dict[str, Any]:
    types = store.crime_types(db)
    metrics = catalogue([(slug, name) for slug, name, _count in types])
    chosen, include = _points_types(args["metric"], metrics, [slug for slug, _n, _c in types])
    exclude = (list(chosen[0].exclude_types) or None) if len(chosen) == 1 else None
    months = store.available_months(db)
    period = _points_period(args.get("period"), months)
    bbox = args.get("bbox")
    rows = store.crime_points(db, period.start, period.end, include, exclude, bbox)
    covered = [m for m in months if period.contains(m)]
    notes = []
    if len(covered) < period.months:
        notes.append(f"police.uk data covers {len(covered)} of the {period.months} months of {period.label}")
    no_location = store.no_location_count(db, period.start, period.end, include, exclude)
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
                     "notes": notes,
                     "location_note": "police.uk publishes each crime at an anonymised snap point near where it "
                                      "happened, not at its exact address"},
    }


@bp.get("/points")
@responds(bp, 200, "RFC 7946 FeatureCollection of points with metadata", GEOJSON, "FeatureCollection")
@bp.arguments(PointsQuery, location="query")
def crime_points(args: dict[str, Any]):
    """Police.uk crime records of a metric and period as GeoJSON points, for heat maps and markers

    Each feature is a record with coordinates: properties crime_type (slug; metadata.crime_types gives the published
    names), month (YYYY-MM) and location (police.uk's anonymised 'On or near …' text). metadata gives metric,
    period, count, source, data date and notes (months not loaded, records without location). Gzipped when the
    client accepts it; responses carry an ETag that any import changes."""
    return cached_response(f"crime-points|{json.dumps(args, sort_keys=True)}",
                           lambda db: json.dumps(_points_collection(db, args), separators=(",", ":")).encode(),
                           "application/geo+json")
