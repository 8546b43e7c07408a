"""Coverage, not zeros: a Kent-wide ward set with only Maidstone's police.uk records loaded shows the wards
outside Maidstone as "No data" (null), drawn and counted apart, in layers, exports and static maps."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from server.domain.legend_labels import class_labels
from server.store.db import transaction
from tests.conftest import GEODATA, SHARED, bearer
from tests.test_maps_exports import identified_areas

KENT_WARDS = SHARED / "bench-data" / "kent_wards_2013.geojson"
KENT_SET = "kent-wards-2013-coverage"


@pytest.fixture(scope="module")
def kent(app, engine, tokens):
    if not KENT_WARDS.exists():
        pytest.skip(f"{KENT_WARDS} is not there")
    form = {"file": (io.BytesIO(KENT_WARDS.read_bytes()), "kent_wards_2013.geojson"), "id": KENT_SET,
            "kind": "ward", "code_field": "WD13CD", "name_field": "WD13NM", "valid_from": "2013-05-02",
            "valid_to": "2024-05-02", "title": "Kent electoral wards (2013 to May 2024)"}
    response = app.test_client().post("/api/boundary-sets", data=form, headers=bearer(tokens["gis"]))
    assert response.status_code in (200, 201), response.get_json()
    yield KENT_SET
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": KENT_SET})


def maidstone_ward_codes() -> set[str]:
    features = json.loads((GEODATA / "maidstone_wards_2013.geojson").read_text())["features"]
    return {f["properties"]["WD13CD"] for f in features}


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_json(silent=True)
    return response


def test_wards_outside_the_imported_data_are_no_data_not_zero(client, kent):
    layer = get(client, f"/api/layers/{kent}?metric=all-crime&period=2022").get_json()
    assert len(layer["features"]) == 305
    with_data = {f["properties"]["code"] for f in layer["features"] if f["properties"]["value"] is not None}
    assert with_data == maidstone_ward_codes()
    outside = [f for f in layer["features"] if f["properties"]["value"] is None]
    assert len(outside) == 305 - 26 == layer["legend"]["no_data_count"]
    assert all(f["properties"]["class"] is None and f["properties"]["color"] is None for f in outside)
    assert sum(c["count"] for c in layer["legend"]["classes"]) == 26
    assert layer["legend"]["no_data_label"] == "No data"
    assert any("279 areas lie outside the police.uk data" in n for n in layer["metadata"]["notes"])


def test_covered_wards_have_the_same_counts_as_the_maidstone_set(client, kent):
    """The same 2013 wards, loaded twice: the Kent set's Maidstone wards count exactly what wards-2013 counts."""
    kent_layer = get(client, f"/api/layers/{kent}?metric=burglary&period=2022-03").get_json()
    own = get(client, "/api/layers/wards-2013?metric=burglary&period=2022-03").get_json()
    mine = {f["properties"]["code"]: f["properties"]["value"] for f in own["features"]}
    theirs = {f["properties"]["code"]: f["properties"]["value"] for f in kent_layer["features"]
              if f["properties"]["code"] in mine}
    assert theirs == mine
    assert 0 in mine.values() or min(mine.values()) >= 0  # a covered ward with no burglary reads 0, not No data


def test_legend_labels_are_served_and_match_the_shared_formatter(client):
    layer = get(client, "/api/layers/wards-2024?metric=all-crime&period=2022").get_json()
    values = [f["properties"]["value"] for f in layer["features"]]
    labels = [c["label"] for c in layer["legend"]["classes"]]
    assert labels == class_labels(layer["legend"]["classes"], values)
    first = layer["legend"]["classes"][0]
    assert labels[1].startswith(f"{int(first['upper']) + 1:,} – "), "counts: the next class starts one above"


