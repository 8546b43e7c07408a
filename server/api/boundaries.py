"""Boundary sets: list, features, clusters, and uploads by GIS staff."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from flask import jsonify, request
from marshmallow import fields, pre_load
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from server.api import engine
from server.api.auth import require_role
from server.api.caching import cached_response
from server.api.contract import GEOJSON, Bbox, Blueprint, Body, Query, choice, responds, text
from server.api.errors import ApiError
from server.api.upload_jobs import queue_upload, runs_as_job
from server.domain import uploads
from server.domain.uploads import safe_file_name
from server.store import boundaries as store
from server.store.db import transaction
from server.store.models import BOUNDARY_KINDS

bp = Blueprint("boundaries", __name__, url_prefix="/api/boundary-sets", description="Boundary sets and their areas")
SET_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"


def _set_or_404(db, set_id: str) -> dict:
    found = store.get_boundary_set(db, set_id)
    if found is None:
        raise ApiError(404, f"no boundary set '{set_id}'")
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@bp.get("")
@responds(bp, 200, "the boundary sets", schema="BoundarySets")
def list_sets():
    """Boundary sets with validity dates, feature counts and the population loaded for rates"""
    with transaction(engine()) as db:
        sets = store.list_boundary_sets(db)
    return jsonify({"boundary_sets": [{
        "id": s["id"], "kind": s["kind"], "title": s["title"], "valid_from": _iso(s["valid_from"]),
        "valid_to": _iso(s["valid_to"]), "feature_count": s["feature_count"], "source": s["source"],
        "licence": s["licence"], "loaded_at": s["loaded_at"].isoformat(),
        # rates per 1,000 residents need it: the map's default measure is the rate where it is loaded
        "population": {"areas": s["population_areas"], "year": s["population_year"]} if s["population_areas"]
        else None} for s in sets]})


class FeaturesQuery(Query):
    bbox = Bbox()


# The features and clusters are answered from the shared response cache, keyed by the data version that every write
# to a boundary set, its areas, clusters or deprivation bumps: that version is the ETag's content key, so a request
# needs no other query (not even for the set: a missing one is found when the body is built, and never cached).

@bp.get("/<set_id>/features")
@responds(bp, 200, "RFC 7946 FeatureCollection of the areas; feature id is the ONS code", GEOJSON, "FeatureCollection")
@bp.arguments(FeaturesQuery, location="query")
def features(query: dict, set_id: str):
    """Areas of a set, optionally only those in a bounding box"""
    bbox = query.get("bbox")
    return cached_response(f"features|{set_id}|{bbox}", lambda db: _features_body(db, set_id, bbox), GEOJSON)


def _features_body(db: Session, set_id: str, bbox: tuple[float, float, float, float] | None) -> bytes:
    body = store.area_features_geojson(db, set_id, bbox)
    if body is None:
        raise ApiError(404, f"no boundary set '{set_id}'")
    return body


@bp.get("/<set_id>/clusters")
@responds(bp, 200, "RFC 7946 FeatureCollection of the clusters", GEOJSON, "FeatureCollection")
def clusters(set_id: str):
    """Ward clusters of a ward set, each the union of its member wards"""
    return cached_response(f"clusters|{set_id}", lambda db: _clusters_body(db, set_id), GEOJSON)


def _clusters_body(db: Session, set_id: str) -> bytes:
    found = _set_or_404(db, set_id)
    if found["kind"] != "ward":
        raise ApiError(404, f"'{set_id}' is a {found['kind']} set; clusters exist for ward sets only")
    return store.cluster_features_geojson(db, set_id)


@bp.put("/<set_id>/clusters/<int:number>/members/<code>")
@responds(bp, 200, "assigned")
@require_role("gis")
def assign_cluster_member(set_id: str, number: int, code: str):
    """Put a ward into a cluster (replaces a derived membership). Role gis or admin."""
    try:
        with transaction(engine()) as db:
            _set_or_404(db, set_id)
            store.assign_ward_to_cluster(db, set_id, code, number)
    except LookupError as error:
        raise ApiError(404, str(error)) from None
    return jsonify({"set": set_id, "ward": code, "cluster": number, "derived": False})


class UploadForm(Body):
    """The form fields of a boundary upload (the file itself is the multipart field 'file')."""

    id = text("the set's id: 2-63 lower-case letters, digits and hyphens", pattern=SET_ID, max_length=63,
              required=True, example="wards-2024", pattern_error="must be 2-63 lower-case letters, digits and hyphens, "
                                                                  "e.g. wards-2024")
    kind = choice(BOUNDARY_KINDS, "what the areas are", default="other", error="must be one of {choices}")
    title = text("title for people (default: the id)")
    code_field = text("the attribute with each area's code", required=True, example="WD24CD")
    name_field = text("the attribute with each area's name", required=True, example="WD24NM")
    valid_from = fields.Date(metadata={"description": "first day the boundaries are in force"},
                             error_messages={"invalid": "must be a date like 2024-05-02"})
    valid_to = fields.Date(metadata={"description": "last day (exclusive) the boundaries are in force"},
                           error_messages={"invalid": "must be a date like 2024-05-02"})
    crs = text("only for files that declare no CRS", example="EPSG:27700")
    layer = text("GeoPackage layer")
    source = text("where the boundaries come from", max_length=400)
    licence = text("their licence", max_length=400)
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, load_only=True)

    @pre_load
    def _trimmed(self, data, **_kwargs):
        return {name: data[name].strip() for name in data if name != "file" and data[name].strip()}


def upload_meta(form: dict) -> store.BoundarySetMeta:
    meta = store.BoundarySetMeta(
        id=form["id"], kind=form["kind"], title=form.get("title") or form["id"],
        valid_from=form.get("valid_from"), valid_to=form.get("valid_to"), source=form.get("source", ""),
        licence=form.get("licence", ""), code_field=form["code_field"], name_field=form["name_field"])
    if meta.valid_from and meta.valid_to and meta.valid_to <= meta.valid_from:
        raise ApiError(400, "valid_to must be after valid_from")
    return meta


def _uploaded_file() -> FileStorage:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "attach the boundary file as the multipart field 'file'")
    return upload


@bp.post("")
@responds(bp, 201, "created: the set's id, feature count and what was checked", errors=(400, 413), queued=True)
@bp.alt_response(200, description="replaced a set of the same id", schema={"type": "object"}, success=True)
@require_role("gis")
@bp.arguments(UploadForm, location="form", content_type="multipart/form-data")
def upload(form: dict):
    """Load a boundary file (zipped Shapefile, GeoPackage or GeoJSON). Role gis or admin.

    Replaces a set of the same id atomically. Files over CSP_ATLAS_UPLOAD_JOB_BYTES are queued as a job (202)."""
    meta = upload_meta(form)
    upload = _uploaded_file()
    filename = safe_file_name(upload.filename, 0, "")
    params = uploads.boundary_params(meta, form.get("crs"), form.get("layer"))
    if runs_as_job():
        return queue_upload(uploads.BOUNDARY_UPLOAD, f"/api/boundary-sets/{meta.id}/features", params,
                            [(filename, upload.read())])
    with tempfile.TemporaryDirectory(prefix="csp-atlas-") as scratch:
        path = Path(scratch) / filename
        upload.save(path)
        report = uploads.load_boundary_file(engine(), path, filename, params)
    return jsonify(report), 200 if report["replaced"] else 201
