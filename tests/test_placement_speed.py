"""The `lsoa_code` and `nearest` placement steps: the same placements as the SQL they replaced, and searches that stay
on the GiST index of the areas for a set loaded in the same transaction (whose rows the planner's statistics do not
know)."""

from __future__ import annotations

import gzip
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from server.domain.boundary_files import read_boundary_file
from server.domain.police_import import import_police_files, open_police_files
from server.store import boundaries as boundary_store
from server.store import crime
from server.store.db import transaction
from tests.conftest import SHARED

REFERENCE_SETS = ("wards-2013", "wards-2024", "lsoa-2011")
ENGLAND_LSOA = SHARED / "bench-data" / "england_lsoa_2011.geojson.gz"
ALL_FORCES = SHARED / "bench-data" / "all-forces-street-2022-06.csv.gz"
UNKNOWN_LSOA = "E01099999"  # no loaded LSOA set has it: police.uk put the record outside the areas we hold

# The steps before the extent filters and the GiST-only searches: the references, kept here only. They follow the
# rules that several partnerships' sets need: an LSOA's records go into a set only when the LSOA lies mostly (half or
# more) inside it, and a point inside a loaded LSOA polygon of another code is not moved by its recorded code.
OWN_LSOAS = """
    codes AS (
        SELECT DISTINCT lsoa_code FROM crime_pending WHERE lsoa_code <> ''
    ), lsoa_polygons AS (
        SELECT l.code, l.geom FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
        WHERE l.code IN (SELECT lsoa_code FROM codes)
    ), candidates AS (
        SELECT a.code AS lsoa_code, a.code AS area_code, 2.0 AS share
        FROM areas a JOIN boundary_sets s ON s.id = a.set_id AND s.kind = 'lsoa'
        WHERE a.set_id = :set AND a.code IN (SELECT lsoa_code FROM codes)
        UNION ALL
        SELECT l.code, a.code, ST_Area(ST_Intersection(a.geom, l.geom)) / NULLIF(ST_Area(l.geom), 0)
        FROM lsoa_polygons l JOIN areas a ON a.set_id = :set AND ST_Intersects(a.geom, l.geom)
    ), shares AS (
        SELECT lsoa_code, area_code, max(share) AS share FROM candidates WHERE share > 0 GROUP BY 1, 2
    ), own AS (
        SELECT lsoa_code FROM shares GROUP BY lsoa_code HAVING sum(share) >= 0.5
    )"""

# The code fields of the LSOA sets that know the record's code: only LSOAs of the same coding count against it.
CODING = ("SELECT ks.code_field FROM areas k JOIN boundary_sets ks ON ks.id = k.set_id AND ks.kind = 'lsoa' "
          "WHERE k.code = c.lsoa_code")

OLD_LSOA = f"""
    WITH {OWN_LSOAS.strip()}, best AS (
        SELECT DISTINCT ON (lsoa_code) lsoa_code, area_code FROM shares
        WHERE lsoa_code IN (SELECT lsoa_code FROM own) ORDER BY lsoa_code, share DESC, area_code
    )
    SELECT c.id AS record_id, b.area_code FROM crime_pending c JOIN best b ON b.lsoa_code = c.lsoa_code
    WHERE c.geom IS NULL OR NOT EXISTS (
        SELECT 1 FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
        WHERE l.code <> c.lsoa_code AND ST_Covers(l.geom, c.geom) AND s.code_field IN ({CODING}))"""

OLD_NEAREST = f"""
    WITH {OWN_LSOAS.strip()}
    SELECT c.id AS record_id, nearest.code AS area_code
    FROM crime_pending c
    CROSS JOIN LATERAL (
        SELECT a.code FROM areas a
        WHERE a.set_id = :set AND a.geom && ST_Expand(c.geom, 0.002)
          AND ST_DWithin(a.geom::geography, c.geom::geography, 100)
        ORDER BY ST_Distance(a.geom::geography, c.geom::geography), a.code
        LIMIT 1) nearest
    WHERE c.geom IS NOT NULL
      AND (c.lsoa_code = '' OR (c.lsoa_code IN (SELECT lsoa_code FROM own) AND NOT EXISTS (
               SELECT 1 FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
               WHERE l.code <> c.lsoa_code AND ST_Covers(l.geom, c.geom)
                 AND s.code_field IN ({CODING})))
           OR NOT EXISTS (SELECT 1 FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'))"""


