"""Populations used for rates: see which one a boundary set has, and replace it with an official one."""

from __future__ import annotations

from flask import jsonify

from server.api import engine
from server.api.auth import require_role
from server.api.contract import Blueprint, file_upload, responds
from server.api.errors import ApiError
from server.domain.population import read_population_csv
from server.store import boundaries as boundary_store
from server.store import statistics as statistics_store
from server.store.db import transaction

bp = Blueprint("populations", __name__, url_prefix="/api/populations", description="Populations used for rates")


@bp.get("/<set_id>")
@responds(bp, 200, "population by area code, with year, source and whether it is derived")
def get_population(set_id: str):
    """The population used for rates on a boundary set (derived estimates say so)"""
    with transaction(engine()) as db:
        if boundary_store.get_boundary_set(db, set_id) is None:
            raise ApiError(404, f"no boundary set '{set_id}'")
        found = statistics_store.populations(db, set_id)
    if found is None:
        raise ApiError(404, f"no population is loaded for '{set_id}'")
    return jsonify({"set": set_id, "year": found.year, "derived": found.derived, "source": found.source,
                    "total": round(sum(found.values.values())), "populations": found.values})


NO_FILE = "attach the population CSV as the multipart field 'file'"
PopulationFile = file_upload("PopulationFile", NO_FILE)


@bp.post("/<set_id>")
@responds(bp, 201, "loaded", errors=(400, 413))
@require_role("gis")
@bp.arguments(PopulationFile, location="files")
def load_population(form: dict, set_id: str):
    """Replace a set's population with a CSV (code,population,year,source; every area once). Role gis or admin."""
    upload = form["file"]
    if not upload.filename:
        raise ApiError(400, NO_FILE)
    with transaction(engine()) as db:
        if boundary_store.get_boundary_set(db, set_id) is None:
            raise ApiError(404, f"no boundary set '{set_id}'")
        table = read_population_csv(upload.read(), upload.filename, boundary_store.area_codes(db, set_id))
        count = statistics_store.replace_populations(db, set_id, table.values, table.year, table.source,
                                                     derived=False)
    return jsonify({"set": set_id, "areas": count, "year": table.year, "source": table.source}), 201
