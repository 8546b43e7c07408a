"""Boundary sets: list, features, clusters, and uploads by GIS staff."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from server.api import engine
from server.api.auth import require_role
from server.api.caching import cached_response
from server.api.errors import ApiError
from server.api.upload_jobs import queue_upload, runs_as_job
from server.domain import uploads
from server.domain.boundary_files import BoundaryFileError
from server.domain.uploads import safe_file_name
from server.store import boundaries as store
from server.store.db import transaction
from server.store.models import BOUNDARY_KINDS

bp = Blueprint("boundaries", __name__, url_prefix="/api/boundary-sets")
SET_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
GEOJSON = "application/geo+json"


def _set_or_404(db, set_id: str) -> dict:
    found = store.get_boundary_set(db, set_id)
    if found is None:
        raise ApiError(404, f"no boundary set '{set_id}'")
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@bp.get("")
def list_sets():
    with transaction(engine()) as db:
        sets = store.list_boundary_sets(db)
    return jsonify({"boundary_sets": [{
        "id": s["id"], "kind": s["kind"], "title": s["title"], "valid_from": _iso(s["valid_from"]),
        "valid_to": _iso(s["valid_to"]), "feature_count": s["feature_count"], "source": s["source"],
        "licence": s["licence"], "loaded_at": s["loaded_at"].isoformat(),
        # rates per 1,000 residents need it: the map's default measure is the rate where it is loaded
        "population": {"areas": s["population_areas"], "year": s["population_year"]} if s["population_areas"]
        else None} for s in sets]})


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if not raw:
        return None
    try:
        minx, miny, maxx, maxy = (float(part) for part in raw.split(","))
    except ValueError:
        raise ApiError(400, "bbox must be four numbers: minLon,minLat,maxLon,maxLat") from None
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise ApiError(400, "bbox must be minLon,minLat,maxLon,maxLat in degrees with min < max")
    return minx, miny, maxx, maxy


# The features and clusters are answered from the shared response cache, keyed by the data version that every write
# to a boundary set, its areas, clusters or deprivation bumps: that version is the ETag's content key, so a request
# needs no other query (not even for the set: a missing one is found when the body is built, and never cached).

@bp.get("/<set_id>/features")
def features(set_id: str):
    bbox = parse_bbox(request.args.get("bbox"))
    return cached_response(f"features|{set_id}|{bbox}", lambda db: _features_body(db, set_id, bbox), GEOJSON)


def _features_body(db: Session, set_id: str, bbox: tuple[float, float, float, float] | None) -> bytes:
    body = store.area_features_geojson(db, set_id, bbox)
    if body is None:
        raise ApiError(404, f"no boundary set '{set_id}'")
    return body


@bp.get("/<set_id>/clusters")
def clusters(set_id: str):
    return cached_response(f"clusters|{set_id}", lambda db: _clusters_body(db, set_id), GEOJSON)


def _clusters_body(db: Session, set_id: str) -> bytes:
    found = _set_or_404(db, set_id)
    if found["kind"] != "ward":
        raise ApiError(404, f"'{set_id}' is a {found['kind']} set; clusters exist for ward sets only")
    return store.cluster_features_geojson(db, set_id)


@bp.put("/<set_id>/clusters/<int:number>/members/<code>")
@require_role("gis")
def assign_cluster_member(set_id: str, number: int, code: str):
    try:
        with transaction(engine()) as db:
            _set_or_404(db, set_id)
            store.assign_ward_to_cluster(db, set_id, code, number)
    except LookupError as error:
        raise ApiError(404, str(error)) from None
    return jsonify({"set": set_id, "ward": code, "cluster": number, "derived": False})


def _form_date(name: str) -> date | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a date like 2024-05-02, not '{raw}'") from None


def _required_form(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise ApiError(400, f"the form field '{name}' is required")
    return value


def upload_meta() -> store.BoundarySetMeta:
    set_id = _required_form("id")
    if not SET_ID.match(set_id):
        raise ApiError(400, "id must be 2-63 lower-case letters, digits and hyphens, e.g. wards-2024")
    kind = request.form.get("kind", "other").strip()
    if kind not in BOUNDARY_KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(BOUNDARY_KINDS)}")
    meta = store.BoundarySetMeta(
        id=set_id, kind=kind, title=request.form.get("title", "").strip() or set_id,
        valid_from=_form_date("valid_from"), valid_to=_form_date("valid_to"),
        source=request.form.get("source", "").strip(), licence=request.form.get("licence", "").strip(),
        code_field=_required_form("code_field"), name_field=_required_form("name_field"))
    if meta.valid_from and meta.valid_to and meta.valid_to <= meta.valid_from:
        raise ApiError(400, "valid_to must be after valid_from")
    return meta


def _uploaded_file() -> FileStorage:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "attach the boundary file as the multipart field 'file'")
    return upload


@bp.post("")
@require_role("gis")
def upload():
    meta = upload_meta()
    upload = _uploaded_file()
    filename = safe_file_name(upload.filename, 0, "")
    params = uploads.boundary_params(meta, request.form.get("crs") or None, request.form.get("layer") or None)
    if runs_as_job():
        return queue_upload(uploads.BOUNDARY_UPLOAD, f"/api/boundary-sets/{meta.id}/features", params,
                            [(filename, upload.read())])
    with tempfile.TemporaryDirectory(prefix="csp-atlas-") as scratch:
        path = Path(scratch) / filename
        upload.save(path)
        try:
            report = uploads.load_boundary_file(engine(), path, filename, params)
        except BoundaryFileError as error:
            raise ApiError(400, error.message, **error.as_dict()) from None
    return jsonify(report), 200 if report["replaced"] else 201
