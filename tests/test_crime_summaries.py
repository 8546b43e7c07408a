"""The trigger-kept crime summaries (migration 0010, server/store/crime_summary.py) equal direct counts over
crime_records and crime_placements after every kind of write: an import, a second import, a re-import, a boundary
load, a moved placement, deletes of records and of a boundary set, and a rebuild."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

from server.domain.boundary_files import read_boundary_file
from server.store import boundaries as boundary_store
from server.store import crime as crime_store
from server.store import crime_summary
from server.store.db import transaction
from tests import test_crime_import as crime_import_tests
from tests.conftest import GEODATA
from tests.test_crime_import import east_of, import_files, police_row, write_police_csv

# The import tests' fixtures: the real Maidstone files, constructed months removed afterwards, an edge point.
real_import = crime_import_tests.real_import
test_months = crime_import_tests.test_months
easternmost = crime_import_tests.easternmost

DIRECT_MONTHS = """
    SELECT month, crime_type_slug, crime_type, count(*), count(*) FILTER (WHERE geom IS NULL)
    FROM crime_records GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
KEPT_MONTHS = """
    SELECT month, crime_type_slug, crime_type, records, no_location FROM crime_month_counts ORDER BY 1, 2, 3"""
DIRECT_AREAS = """
    SELECT p.set_id, p.area_code, r.month, r.crime_type_slug, count(*)
    FROM crime_placements p JOIN crime_records r ON r.id = p.record_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""
KEPT_AREAS = """
    SELECT set_id, area_code, month, crime_type_slug, records FROM crime_area_counts ORDER BY 1, 2, 3, 4"""


def assert_summaries_exact(engine: Engine) -> None:
    with transaction(engine) as session:
        direct_months = session.execute(text(DIRECT_MONTHS)).all()
        assert direct_months, "there are records to summarise"
        assert session.execute(text(KEPT_MONTHS)).all() == direct_months
        assert session.execute(text(KEPT_AREAS)).all() == session.execute(text(DIRECT_AREAS)).all()


def constructed_file(tmp_path: Path, near: tuple[float, float], month: str) -> Path:
    rows = [police_row(month, location="No Location", crime_type="Burglary"),
            police_row(month, f"test-sum-{month}-a", *near, crime_type="Burglary"),
            police_row(month, f"test-sum-{month}-b", lon=0.5225, lat=51.2720, crime_type="Vehicle crime"),
            police_row(month, lon=0.5225, lat=51.2720)]
    return write_police_csv(tmp_path / f"test-{month}-street.csv", rows)


def test_summaries_equal_direct_counts_after_imports_and_deletes(engine, real_import, test_months, easternmost,
                                                                  tmp_path):
    assert_summaries_exact(engine)
    near = east_of(easternmost, 50)
    first = import_files(engine, [constructed_file(tmp_path, near, "2030-01")])
    assert first.files[0].inserted == 4
    assert_summaries_exact(engine)
    second = import_files(engine, [constructed_file(tmp_path, near, "2030-02"),
                                   constructed_file(tmp_path, near, "2030-01")])
    assert sum(part.inserted for part in second.files) == 4, "the January file again adds nothing"
    assert_summaries_exact(engine)
    with transaction(engine) as session:
        assert crime_store.no_location_count(session, date(2030, 1, 1), date(2030, 2, 1)) == 2
        assert date(2030, 2, 1) in crime_store.available_months(session)
        session.execute(text("DELETE FROM crime_records WHERE month = '2030-02-01'"))
    assert_summaries_exact(engine)
    with transaction(engine) as session:
        assert date(2030, 2, 1) not in crime_store.available_months(session)


def test_layer_counts_equal_a_count_over_the_records(engine, real_import):
    slugs = ["burglary", "vehicle-crime"]
    with transaction(engine) as session:
        direct = dict(session.execute(text("""
            SELECT a.code, count(r.id) FROM areas a
            LEFT JOIN crime_placements p ON p.set_id = a.set_id AND p.area_code = a.code
            LEFT JOIN crime_records r ON r.id = p.record_id AND r.month BETWEEN '2022-03-01' AND '2022-07-01'
                 AND r.crime_type_slug = ANY(:slugs)
            WHERE a.set_id = 'wards-2024' GROUP BY a.code"""), {"slugs": slugs}).all())
        counted = crime_summary.count_by_area(session, "wards-2024", date(2022, 3, 1), date(2022, 7, 31), slugs)
        unplaced = session.execute(text("""
            SELECT count(*) FROM crime_records r WHERE r.month BETWEEN '2022-03-01' AND '2022-07-01'
              AND r.crime_type_slug <> 'anti-social-behaviour'
              AND NOT EXISTS (SELECT 1 FROM crime_placements p WHERE p.record_id = r.id AND p.set_id = 'lsoa-2011')
            """)).scalar_one()
        kept_unplaced = crime_summary.unplaced_counts(session, ["lsoa-2011"], date(2022, 3, 1), date(2022, 7, 31),
                                                      None, ["anti-social-behaviour"])
    assert counted == direct and sum(direct.values()) > 100
    assert kept_unplaced == {"lsoa-2011": unplaced}


def test_summaries_follow_a_boundary_load_a_moved_placement_and_a_set_deletion(engine, real_import, scratch_set):
    data = read_boundary_file(GEODATA / "maidstone_wards_2024.geojson", code_field="WD24CD", name_field="WD24NM")
    meta = boundary_store.BoundarySetMeta(id=scratch_set, kind="ward", title=scratch_set,
                                          code_field="WD24CD", name_field="WD24NM")
    with transaction(engine) as session:
        boundary_store.replace_boundary_set(session, meta, data)
    assert_summaries_exact(engine)
    with transaction(engine) as session:
        placed = session.execute(text("SELECT count(*) FROM crime_area_counts WHERE set_id = :s"),
                                 {"s": scratch_set}).scalar_one()
        assert placed > 0
        session.execute(text("""
            UPDATE crime_placements SET area_code = (SELECT min(code) FROM areas WHERE set_id = :s)
            WHERE set_id = :s AND record_id IN (SELECT record_id FROM crime_placements WHERE set_id = :s LIMIT 50)"""),
            {"s": scratch_set})
    assert_summaries_exact(engine)
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = :s"), {"s": scratch_set})
        assert session.execute(text("SELECT count(*) FROM crime_area_counts WHERE set_id = :s"),
                               {"s": scratch_set}).scalar_one() == 0
    assert_summaries_exact(engine)


def test_rebuild_restores_summaries_written_around(engine, real_import):
    with transaction(engine) as session:
        session.execute(text("UPDATE crime_month_counts SET records = records + 7"))
        session.execute(text("DELETE FROM crime_area_counts WHERE set_id = 'wards-2013'"))
        crime_summary.rebuild(session)
    assert_summaries_exact(engine)
