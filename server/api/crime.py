"""Police.uk crime imports: upload street-level files (GIS staff) and list past imports."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage

from server.api import engine
from server.api.auth import current_user, require_role
from server.api.errors import ApiError
from server.domain import police_import
from server.store import crime as store
from server.store.db import transaction

bp = Blueprint("crime", __name__, url_prefix="/api/crime")


def _uploaded_files() -> list[FileStorage]:
    uploads = [upload for upload in request.files.getlist("file") if upload.filename]
    if not uploads:
        raise ApiError(400, "attach one or more police.uk street-level files as multipart fields named 'file'")
    return uploads


def _save_uploads(uploads: list[FileStorage], scratch: Path) -> list[tuple[Path, str]]:
    """Save each upload under its own folder (two uploads may share a name); returns (path, name) pairs."""
    saved = []
    for position, upload in enumerate(uploads):
        name = PurePath(upload.filename.replace("\\", "/")).name or f"upload-{position + 1}.csv"
        folder = scratch / str(position)
        folder.mkdir()
        upload.save(folder / name)
        saved.append((folder / name, name))
    return saved


@bp.post("/imports")
@require_role("gis")
def create_import():
    uploads = _uploaded_files()
    user = current_user()
    with tempfile.TemporaryDirectory(prefix="csp-atlas-crime-") as scratch:
        try:
            files = police_import.open_police_files(_save_uploads(uploads, Path(scratch)))
            summary = police_import.import_police_files(engine(), files, user.username if user else None)
        except police_import.CrimeFileError as error:
            details = {key: value for key, value in error.as_dict().items() if key != "message"}
            raise ApiError(400, error.message, **details) from None
    return jsonify(summary.as_dict()), 201


def _import_json(row: dict[str, Any]) -> dict[str, Any]:
    imported_at: datetime = row["imported_at"]
    return {"id": row["id"], "file": row["file_name"], "checksum": row["checksum"],
            "imported_at": imported_at.isoformat(), "imported_by": row["imported_by"],
            "rows_read": row["rows_read"], "inserted": row["inserted"], "duplicates": row["duplicates"],
            "no_location": row["no_location"], "unplaced": row["unplaced"], "per_month": row["per_month"]}


@bp.get("/imports")
@require_role("viewer")
def list_imports():
    with transaction(engine()) as db:
        rows = store.list_imports(db)
    return jsonify({"imports": [_import_json(row) for row in rows]})
