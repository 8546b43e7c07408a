"""Police.uk crime imports: upload street-level files (GIS staff) and list past imports."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import jsonify
from werkzeug.datastructures import FileStorage

from server.api import engine
from server.api.auth import current_user, require_role
from server.api.caching import cached_response
from server.api.contract import GEOJSON, Bbox, Blueprint, Query, file_upload, period_param, responds, text
from server.api.errors import ApiError
from server.api.upload_jobs import queue_upload, runs_as_job
from server.domain import uploads
from server.domain.accounts import role_at_least
from server.domain.crime_points import points_collection
from server.domain.uploads import safe_file_name
from server.store import crime as store
from server.store.db import transaction

bp = Blueprint("crime", __name__, url_prefix="/api/crime", description="Police.uk crime records")


NO_FILE = "attach one or more police.uk street-level files as multipart fields named 'file'"
CrimeFiles = file_upload("CrimeFiles", NO_FILE, several=True)


def _uploaded_files(form: dict[str, Any]) -> list[FileStorage]:
    uploads = [upload for upload in form["file"] if upload.filename]
    if not uploads:
        raise ApiError(400, NO_FILE)
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
@require_role("gis")
@bp.arguments(CrimeFiles, location="files")
def create_import(form: dict[str, Any]):
    """Import data.police.uk street-level crime files (.csv or .csv.gz) in one transaction. Role gis or admin.

    A bad header or row in any file refuses them all (400 naming the file and line). Rows already loaded are counted
    as duplicates, not inserted again. Uploads over CSP_ATLAS_UPLOAD_JOB_BYTES are queued as a job (202)."""
    files = _uploaded_files(form)
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
                           lambda db: json.dumps(points_collection(db, args["metric"], args.get("period"),
                                                                   args.get("bbox")), separators=(",", ":")).encode(),
                           "application/geo+json")