def test_exports_carry_null_not_zero(client, kent):
    rows = list(csv.DictReader(io.StringIO(get(client, f"/api/exports/{kent}.csv?metric=asb&period=2022").data
                                           .decode())))
    assert len(rows) == 305
    assert sum(1 for r in rows if r["value"] == "") == 279
    assert all(r["value"] != "" for r in rows if r["code"] in maidstone_ward_codes())


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "map.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_static_map_counts_no_data_apart(client, kent, tmp_path, artifacts):
    body = get(client, f"/api/maps/{kent}.pdf?metric=all-crime&period=2022&page=a3-landscape").data
    (artifacts / "kent-wards-no-data-a3.pdf").write_bytes(body)
    words = pdf_text(body, tmp_path)
    assert "No data (279)" in " ".join(words.split())
    raw = subprocess.run(["pdftotext", "-raw", str(tmp_path / "map.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    names = [f["properties"]["name"] for f in get(client, f"/api/layers/{kent}?metric=all-crime&period=2022")
             .get_json()["features"]]
    numbered = identified_areas(raw, "All recorded crime", names)
    assert 0 < len(numbered) < 305, "a county on A3: some names fit, the rest are numbered"


def test_partnership_figures_re_estimated_for_kent_are_no_data_outside_maidstone(client, kent):
    layer = get(client, f"/api/layers/{kent}?metric=seed-asb-by-ward&period=2022").get_json()
    with_data = {f["properties"]["code"] for f in layer["features"] if f["properties"]["value"] is not None}
    assert with_data == maidstone_ward_codes()
    assert layer["legend"]["no_data_count"] == 279
    assert "279 areas lie outside the areas the figures are for (Maidstone electoral wards (2013 to May 2024)): " \
        "No data" in layer["metadata"]["notes"]


def test_a_district_with_records_for_only_some_months_is_no_data_for_the_whole_period(engine, kent):
    """One month of Tonbridge and Malling records: its wards have data for that month, not for the year."""
    from sqlalchemy.orm import Session

    from server.store import coverage as coverage_store

    covered = coverage_store.covered_area_codes.__wrapped__  # the memo is keyed by data version: read afresh
    with engine.connect() as connection:
        transaction_ = connection.begin()
        session = Session(bind=connection)
        ward = session.execute(text("""
            SELECT code, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM areas
            WHERE set_id = :set AND name = 'Cage Green'"""), {"set": kent}).mappings().one()
        import_id = session.execute(text("""
            INSERT INTO crime_imports (file_name, checksum, rows_read, inserted, duplicates, no_location, unplaced,
                                       per_month)
            VALUES ('t-and-m.csv', 'x', 1, 1, 0, 0, '{}', '{}') RETURNING id""")).scalar()
        record_id = session.execute(text("""
            INSERT INTO crime_records (identity, month, lsoa_code, lsoa_name, crime_type, crime_type_slug, location,
                                       geom, import_id, longitude, latitude, reported_by, falls_within,
                                       last_outcome, context)
            VALUES ('coverage-test', '2022-06-01', 'E01024700', 'Tonbridge and Malling 012A', 'Burglary', 'burglary',
                    'On or near Test Road', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :import, :lon, :lat,
                    'Kent Police', 'Kent Police', '', '')
            RETURNING id"""), {**ward, "import": import_id}).scalar()
        session.execute(text("INSERT INTO crime_placements (record_id, set_id, area_code, method) "
                             "VALUES (:r, :set, :code, 'within')"), {"r": record_id, "set": kent, "code": ward["code"]})
        june = covered(session, kent, date(2022, 6, 1), date(2022, 6, 1))
        year = covered(session, kent, date(2022, 1, 1), date(2022, 11, 1))
        months = coverage_store.district_months.__wrapped__(session, date(2022, 1, 1), date(2022, 11, 1))
        transaction_.rollback()
    assert ward["code"] in june and ward["code"] not in year
    assert months["Tonbridge and Malling"] == 1 and months["Maidstone"] == 11
    assert maidstone_ward_codes() <= year


def test_rates_without_a_population_are_no_data(client, kent, engine):
    """A derived population for 20 of Maidstone's 26 wards only (uploads must be complete; derived estimates need
    not be): the other 6 have crime counts but no rate."""
    known = sorted(maidstone_ward_codes())[:20]
    with transaction(engine) as session:
        for code in known:
            session.execute(text("""
                INSERT INTO populations (set_id, area_code, year, population, derived, source)
                VALUES (:set, :code, 2021, 5000, true, 'test')"""), {"set": kent, "code": code})
    layer = get(client, f"/api/layers/{kent}?metric=all-crime&measure=rate&period=2022").get_json()
    rated = {f["properties"]["code"] for f in layer["features"] if f["properties"]["value"] is not None}
    assert rated == set(known)
    assert layer["legend"]["no_data_count"] == 305 - 20
    assert "6 areas have no population loaded: their rate is No data" in layer["metadata"]["notes"]
