"""Uploads by GIS staff (police.uk crime files, boundary files), run the same way whether the request runs them or
a job worker does (with the files it kept in PostgreSQL): what they do, their outcome, and their progress."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import Engine

from server.domain import police_import
from server.domain.boundary_files import read_boundary_file, store_boundary_set
from server.store import boundaries as boundary_store
from server.store import crime as crime_store
from server.store import partnerships as partnership_store
from server.store.db import transaction

CRIME_IMPORT = "crime-import"
BOUNDARY_UPLOAD = "boundary-upload"

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is being done)


def safe_file_name(uploaded: str, position: int, fallback_suffix: str) -> str:
    """The uploaded file's own name without any folders (a browser may send a path); a name that is no file name
    ("", ".", "..", or one with a NUL) becomes upload-N."""
    name = PurePath(uploaded.replace("\\", "/")).name
    return name if name not in ("", ".", "..") and "\x00" not in name else f"upload-{position + 1}{fallback_suffix}"


def save_files(files: list[tuple[str, bytes]], scratch: Path) -> list[tuple[Path, str]]:
    """Save each (name, content) under its own folder (two uploads may share a name); (path, name) pairs."""
    saved = []
    for position, (name, content) in enumerate(files):
        folder = scratch / str(position)
        folder.mkdir()
        (folder / name).write_bytes(content)
        saved.append((folder / name, name))
    return saved


def import_crime_files(engine: Engine, saved: list[tuple[Path, str]], imported_by: str | None,
                       progress: Progress | None = None) -> dict[str, Any]:
    """Import police.uk files in one transaction (CrimeFileError if any row is bad); the import summary."""
    files = police_import.open_police_files(saved)
    with transaction(engine) as session:
        steps = 1 + len(crime_store.boundary_set_ids(session)) * len(crime_store.PLACEMENT_STEPS)
    rows_read = 0
    placed_steps = 0

    def on_rows(count: int) -> None:
        nonlocal rows_read
        rows_read += count
        if progress:
            progress(0, steps, f"checked and staged {rows_read:,} rows")

    def on_placed(set_id: str, step: str) -> None:
        nonlocal placed_steps
        placed_steps += 1
        if progress:
            progress(1 + placed_steps, steps, f"placed the new records in {set_id} ({step})")

    return police_import.import_police_files(engine, files, imported_by, on_rows=on_rows,
                                             on_placed=on_placed).as_dict()


def boundary_params(meta: boundary_store.BoundarySetMeta, crs: str | None, layer: str | None) -> dict[str, Any]:
    """A boundary upload's form, as a job keeps it (JSON)."""
    fields = {**meta.__dict__, "valid_from": _iso(meta.valid_from), "valid_to": _iso(meta.valid_to)}
    return {"meta": fields, "crs": crs, "layer": layer}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def load_boundary_file(engine: Engine, path: Path, file_name: str, params: dict[str, Any],
                       progress: Progress | None = None) -> dict[str, Any]:
    """Replace (or create) a boundary set from an uploaded file (BoundaryFileError naming the feature if it cannot
    be loaded); the load report, with `replaced`."""
    fields = dict(params["meta"])
    for key in ("valid_from", "valid_to"):
        fields[key] = date.fromisoformat(fields[key]) if fields[key] else None
    meta = boundary_store.BoundarySetMeta(**fields)
    if progress:
        progress(0, 2, f"reading {file_name}")
    data = read_boundary_file(path, code_field=meta.code_field, name_field=meta.name_field, crs=params["crs"],
                              display_name=file_name, layer=params["layer"])
    if progress:
        progress(1, 2, f"loading {len(data.records):,} areas and placing the crime records in them")
    with transaction(engine) as session:
        report = store_boundary_set(session, meta, data).as_dict()
        partnership_store.adopt_set(session, meta.id)  # the uploader's partnership shows it
        return report


def run_upload_job(engine: Engine, kind: str, params: dict[str, Any], files: list[tuple[str, bytes]],
                   requested_by: str | None, progress: Progress | None = None) -> dict[str, Any]:
    """What a job worker runs for an upload that was queued: the same work as the request would have done."""
    with tempfile.TemporaryDirectory(prefix="csp-atlas-job-") as scratch:
        saved = save_files(files, Path(scratch))
        if kind == CRIME_IMPORT:
            return import_crime_files(engine, saved, requested_by, progress)
        if kind == BOUNDARY_UPLOAD:
            path, name = saved[0]
            return load_boundary_file(engine, path, name, params, progress)
    raise ValueError(f"no upload job of kind '{kind}'")
