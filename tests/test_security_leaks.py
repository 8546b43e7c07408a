"""No leaks: errors never show server paths, who imported what is for GIS staff, and a restricted layer is answered
exactly as a missing one by the analysis routes."""

from __future__ import annotations

import io

from sqlalchemy import text

from server.store.db import transaction
from tests.conftest import bearer


def test_a_corrupt_upload_is_refused_without_server_paths(client, tokens, scratch_set):
    response = client.post("/api/boundary-sets", headers=bearer(tokens["gis"]), data={
        "id": scratch_set, "title": "Corrupt", "kind": "ward", "code_field": "C", "name_field": "N",
        "file": (io.BytesIO(b"SQLite format 3\x00 but not really a GeoPackage" * 20), "wards.gpkg")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "wards.gpkg" in body
    assert "/tmp" not in body and "csp-atlas-" not in body
    assert "DRIVER" not in body, "advice for programmers is left out"


def test_importers_are_named_to_gis_staff_only(client, engine, tokens):
    with transaction(engine) as session:
        session.execute(text("UPDATE crime_imports SET imported_by = 'someone' WHERE id = "
                             "(SELECT min(id) FROM crime_imports) AND imported_by IS NULL"))
        importers = dict(session.execute(text("SELECT id, imported_by FROM crime_imports")).all())
    assert any(importers.values())
    for role, named in (("viewer", False), ("officer", False), ("gis", True), ("admin", True)):
        imports = client.get("/api/crime/imports", headers=bearer(tokens[role])).get_json()["imports"]
        assert imports, "the reference data includes imports"
        shown = {item["id"]: item["imported_by"] for item in imports}
        assert shown == ({i: importers[i] for i in shown} if named else dict.fromkeys(shown)), role


def test_analysis_of_a_restricted_layer_answers_as_of_a_missing_one_for_everyone_without_access(client, tokens):
    for headers in ({}, bearer(tokens["viewer"]), bearer(tokens["gis"])):
        hidden = client.get("/api/hotspots/kde?source=dcsm-locations", headers=headers)
        missing = client.get("/api/hotspots/kde?source=no-such-layer", headers=headers)
        assert hidden.status_code == missing.status_code == 400
        assert hidden.get_json()["error"]["message"] == missing.get_json()["error"]["message"].replace(
            "no-such-layer", "dcsm-locations")
