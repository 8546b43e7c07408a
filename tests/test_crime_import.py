"""Importing data.police.uk street-level crime files: counts, idempotence, identities, placement, refusals, API.

The 11 real Maidstone files are imported once per session by a module fixture and left in place (the import is
idempotent, and other modules rely on them). Constructed rows use months from 2030 and are removed afterwards.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.domain.boundary_files import read_boundary_file
from server.domain.police_import import (
    POLICE_COLUMNS,
    CrimeFileError,
    ImportSummary,
    PoliceFile,
    import_police_files,
    open_police_files,
)
from server.store import boundaries as boundary_store
from server.store import crime as store
from server.store.db import transaction
from tests.conftest import GEODATA, SHARED, bearer

CRIME_FILES = sorted((GEODATA / "crime").glob("2022-*-kent-street.csv"))
# Rows per month, January to November 2022, as published in geodata/SOURCES.md.
PUBLISHED_ROWS_PER_MONTH = [1475, 1311, 1679, 1604, 1545, 1442, 1483, 1576, 1498, 1416, 1467]
REFERENCE_SETS = ("wards-2013", "wards-2024", "lsoa-2011")
KENT_BENCH = SHARED / "bench-data" / "kent-street-2022-01-to-11.csv.gz"
TEST_MONTHS_FROM = date(2030, 1, 1)
METRES_PER_DEGREE_LATITUDE = 111_320


def import_files(engine: Engine, paths: list[Path]) -> ImportSummary:
    return import_police_files(engine, open_police_files([(path, path.name) for path in paths]))


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def scalar(engine: Engine, sql: str, **params) -> int:
    with transaction(engine) as session:
        return session.execute(text(sql), params).scalar_one()


def table_counts(engine: Engine) -> tuple[int, int, int]:
    return (scalar(engine, "SELECT count(*) FROM crime_records"),
            scalar(engine, "SELECT count(*) FROM crime_imports"),
            scalar(engine, "SELECT count(*) FROM crime_placements"))


def identities_of(paths: list[Path]) -> list[str]:
    return [row[1] for path in paths for row in PoliceFile(path).rows()]


def unplaced_independently(engine: Engine, import_ids: list[int]) -> dict[str, int]:
    """Records of these imports with no placement row in each reference set, counted with a LEFT JOIN."""
    with transaction(engine) as session:
        rows = session.execute(text("""
            SELECT s.id, count(*) FILTER (WHERE p.record_id IS NULL)
            FROM crime_records r CROSS JOIN boundary_sets s
            LEFT JOIN crime_placements p ON p.record_id = r.id AND p.set_id = s.id
            WHERE r.import_id = ANY(:ids) AND s.id = ANY(:sets) GROUP BY s.id"""),
            {"ids": import_ids, "sets": list(REFERENCE_SETS)}).all()
    return {**dict.fromkeys(REFERENCE_SETS, 0), **dict(rows)}


def delete_imports(engine: Engine, import_ids: list[int]) -> None:
    with transaction(engine) as session:
        session.execute(text("DELETE FROM crime_records WHERE import_id = ANY(:ids)"), {"ids": import_ids})
        session.execute(text("DELETE FROM crime_imports WHERE id = ANY(:ids)"), {"ids": import_ids})


@pytest.fixture(scope="module")
def real_import(engine: Engine) -> ImportSummary:
    """The 11 real Maidstone files, imported (or found already imported) and left loaded."""
    assert len(CRIME_FILES) == 11, f"expected 11 crime files in {GEODATA / 'crime'}"
    return import_files(engine, CRIME_FILES)


def remove_test_months(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(text("DELETE FROM crime_records WHERE month >= :m"), {"m": TEST_MONTHS_FROM})
        session.execute(text("DELETE FROM crime_imports i WHERE i.file_name LIKE 'test-20%' AND NOT EXISTS "
                             "(SELECT 1 FROM crime_records r WHERE r.import_id = i.id)"))


@pytest.fixture
def test_months(engine: Engine) -> Iterator[None]:
    """Constructed records (months from 2030) are removed before and after the test."""
    remove_test_months(engine)
    yield
    remove_test_months(engine)


# --- the real files ------------------------------------------------------------------------------------------

def test_real_files_read_the_published_row_counts(real_import):
    total = real_import.total
    assert total.rows_read == sum(PUBLISHED_ROWS_PER_MONTH) == 16_496
    read_per_month = [total.per_month[f"2022-{m:02d}"]["rows_read"] for m in range(1, 12)]
    assert read_per_month == PUBLISHED_ROWS_PER_MONTH
    assert total.inserted + total.duplicates == total.rows_read
    for part, published in zip(real_import.files, PUBLISHED_ROWS_PER_MONTH, strict=True):
        assert part.rows_read == published and part.inserted + part.duplicates == published
    assert total.no_location == sum(1 for path in CRIME_FILES for row in read_csv_rows(path) if not row["Longitude"])


def test_every_row_is_a_distinct_record_asb_repeats_included(engine, real_import):
    identities = identities_of(CRIME_FILES)
    assert len(identities) == len(set(identities)) == sum(PUBLISHED_ROWS_PER_MONTH)
    stored = scalar(engine, "SELECT count(*) FROM crime_records WHERE identity = ANY(:ids)", ids=identities)
    assert stored == len(identities)
    # The files do hold identical ASB rows (same month, place and type): each stays a separate record.
    asb_rows = [tuple(row.values()) for path in CRIME_FILES for row in read_csv_rows(path) if not row["Crime ID"]]
    repeated = sum(count - 1 for count in Counter(asb_rows).values())
    assert repeated > 0
    stored_asb = scalar(engine, "SELECT count(*) FROM crime_records WHERE identity = ANY(:ids) AND crime_id IS NULL",
                        ids=identities)
    assert stored_asb == len(asb_rows)


def test_reimporting_changes_nothing(engine, real_import):
    before = scalar(engine, "SELECT count(*) FROM crime_records"), \
        scalar(engine, "SELECT count(*) FROM crime_placements")
    again = import_files(engine, CRIME_FILES)
    try:
        assert again.total.inserted == 0
        assert again.total.duplicates == again.total.rows_read == 16_496
        assert all(count == 0 for count in again.total.unplaced.values())
        after = scalar(engine, "SELECT count(*) FROM crime_records"), \
            scalar(engine, "SELECT count(*) FROM crime_placements")
        assert after == before
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM crime_imports WHERE id = ANY(:ids)"),
                            {"ids": [part.import_id for part in again.files]})


def test_every_real_record_is_placed_in_every_reference_set(engine, real_import):
    identities = identities_of(CRIME_FILES)
    with transaction(engine) as session:
        placed = dict(session.execute(text("""
            SELECT p.set_id, count(*) FROM crime_placements p JOIN crime_records r ON r.id = p.record_id
            WHERE r.identity = ANY(:ids) GROUP BY p.set_id"""), {"ids": identities}).all())
        methods = Counter(dict(session.execute(text("""
            SELECT p.method, count(*) FROM crime_placements p JOIN crime_records r ON r.id = p.record_id
            WHERE r.identity = ANY(:ids) GROUP BY p.method"""), {"ids": identities}).all()))
    # SOURCES.md: every row's LSOA code is a Maidstone LSOA and every point lies within ~100 m of the borough.
    for set_id in REFERENCE_SETS:
        assert placed[set_id] == len(identities), set_id
    assert methods["within"] > 0.99 * sum(methods.values())
    reported = real_import.total.unplaced
    import_ids = [part.import_id for part in real_import.files]
    assert {s: reported[s] for s in REFERENCE_SETS} == unplaced_independently(engine, import_ids)


def test_a_real_crime_is_in_the_ward_that_contains_it(engine, real_import):
    first = read_csv_rows(CRIME_FILES[0])[0]
    assert first["Month"] == "2022-01" and first["Crime ID"]
    with transaction(engine) as session:
        containing = dict(session.execute(text("""
            SELECT set_id, code FROM areas WHERE set_id IN ('wards-2013', 'wards-2024')
            AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"""),
            {"lon": float(first["Longitude"]), "lat": float(first["Latitude"])}).all())
        placed = {row.set_id: (row.area_code, row.method) for row in session.execute(text("""
            SELECT p.set_id, p.area_code, p.method FROM crime_placements p
            JOIN crime_records r ON r.id = p.record_id WHERE r.identity = :id"""), {"id": first["Crime ID"]})}
    assert set(containing) == {"wards-2013", "wards-2024"}
    for set_id, ward in containing.items():
        assert placed[set_id] == (ward, "within")


def test_placing_only_unplaced_records_restores_a_lost_placement(engine, real_import):
    crime_id = read_csv_rows(CRIME_FILES[0])[0]["Crime ID"]
    with transaction(engine) as session:
        record_id, ward = session.execute(text("""
            SELECT r.id, p.area_code FROM crime_records r JOIN crime_placements p ON p.record_id = r.id
            WHERE r.identity = :id AND p.set_id = 'wards-2013'"""), {"id": crime_id}).one()
        session.execute(text("DELETE FROM crime_placements WHERE record_id = :r AND set_id = 'wards-2013'"),
                        {"r": record_id})
        unplaced = store.place_records(session, ["wards-2013"], only_unplaced=True)
        restored = session.execute(text("SELECT area_code FROM crime_placements WHERE record_id = :r AND "
                                         "set_id = 'wards-2013'"), {"r": record_id}).scalar_one()
        session.rollback()
    assert restored == ward
    assert unplaced["wards-2013"] == scalar(
        engine, "SELECT count(*) FROM crime_records r WHERE NOT EXISTS (SELECT 1 FROM crime_placements p "
                "WHERE p.record_id = r.id AND p.set_id = 'wards-2013')")


def test_loading_a_boundary_set_places_the_records_in_it(engine, real_import, scratch_set):
    data = read_boundary_file(GEODATA / "maidstone_wards_2024.geojson", code_field="WD24CD", name_field="WD24NM")
    meta = boundary_store.BoundarySetMeta(id=scratch_set, kind="ward", title=scratch_set,
                                          code_field="WD24CD", name_field="WD24NM")
    with transaction(engine) as session:
        report = boundary_store.replace_boundary_set(session, meta, data)
    with transaction(engine) as session:
        same, differing = session.execute(text("""
            SELECT count(*) FILTER (WHERE a.area_code = b.area_code AND a.method = b.method),
                   count(*) FILTER (WHERE b.record_id IS NULL OR a.area_code <> b.area_code)
            FROM crime_placements a LEFT JOIN crime_placements b
                 ON b.record_id = a.record_id AND b.set_id = :scratch
            WHERE a.set_id = 'wards-2024'"""), {"scratch": scratch_set}).one()
        unplaced = session.execute(text("""
            SELECT count(*) FROM crime_records r LEFT JOIN crime_placements p
                 ON p.record_id = r.id AND p.set_id = :scratch WHERE p.record_id IS NULL"""),
            {"scratch": scratch_set}).scalar_one()
    assert same >= sum(PUBLISHED_ROWS_PER_MONTH) and differing == 0
    assert report.unplaced_crimes == unplaced


def test_layer_queries_agree_with_the_files(engine, real_import):
    rows = [row for path in CRIME_FILES for row in read_csv_rows(path)]
    asb_rows = sum(1 for row in rows if row["Crime type"] == "Anti-social behaviour")
    january, november = date(2022, 1, 1), date(2022, 11, 1)
    with transaction(engine) as session:
        months = store.available_months(session)
        types = {slug: (name, count) for slug, name, count in store.crime_types(session)}
        all_by_ward = store.count_by_area(session, "wards-2013", january, november, None, None)
        asb_by_ward = store.count_by_area(session, "wards-2013", january, november, ["anti-social-behaviour"], None)
        crime_by_ward = store.count_by_area(session, "wards-2024", january, november, None,
                                            ["anti-social-behaviour"])
        unplaced = store.unplaced_counts(session, january, november)
        no_location = store.no_location_count(session, january, november)
    assert [date(2022, m, 1) for m in range(1, 12)] == [m for m in months if m.year == 2022]
    assert types["anti-social-behaviour"][0] == "Anti-social behaviour"
    assert types["violence-and-sexual-offences"][0] == "Violence and sexual offences"
    assert len(all_by_ward) == 26 and sum(all_by_ward.values()) == len(rows) - unplaced["wards-2013"]
    assert sum(asb_by_ward.values()) == asb_rows
    assert len(crime_by_ward) == 22 and sum(crime_by_ward.values()) == len(rows) - asb_rows
    assert no_location == sum(1 for row in rows if not row["Longitude"])


# --- constructed files ---------------------------------------------------------------------------------------

def write_police_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = POLICE_COLUMNS) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8")))
    else:
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def police_row(month: str, crime_id: str = "", lon: float | None = None, lat: float | None = None,
               lsoa: str = "", crime_type: str = "Anti-social behaviour", location: str = "On or near Test Street",
               **overrides: str) -> dict[str, str]:
    row = {"Crime ID": crime_id, "Month": month, "Reported by": "Kent Police", "Falls within": "Kent Police",
           "Longitude": "" if lon is None else f"{lon:.6f}", "Latitude": "" if lat is None else f"{lat:.6f}",
           "Location": location if lon is not None else "No Location", "LSOA code": lsoa,
           "LSOA name": "", "Crime type": crime_type, "Last outcome category": "", "Context": ""}
    row.update(overrides)
    return row


@pytest.fixture(scope="module")
def easternmost(engine: Engine) -> tuple[float, float, str]:
    """The easternmost vertex of every reference area together, and the LSOA it belongs to."""
    with transaction(engine) as session:
        lon, lat = session.execute(text("""
            SELECT ST_X(pt.geom), ST_Y(pt.geom) FROM areas a, ST_DumpPoints(a.geom) pt
            WHERE a.set_id IN ('wards-2013', 'wards-2024', 'lsoa-2011')
            ORDER BY ST_X(pt.geom) DESC LIMIT 1""")).one()
        lsoa = session.execute(text("""
            SELECT code FROM areas WHERE set_id = 'lsoa-2011'
            ORDER BY ST_Distance(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) LIMIT 1"""),
            {"lon": lon, "lat": lat}).scalar_one()
    return lon, lat, lsoa


def east_of(point: tuple[float, float, str], metres: float) -> tuple[float, float]:
    lon, lat, _ = point
    return lon + metres / (METRES_PER_DEGREE_LATITUDE * math.cos(math.radians(lat))), lat


def placements_of(engine: Engine, identities: list[str]) -> dict[str, dict[str, str]]:
    """crime_id -> {set_id: method} for the reference sets."""
    with transaction(engine) as session:
        rows = session.execute(text("""
            SELECT r.crime_id, p.set_id, p.method FROM crime_records r
            JOIN crime_placements p ON p.record_id = r.id AND p.set_id IN ('wards-2013', 'wards-2024', 'lsoa-2011')
            WHERE r.crime_id = ANY(:ids)"""), {"ids": identities}).all()
    placed: dict[str, dict[str, str]] = {}
    for crime_id, set_id, method in rows:
        placed.setdefault(crime_id, {})[set_id] = method
    return placed


def test_constructed_file_keeps_no_location_and_repeated_asb_rows_and_places_edge_points(
        engine, real_import, test_months, easternmost, tmp_path):
    near, far = east_of(easternmost, 50), east_of(easternmost, 5000)
    asb_twice = police_row("2030-01", lon=0.551543, lat=51.329660, lsoa="E01024333")
    rows = [
        police_row("2030-01", location="No Location"),
        asb_twice, dict(asb_twice),
        police_row("2030-01", "test-near-no-lsoa", *near, crime_type="Burglary"),
        police_row("2030-01", "test-near-maidstone-lsoa", *near, lsoa=easternmost[2], crime_type="Burglary"),
        police_row("2030-01", "test-near-foreign-lsoa", *near, lsoa="E01024100", crime_type="Burglary"),
        police_row("2030-01", "test-far", *far, crime_type="Burglary"),
    ]
    path = write_police_csv(tmp_path / "test-2030-01-street.csv", rows)
    summary = import_files(engine, [path])
    part = summary.files[0]
    assert (part.rows_read, part.inserted, part.duplicates, part.no_location) == (7, 7, 0, 1)
    assert part.per_month == {"2030-01": {"rows_read": 7, "inserted": 7}}
    with transaction(engine) as session:
        asb_records = session.execute(text(
            "SELECT count(DISTINCT identity) FROM crime_records WHERE import_id = :i AND crime_id IS NULL "
            "AND location = 'On or near Test Street'"), {"i": part.import_id}).scalar_one()
    assert asb_records == 2
    placed = placements_of(engine, ["test-near-no-lsoa", "test-near-maidstone-lsoa", "test-near-foreign-lsoa",
                                    "test-far"])
    assert placed["test-near-no-lsoa"] == dict.fromkeys(REFERENCE_SETS, "nearest")
    assert placed["test-near-maidstone-lsoa"] == dict.fromkeys(REFERENCE_SETS, "lsoa_code")
    assert "test-near-foreign-lsoa" not in placed, "a crime in another borough's LSOA is not pulled in"
    assert "test-far" not in placed
    # unplaced: the no-location row, the foreign-LSOA point and the point 5 km out
    assert {s: part.unplaced[s] for s in REFERENCE_SETS} == dict.fromkeys(REFERENCE_SETS, 3)
    assert {s: part.unplaced[s] for s in REFERENCE_SETS} == unplaced_independently(engine, [part.import_id])
    with transaction(engine) as session:
        assert store.unplaced_counts(session, date(2030, 1, 1), date(2030, 1, 1))["wards-2013"] == 3
        assert store.no_location_count(session, date(2030, 1, 1), date(2030, 1, 1)) == 1
    again = import_files(engine, [path]).files[0]
    assert (again.inserted, again.duplicates) == (0, 7)


def test_gzipped_files_are_accepted(engine, test_months, tmp_path):
    path = write_police_csv(tmp_path / "test-2030-02-street.csv.gz",
                            [police_row("2030-02", "test-gz-1", 0.55, 51.3, crime_type="Drugs")])
    summary = import_files(engine, [path])
    assert (summary.total.rows_read, summary.total.inserted) == (1, 1)
    assert summary.total.per_month == {"2030-02": {"rows_read": 1, "inserted": 1}}


BAD_FILES = {
    "header": ([police_row("2030-03", "test-bad-h")], (*POLICE_COLUMNS[:-1], "Notes"),
               ["missing column(s) 'Context'", "unexpected column(s) 'Notes'"]),
    "month": ([police_row("2030-03", "test-bad-m1"), police_row("2030-13", "test-bad-m2"),
               police_row("March 2030", "test-bad-m3")], POLICE_COLUMNS,
              ["line 3: Month '2030-13' is not a month", "line 4: Month 'March 2030' is not a month"]),
    "coordinate": ([police_row("2030-03", "test-bad-c1", 0.5, 51.2),
                    police_row("2030-03", "test-bad-c2", Longitude="0.5x", Latitude="51.2"),
                    police_row("2030-03", "test-bad-c3", 0.5, 95.0),
                    police_row("2030-03", "test-bad-c4", Longitude="", Latitude="51.2")], POLICE_COLUMNS,
                   ["line 3: Longitude '0.5x' is not a number", "line 4: Latitude 95.000000 is out of range",
                    "line 5: Latitude is given but Longitude is empty"]),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_are_refused_whole_with_file_and_line(engine, real_import, test_months, tmp_path, kind):
    rows, columns, expected = BAD_FILES[kind]
    good = write_police_csv(tmp_path / "test-2030-03-good.csv", [police_row("2030-03", "test-good-1", 0.55, 51.3)])
    bad = write_police_csv(tmp_path / f"test-2030-03-{kind}.csv", rows, columns)
    before = table_counts(engine)
    with pytest.raises(CrimeFileError) as caught:
        import_files(engine, [good, bad])
    assert caught.value.file == bad.name
    for fragment in expected:
        assert fragment in caught.value.message and caught.value.message.startswith(bad.name)
    assert table_counts(engine) == before


def test_rows_with_the_wrong_number_of_fields_are_refused(tmp_path):
    path = tmp_path / "test-short.csv"
    path.write_text(",".join(POLICE_COLUMNS) + "\r\nabc,2030-01,Kent Police\r\n", encoding="utf-8")
    with pytest.raises(CrimeFileError, match=r"test-short\.csv: line 2: 3 fields, expected 12"):
        list(PoliceFile(path).rows())


def test_unsupported_and_empty_files_are_refused(tmp_path):
    (tmp_path / "crimes.xlsx").write_bytes(b"PK")
    with pytest.raises(CrimeFileError, match=r"crimes\.xlsx: unsupported file type"):
        PoliceFile(tmp_path / "crimes.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CrimeFileError, match=r"empty\.csv: the file is empty"):
        PoliceFile(tmp_path / "empty.csv")
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(CrimeFileError, match=r"broken\.csv\.gz: unreadable file"):
        PoliceFile(tmp_path / "broken.csv.gz")


# --- HTTP -----------------------------------------------------------------------------------------------------

def upload(client, token: str | None, files: list[tuple[str, bytes]]):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    headers = bearer(token) if token else {}
    return client.post("/api/crime/imports", data=data, headers=headers, content_type="multipart/form-data")


def test_http_import_needs_the_gis_role_and_returns_the_summary(client, tokens, test_months, tmp_path):
    path = write_police_csv(tmp_path / "test-2030-04-street.csv.gz",
                            [police_row("2030-04", "test-http-1", 0.55, 51.3, crime_type="Robbery"),
                             police_row("2030-04", lon=0.55, lat=51.3)])
    files = [(path.name, path.read_bytes())]
    assert upload(client, None, files).status_code == 401
    assert upload(client, tokens["viewer"], files).status_code == 403
    response = upload(client, tokens["gis"], files)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["total"]["rows_read"] == 2 and body["total"]["inserted"] == 2
    assert body["files"][0]["file"] == path.name
    assert body["total"]["per_month"] == {"2030-04": {"rows_read": 2, "inserted": 2}}
    assert client.get("/api/crime/imports").status_code == 401
    listed = client.get("/api/crime/imports", headers=bearer(tokens["gis"])).get_json()["imports"]
    mine = next(item for item in listed if item["id"] == body["files"][0]["import_id"])
    assert mine["file"] == path.name and mine["inserted"] == 2 and mine["imported_by"].startswith("gis-")


def test_http_import_of_a_bad_file_is_a_400_naming_file_and_line(client, tokens, test_months, tmp_path):
    good = write_police_csv(tmp_path / "test-2030-05-good.csv", [police_row("2030-05", "test-http-2", 0.55, 51.3)])
    bad = write_police_csv(tmp_path / "test-2030-05-bad.csv", [police_row("2030-05", "test-http-3", 0.55, 51.3),
                                                               police_row("2030-5", "test-http-4", 0.55, 51.3)])
    response = upload(client, tokens["gis"], [(good.name, good.read_bytes()), (bad.name, bad.read_bytes())])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["file"] == bad.name and "line 3: Month '2030-5'" in error["message"]
    with transaction(client.application.extensions["csp_engine"]) as session:
        kept = session.execute(text("SELECT count(*) FROM crime_records WHERE month = '2030-05-01'")).scalar_one()
    assert kept == 0
    assert upload(client, tokens["gis"], []).status_code == 400


# --- scale (opt-in: --scale) -----------------------------------------------------------------------------------

@pytest.mark.scale
def test_kent_wide_import_adds_up(engine, real_import):
    rows = read_csv_rows(KENT_BENCH)
    repeated_ids = sum(n - 1 for n in Counter(r["Crime ID"] for r in rows if r["Crime ID"]).values())
    summary = import_files(engine, [KENT_BENCH])
    import_ids = [part.import_id for part in summary.files]
    try:
        total = summary.total
        assert total.rows_read == len(rows)
        assert total.rows_read == total.inserted + total.duplicates
        # The Maidstone rows are already loaded from the monthly files, and must be recognised as such,
        # ASB included; a Crime ID that appears twice in the Kent file is stored once.
        assert total.duplicates == sum(PUBLISHED_ROWS_PER_MONTH) + repeated_ids
        assert total.no_location == sum(1 for r in rows if not r["Longitude"])
        with transaction(engine) as session:
            placed = dict(session.execute(text("""
                SELECT p.set_id, count(*) FROM crime_placements p JOIN crime_records r ON r.id = p.record_id
                WHERE r.import_id = ANY(:ids) GROUP BY p.set_id"""), {"ids": import_ids}).all())
        for set_id in REFERENCE_SETS:
            assert placed.get(set_id, 0) + total.unplaced[set_id] == total.inserted, set_id
        assert {s: total.unplaced[s] for s in REFERENCE_SETS} == unplaced_independently(engine, import_ids)
    finally:
        delete_imports(engine, import_ids)