def add_edge_records(session: Session) -> int:
    """Records (uncommitted) at 2,000 seeded random points within 150 m of the reference areas, inside and out, with
    an empty, a Maidstone or an unknown LSOA code in turn, and 5 without coordinates; returns their import id."""
    import_id = crime.create_import(session, "test-nearest-edge", "0" * 64, None)
    session.execute(text("""
        WITH outline AS (
            SELECT ST_Union(geom) AS geom FROM areas WHERE set_id IN ('wards-2013', 'wards-2024', 'lsoa-2011')
        ), points AS (
            SELECT (ST_Dump(ST_GeneratePoints(ST_Buffer(geom::geography, 150)::geometry, 2000, 20240501))).geom
            FROM outline
        ), numbered AS (
            SELECT row_number() OVER () AS n, geom FROM points
            UNION ALL SELECT 100000 + g, NULL FROM generate_series(1, 5) g
        )
        INSERT INTO crime_records (identity, month, reported_by, falls_within, longitude, latitude, location,
                                   lsoa_code, lsoa_name, crime_type, crime_type_slug, last_outcome, context, geom,
                                   import_id)
        SELECT 'test-nearest-edge-' || n, DATE '2030-01-01', 'Kent Police', 'Kent Police', ST_X(geom), ST_Y(geom),
               'On or near Test Street',
               (ARRAY['', (SELECT min(code) FROM areas WHERE set_id = 'lsoa-2011'), :unknown])[n % 3 + 1], '',
               'Burglary', 'burglary', '', '', geom, :import_id
        FROM numbered"""), {"import_id": import_id, "unknown": UNKNOWN_LSOA})
    return import_id


STEPS = {"lsoa_code": (OLD_LSOA, crime._LSOA_SQL), "nearest": (OLD_NEAREST, crime._NEAREST_SQL)}


def placed_by(session: Session, set_id: str, method: str) -> set[tuple[int, str]]:
    return {tuple(row) for row in session.execute(text(
        "SELECT record_id, area_code FROM crime_placements WHERE set_id = :set AND method = :method"),
        {"set": set_id, "method": method})}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("set_id", REFERENCE_SETS)
def test_a_step_places_every_record_as_the_old_sql_did(engine: Engine, set_id: str, step: str):
    """Every record is left to the one step: 16,496 Maidstone records (for nearest at distance 0, ties between
    neighbours broken by code; for lsoa_code the area with the largest share of their LSOA) and 2,005 constructed
    ones around the edge. Both versions must choose the same areas."""
    old_sql, new_sql = STEPS[step]
    with transaction(engine) as session:
        import_id = add_edge_records(session)
        session.execute(text("ANALYZE areas"))  # only so that the references run in seconds
        crime._collect_pending(session, "TRUE", {"set": set_id}, only_unplaced=False)
        reference = {tuple(row) for row in session.execute(text(old_sql), {"set": set_id})}
        session.execute(text("DELETE FROM crime_placements WHERE set_id = :set"), {"set": set_id})
        session.execute(text(new_sql), {"set": set_id})
        placed = placed_by(session, set_id, step)
        constructed = {code: (records, placed) for code, records, placed in session.execute(text("""
            SELECT r.lsoa_code, count(*), count(p.record_id) FROM crime_records r
            LEFT JOIN crime_placements p ON p.record_id = r.id AND p.set_id = :set
            WHERE r.import_id = :import_id AND r.geom IS NOT NULL GROUP BY r.lsoa_code"""),
            {"set": set_id, "import_id": import_id})}
        session.rollback()
    assert placed == reference
    # Most records: those whose point lies in another LSOA's generalised polygon (about 3%, snap points on streets
    # that are LSOA borders) are not moved by their code; in an import the `within` step places them first.
    assert len(placed) > 15_500
    assert constructed[UNKNOWN_LSOA][1] == 0
    if step == "nearest":
        records, placed_with_no_lsoa = constructed[""]
        assert 0 < placed_with_no_lsoa < records, "some edge points lie beyond 100 m of every area"


def copy_set_with_offsets(session: Session, set_id: str, copies: int) -> None:
    """A new LSOA set (uncommitted): `copies` copies of the Maidstone LSOAs side by side, 0.6° apart."""
    session.execute(text("""
        INSERT INTO boundary_sets (id, kind, title, source, licence, source_file, source_checksum, source_crs,
                                   code_field, name_field)
        VALUES (:id, 'lsoa', 'copies', '', '', 'copies', '', 'EPSG:4326', 'code', 'name')"""), {"id": set_id})
    session.execute(text("""
        INSERT INTO areas (set_id, code, name, geom, area_km2)
        SELECT :id, a.code || '-' || k, a.name, ST_Translate(a.geom, 0.6 * k, 0), a.area_km2
        FROM areas a CROSS JOIN generate_series(0, :copies - 1) k WHERE a.set_id = 'lsoa-2011'"""),
        {"id": set_id, "copies": copies})


def test_nearest_searches_the_gist_index_for_a_set_loaded_in_the_same_transaction(engine: Engine):
    """As a boundary load does: the set's areas are inserted and placed in one transaction, so the planner's
    statistics do not know the set. With England's LSOAs the old step then read the whole set through
    (set_id, code) for every record; the new one may only search the GiST index."""
    set_id = "test-nearest-copies"
    with transaction(engine) as session:
        copy_set_with_offsets(session, set_id, copies=12)
        crime._collect_pending(session, "TRUE", {"set": set_id}, only_unplaced=False)
        plans = {step: "\n".join(session.execute(text(f"EXPLAIN {sql}"), {"set": set_id}).scalars())
                 for step, (_old, sql) in STEPS.items()}
        seconds = {}
        for step, (_old, sql) in STEPS.items():
            began = time.perf_counter()
            session.execute(text(sql), {"set": set_id})
            seconds[step] = time.perf_counter() - began
        placed = session.execute(text("SELECT count(*) FROM crime_placements WHERE set_id = :set"),
                                 {"set": set_id}).scalar_one()
        session.rollback()
    for plan in plans.values():  # the spatial searches (areas g) may only use the GiST index, never read the set
        assert "idx_areas_geom" in plan and "Seq Scan on areas g" not in plan, plan
    assert placed > 15_500  # as in test_a_step_places_every_record_as_the_old_sql_did
    assert max(seconds.values()) < 20, seconds


# --- scale (opt-in: --scale) -----------------------------------------------------------------------------------

def leave_pending_after(session: Session, set_id: str, method: str) -> None:
    """Take off crime_pending what the load placed by this method, as its steps did."""
    session.execute(text("""
        DELETE FROM crime_pending c USING crime_placements p
        WHERE p.record_id = c.id AND p.set_id = :set AND p.method = :method"""), {"set": set_id, "method": method})


@pytest.mark.scale
def test_englands_lsoas_load_quickly_with_a_national_month_pending(engine, scratch_set, tmp_path):
    """The all-forces month leaves about 13,700 records with coordinates and no LSOA (Northern Ireland's) to the
    nearest step of England's LSOAs, which took 14 minutes of the load before, and coastal records outside the
    generalised polygons to the lsoa_code step. Both must place as the old SQL did."""
    files = open_police_files([(ALL_FORCES, ALL_FORCES.name)])
    import_ids = [part.import_id for part in import_police_files(engine, files).files]
    try:
        geojson = tmp_path / "england_lsoa_2011.geojson"
        geojson.write_bytes(gzip.decompress(ENGLAND_LSOA.read_bytes()))
        data = read_boundary_file(geojson, code_field="LSOA11CD", name_field="LSOA11NM")
        meta = boundary_store.BoundarySetMeta(id=scratch_set, kind="lsoa", title="LSOAs 2011 (England)",
                                              code_field="LSOA11CD", name_field="LSOA11NM")
        with transaction(engine) as session:
            session.execute(text("ANALYZE areas"))  # as autovacuum has on a running service: the new set is unknown
        began = time.perf_counter()
        with transaction(engine) as session:
            boundary_store.replace_boundary_set(session, meta, data)
        seconds = time.perf_counter() - began
        references, placed = {}, {}
        with transaction(engine) as session:
            session.execute(text("ANALYZE areas"))  # the references are quick with statistics that know the set
            crime._collect_pending(session, "TRUE", {"set": scratch_set}, only_unplaced=False)
            for previous, step in (("within", "lsoa_code"), ("lsoa_code", "nearest")):
                leave_pending_after(session, scratch_set, previous)
                references[step] = {tuple(row) for row in session.execute(text(STEPS[step][0]),
                                                                          {"set": scratch_set})}
                placed[step] = placed_by(session, scratch_set, step)
            session.rollback()
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM crime_records WHERE import_id = ANY(:ids)"), {"ids": import_ids})
            session.execute(text("DELETE FROM crime_imports WHERE id = ANY(:ids)"), {"ids": import_ids})
    assert placed == references
    assert placed["lsoa_code"] and placed["nearest"]
    assert seconds < 120, f"loading England's LSOAs took {seconds:.0f} s"
