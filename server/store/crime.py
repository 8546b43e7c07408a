"""SQL for police.uk crime records: bulk loading with COPY, placement in boundary sets, and counts.

Placement of a record in a boundary set, in order of preference (the method is stored with it):
1. ``within``: the area whose polygon covers the point (PostGIS ST_Covers, on the GiST indexes).
2. ``lsoa_code``: for a point outside every area (the generalised outline cuts off some police.uk snap
   points) or a record without coordinates, the recorded LSOA code: in an LSOA set that has that code,
   that area; in any other set, the area holding the largest share of that LSOA's polygon, taken from
   any LSOA set that has the code, provided the LSOA lies mostly (half or more) inside the set's areas, and
   the point (if any) lies in no loaded LSOA polygon of another code.
3. ``nearest``: the nearest area within 100 m (geography distance), but only for a record whose LSOA
   code is empty or that of an LSOA mostly inside the set whose point lies in no loaded LSOA polygon of
   another code (or when no LSOA set is loaded). Any other code
   means police.uk put the point in an LSOA outside the set (a crime just over the border, in a neighbouring
   district that may be another partnership's), so it stays out.
Whatever is still unplaced is kept and counted (``unplaced_counts``), never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store import crime_summary, partnerships
from server.store.versioned import per_data_version

# The columns of the staging table, in the order the reader (server.domain.police_import) yields them.
STAGING_COLUMNS = ("line", "identity", "crime_id", "month", "reported_by", "falls_within", "longitude",
                   "latitude", "location", "lsoa_code", "lsoa_name", "crime_type", "crime_type_slug",
                   "last_outcome", "context")
RECORD_COLUMNS = STAGING_COLUMNS[1:]
NEAREST_LIMIT_METRES = 100
# Half-width in degrees of the box searched for the nearest area: at least 100 m of longitude up to 63° N.
NEAREST_SEARCH_DEGREES = 0.002
PLACEMENT_STEPS = ("within", "lsoa_code", "nearest")
# An LSOA is of a set when at least this share of its polygon lies inside the set's areas (see _OWN_LSOAS).
MIN_LSOA_SHARE_INSIDE = 0.5

StepProgress = Callable[[str, str], None]


def create_import(session: Session, file_name: str, checksum: str, imported_by: str | None) -> int:
    return session.execute(
        text("INSERT INTO crime_imports (file_name, checksum, imported_by, rows_read, inserted, duplicates, "
             "no_location, unplaced, per_month) "
             "VALUES (:file, :checksum, :by, 0, 0, 0, 0, '{}'::jsonb, '{}'::jsonb) RETURNING id"),
        {"file": file_name, "checksum": checksum, "by": imported_by}).scalar_one()


def _create_staging(session: Session) -> None:
    session.execute(text("""
        CREATE TEMP TABLE IF NOT EXISTS crime_staging (
            line integer, identity text, crime_id text, month date, reported_by text, falls_within text,
            longitude double precision, latitude double precision, location text, lsoa_code text,
            lsoa_name text, crime_type text, crime_type_slug text, last_outcome text, context text
        ) ON COMMIT DROP"""))
    session.execute(text("TRUNCATE crime_staging"))


def _copy_into_staging(session: Session):
    driver_connection = session.connection().connection.driver_connection
    return driver_connection.cursor().copy(f"COPY crime_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN")


def stage_rows(session: Session, rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows (laid out as STAGING_COLUMNS) into an emptied TEMP table that lives until commit."""
    _create_staging(session)
    with _copy_into_staging(session) as copy:
        for row in rows:
            copy.write_row(row)


def stage_copy(session: Session, chunks: Iterable[bytes]) -> None:
    """As stage_rows, from rows already in COPY text format."""
    _create_staging(session)
    with _copy_into_staging(session) as copy:
        for chunk in chunks:
            copy.write(chunk)


def insert_staged(session: Session, import_id: int) -> dict[str, int]:
    """Insert the staged rows whose identity is new; returns how many were inserted per YYYY-MM. The new records
    are also kept in the TEMP table crime_new until commit, for place_imported_records."""
    columns = ", ".join(RECORD_COLUMNS)
    session.execute(text("""
        CREATE TEMP TABLE IF NOT EXISTS crime_new (
            id bigint, import_id integer, lsoa_code text, geom geometry(Point, 4326)
        ) ON COMMIT DROP"""))
    rows = session.execute(text(f"""
        WITH inserted AS (
            INSERT INTO crime_records ({columns}, geom, import_id)
            SELECT {columns},
                   CASE WHEN longitude IS NOT NULL
                        THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END,
                   :import_id
            FROM crime_staging ORDER BY line
            ON CONFLICT (identity) DO NOTHING
            RETURNING id, import_id, month, lsoa_code, geom
        ), kept AS (
            INSERT INTO crime_new (id, import_id, lsoa_code, geom)
            SELECT id, import_id, lsoa_code, geom FROM inserted)
        SELECT to_char(month, 'YYYY-MM') AS month, count(*) AS inserted FROM inserted GROUP BY 1"""),
        {"import_id": import_id}).all()
    return {month: count for month, count in rows}


def finish_import(session: Session, import_id: int, *, rows_read: int, inserted: int, duplicates: int,
                  no_location: int, unplaced: dict[str, int], per_month: dict[str, dict[str, int]]) -> None:
    session.execute(
        text("UPDATE crime_imports SET rows_read = :rows_read, inserted = :inserted, duplicates = :duplicates, "
             "no_location = :no_location, unplaced = CAST(:unplaced AS jsonb), "
             "per_month = CAST(:per_month AS jsonb) WHERE id = :id"),
        {"id": import_id, "rows_read": rows_read, "inserted": inserted, "duplicates": duplicates,
         "no_location": no_location, "unplaced": _json(unplaced), "per_month": _json(per_month)})


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def list_imports(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text("""
        SELECT id, file_name, checksum, imported_at, imported_by, rows_read, inserted, duplicates,
               no_location, unplaced, per_month
        FROM crime_imports ORDER BY imported_at DESC, id DESC""")).mappings().all()
    return [dict(r) for r in rows]


def imported_checksums(session: Session) -> set[str]:
    return set(session.execute(text("SELECT checksum FROM crime_imports")).scalars())


def boundary_set_ids(session: Session) -> list[str]:
    return list(session.execute(text("SELECT id FROM boundary_sets ORDER BY id")).scalars())


# --- placement -------------------------------------------------------------------------------------------
# Each set is placed from a TEMP table of the records still to place (crime_pending): every step inserts
# placements and removes what it placed from crime_pending, so no step has to anti-join crime_placements
# (whose planner statistics are stale right after a bulk insert), and what is left at the end is unplaced.

def place_records(session: Session, set_ids: list[str] | None = None, only_unplaced: bool = False, *,
                  import_ids: list[int] | None = None,
                  progress: StepProgress | None = None) -> dict[str, int]:
    """(Re)compute placements of records in boundary sets; returns how many records stay unplaced per set.

    set_ids: the sets to place in (default all). only_unplaced: keep existing placements and place only
    records that have none in a set. import_ids: only records inserted by these imports (default all).
    progress(set_id, step) is called after each of the three steps for each set.
    """
    unplaced = _place(session, set_ids, only_unplaced, import_ids, progress)
    return {set_id: sum(by_import.values()) for set_id, by_import in unplaced.items()}


def place_imported_records(session: Session, import_ids: list[int],
                           progress: StepProgress | None = None) -> dict[int, dict[str, int]]:
    """Place the records that insert_staged inserted for these imports (in this transaction) in every set; per
    import and set, how many stay unplaced.

    Each set's three steps run only on the new records that some step could place in it (_NEAR_SET), with the
    same SQL as place_records: a national import placed in a borough's wards looks at the borough's records only.
    """
    session.execute(text("""
        CREATE TEMP TABLE IF NOT EXISTS crime_new (
            id bigint, import_id integer, lsoa_code text, geom geometry(Point, 4326)
        ) ON COMMIT DROP"""))
    new = dict(session.execute(text("SELECT import_id, count(*) FROM crime_new WHERE import_id = ANY(:ids) "
                                    "GROUP BY import_id"), {"ids": list(import_ids)}).all())
    unplaced: dict[int, dict[str, int]] = {import_id: {} for import_id in import_ids}
    for set_id in boundary_set_ids(session):
        params = {"set": set_id, "import_ids": list(import_ids)}
        session.execute(text("""
            CREATE TEMP TABLE IF NOT EXISTS crime_pending (
                id bigint PRIMARY KEY, import_id integer, lsoa_code text, geom geometry(Point, 4326)
            ) ON COMMIT DROP"""))
        session.execute(text("TRUNCATE crime_pending"))
        near = dict(session.execute(text(_NEAR_SET), params).all())
        session.execute(text("ANALYZE crime_pending"))
        for step, sql in zip(PLACEMENT_STEPS, (_WITHIN_SQL, _LSOA_SQL, _NEAREST_SQL), strict=True):
            session.execute(text(sql), params)
            if progress:
                progress(set_id, step)
        left = dict(session.execute(text("SELECT import_id, count(*) FROM crime_pending GROUP BY import_id")).all())
        for import_id in import_ids:
            placed = near.get(import_id, 0) - left.get(import_id, 0)
            unplaced[import_id][set_id] = new.get(import_id, 0) - placed
    return unplaced


def _place(session: Session, set_ids: list[str] | None, only_unplaced: bool, import_ids: list[int] | None,
           progress: StepProgress | None) -> dict[str, dict[int, int]]:
    """Per set: import id -> records of the scope left unplaced."""
    targets = boundary_set_ids(session) if set_ids is None else list(set_ids)
    scope, params = _record_scope(import_ids)
    if only_unplaced:
        session.execute(text("ANALYZE crime_placements"))
    unplaced: dict[str, dict[int, int]] = {}
    for set_id in targets:
        set_params = {**params, "set": set_id}
        if not only_unplaced:
            _delete_placements(session, scope, set_params, everything=import_ids is None)
        _collect_pending(session, scope, set_params, only_unplaced)
        for step, sql in zip(PLACEMENT_STEPS, (_WITHIN_SQL, _LSOA_SQL, _NEAREST_SQL), strict=True):
            session.execute(text(sql), set_params)
            if progress:
                progress(set_id, step)
        left = session.execute(text("SELECT import_id, count(*) FROM crime_pending GROUP BY import_id")).all()
        unplaced[set_id] = {import_id: count for import_id, count in left}
    return unplaced


def _record_scope(import_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    if import_ids is None:
        return "TRUE", {}
    return "r.import_id = ANY(:import_ids)", {"import_ids": list(import_ids)}


def _delete_placements(session: Session, scope: str, params: dict[str, Any], everything: bool) -> None:
    if everything:
        session.execute(text("DELETE FROM crime_placements WHERE set_id = :set"), params)
        return
    session.execute(text(f"""
        DELETE FROM crime_placements p USING crime_records r
        WHERE p.record_id = r.id AND p.set_id = :set AND {scope}"""), params)


def _collect_pending(session: Session, scope: str, params: dict[str, Any], only_unplaced: bool) -> None:
    session.execute(text("""
        CREATE TEMP TABLE IF NOT EXISTS crime_pending (
            id bigint PRIMARY KEY, import_id integer, lsoa_code text, geom geometry(Point, 4326)
        ) ON COMMIT DROP"""))
    session.execute(text("TRUNCATE crime_pending"))
    unplaced_only = ("AND NOT EXISTS (SELECT 1 FROM crime_placements p WHERE p.record_id = r.id "
                     "AND p.set_id = :set)") if only_unplaced else ""
    session.execute(text(f"""
        INSERT INTO crime_pending (id, import_id, lsoa_code, geom)
        SELECT r.id, r.import_id, r.lsoa_code, r.geom FROM crime_records r WHERE {scope} {unplaced_only}"""),
        params)
    session.execute(text("ANALYZE crime_pending"))


def _placing(method: str, select: str, ctes: str = "") -> str:
    """Insert the placements chosen by `select` (record_id, area_code) and take them off crime_pending."""
    return f"""
        WITH {ctes + "," if ctes else ""} placed AS (
            INSERT INTO crime_placements (record_id, set_id, area_code, method)
            SELECT chosen.record_id, :set, chosen.area_code, '{method}' FROM ({select}) chosen
            RETURNING record_id)
        DELETE FROM crime_pending c USING placed WHERE c.id = placed.record_id"""


# Joined through crime_records so that the planner can use either GiST index (records' or areas').
_WITHIN_SQL = _placing("within", """
    SELECT DISTINCT ON (r.id) r.id AS record_id, a.code AS area_code
    FROM areas a
    JOIN crime_records r ON ST_Covers(a.geom, r.geom)
    JOIN crime_pending c ON c.id = r.id
    WHERE a.set_id = :set
    ORDER BY r.id, a.code""")

# A boundary load places the records in the new set in the same transaction, when the planner's statistics do not
# know the set yet: it takes the set for one row and, left to itself, reads all of it for every code, polygon or
# record it looks up (up to 14 minutes of nearest and 35 s of lsoa_code for England's 32,844 LSOAs; BENCHMARKS.md,
# "Boundary features"). The steps below therefore start from the few codes, polygons or records, keep only those
# inside the set's extent, and find each one's areas through an index that cannot be swapped for a scan of the set.

def _areas_meeting(box: str) -> str:
    """The areas (code, geom) of set :set whose bounding box meets `box`: OFFSET 0 keeps the set filter out of the
    index scan, so that only the GiST index can serve it."""
    return f"""(
        SELECT near.code, near.geom FROM (
            SELECT g.set_id, g.code, g.geom FROM areas g WHERE g.geom && {box} OFFSET 0) near
        WHERE near.set_id = :set)"""


def _extent(margin_degrees: float = 0) -> str:
    """The set's bounding box grown by a margin, as a CTE body named by the caller."""
    return f"""
        SELECT ST_SetSRID(ST_Expand(ST_Extent(geom), {margin_degrees})::geometry, 4326) AS box
        FROM areas WHERE set_id = :set"""


def _area_coded(set_id: str, code: str) -> str:
    """The area (code, geom) with this code in this set, by the (set_id, code) index; OFFSET 0 keeps the planner
    from turning the lookup into a join that it might start from the set."""
    return f"(SELECT code, geom FROM areas WHERE set_id = {set_id} AND code = {code} OFFSET 0)"


# The LSOAs of the pending records that are of set :set: an area of it when it is an LSOA set with that code, else
# LSOAs (of any LSOA set) lying mostly inside its areas. `shares` gives each such LSOA's share in each area. An LSOA
# that only touches the set (generalised borders overlap by slivers) is a neighbour's: its records stay out.
def _own_lsoas(records: str) -> str:
    """The CTEs codes .. own below, for the LSOA codes of `records` (a table or CTE with lsoa_code)."""
    return f"""
    codes AS (
        SELECT DISTINCT lsoa_code FROM {records} WHERE lsoa_code <> ''
    ), lsoa_reach AS ({_extent()}
    ), lsoa_polygons AS (
        SELECT l.code, l.geom FROM codes k JOIN boundary_sets s ON s.kind = 'lsoa'
        CROSS JOIN LATERAL {_area_coded("s.id", "k.lsoa_code")} l
        WHERE l.geom && (SELECT box FROM lsoa_reach)
    ), candidates AS (
        SELECT a.code AS lsoa_code, a.code AS area_code, 2.0 AS share
        FROM codes k CROSS JOIN LATERAL {_area_coded(":set", "k.lsoa_code")} a
        WHERE EXISTS (SELECT 1 FROM boundary_sets WHERE id = :set AND kind = 'lsoa')
        UNION ALL
        SELECT l.code, a.code, ST_Area(ST_Intersection(a.geom, l.geom)) / NULLIF(ST_Area(l.geom), 0)
        FROM lsoa_polygons l CROSS JOIN LATERAL {_areas_meeting("l.geom")} a
        WHERE ST_Intersects(a.geom, l.geom)
    ), shares AS (
        SELECT lsoa_code, area_code, max(share) AS share FROM candidates WHERE share > 0 GROUP BY lsoa_code, area_code
    ), own AS (
        SELECT lsoa_code FROM shares GROUP BY lsoa_code HAVING sum(share) >= {MIN_LSOA_SHARE_INSIDE}
    )"""


_OWN_LSOAS = _own_lsoas("crime_pending")

# A point inside a loaded LSOA polygon of another code is where the polygons say it is: its recorded LSOA code is
# trusted (by the lsoa_code and nearest steps) only for a record without a point, or with a point in no loaded LSOA or
# in that LSOA's own polygon. (With a neighbouring district's LSOAs loaded, a point on its side of a generalised
# border stays out of this set.)
# Only LSOA sets of the record's coding count (the code field of a set that knows its code, e.g. LSOA11CD): a 2021
# LSOA of another code is no evidence against a 2011 code.
_IN_ANOTHER_LSOA = """EXISTS (
        SELECT 1 FROM (SELECT g.set_id, g.code, g.geom FROM areas g WHERE g.geom && c.geom OFFSET 0) other
        JOIN boundary_sets s ON s.id = other.set_id AND s.kind = 'lsoa'
        WHERE other.code <> c.lsoa_code AND ST_Covers(other.geom, c.geom)
          AND s.code_field IN (
              SELECT ks.code_field FROM boundary_sets ks
              WHERE ks.kind = 'lsoa'
                AND EXISTS (SELECT 1 FROM areas k WHERE k.set_id = ks.id AND k.code = c.lsoa_code)))"""

# `matched` is materialised so that the test of each point against the LSOA polygons runs on the few records an own
# LSOA matches, not on every pending record (the planner would push it down to the scan: a minute for Kent's).
_LSOA_SQL = _placing("lsoa_code", f"""
    SELECT c.id AS record_id, c.area_code FROM matched c
    WHERE c.geom IS NULL OR NOT {_IN_ANOTHER_LSOA}""", f"""
    {_OWN_LSOAS.strip()}, best AS (
        SELECT DISTINCT ON (lsoa_code) lsoa_code, area_code FROM shares
        WHERE lsoa_code IN (SELECT lsoa_code FROM own) ORDER BY lsoa_code, share DESC, area_code
    ), matched AS MATERIALIZED (
        SELECT c.id, c.lsoa_code, c.geom, b.area_code FROM crime_pending c JOIN best b ON b.lsoa_code = c.lsoa_code
    )""")

# The new records that a step could place in set :set: those inside its extent grown by the nearest step's search
# box (within and nearest need no more), and those whose LSOA code is an area of an LSOA set meeting its extent (the
# only codes the lsoa_code step maps into the set). Every other record stays unplaced in that set whatever the steps do.
_NEAR_SET = f"""
    WITH reach AS ({_extent(NEAREST_SEARCH_DEGREES)}
    ), lsoa_codes AS (
        SELECT DISTINCT l.code FROM areas l JOIN boundary_sets s ON s.id = l.set_id AND s.kind = 'lsoa'
        WHERE l.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 4326) FROM areas WHERE set_id = :set)
    ), near AS (
        INSERT INTO crime_pending (id, import_id, lsoa_code, geom)
        SELECT n.id, n.import_id, n.lsoa_code, n.geom FROM crime_new n
        WHERE n.import_id = ANY(:import_ids)
          AND (n.geom && (SELECT box FROM reach) OR n.lsoa_code IN (SELECT code FROM lsoa_codes))
        RETURNING import_id)
    SELECT import_id, count(*) FROM near GROUP BY import_id"""


# A record outside the set's extent grown by the search box has no area of the set within reach: that drops at once
# the records of a national import far from a borough's wards (and Northern Ireland's for England's LSOAs).
_NEAREST_SQL = _placing("nearest", f"""
    SELECT c.id AS record_id, c.area_code FROM near c
    WHERE c.lsoa_code = '' OR (c.lsoa_code IN (SELECT lsoa_code FROM own) AND NOT {_IN_ANOTHER_LSOA})
       OR NOT EXISTS (SELECT 1 FROM boundary_sets s WHERE s.kind = 'lsoa'
                      AND EXISTS (SELECT 1 FROM areas l WHERE l.set_id = s.id))""", f"""
    reach AS ({_extent(NEAREST_SEARCH_DEGREES)}
    ), near AS MATERIALIZED (
        SELECT c.id, c.lsoa_code, c.geom, nearest.code AS area_code
        FROM crime_pending c
        CROSS JOIN LATERAL (
            SELECT a.code FROM {_areas_meeting(f"ST_Expand(c.geom, {NEAREST_SEARCH_DEGREES})")} a
            WHERE ST_DWithin(a.geom::geography, c.geom::geography, {NEAREST_LIMIT_METRES})
            ORDER BY ST_Distance(a.geom::geography, c.geom::geography), a.code
            LIMIT 1) nearest
        WHERE c.geom && (SELECT box FROM reach)
    ), {_own_lsoas("near").strip()}""")


# --- queries for the layers ------------------------------------------------------------------------------

def _period_filter(month_from: date, month_to: date, crime_type_slugs: list[str] | None,
                   exclude_slugs: list[str] | None) -> tuple[str, dict[str, Any]]:
    clauses = ["r.month BETWEEN :month_from AND :month_to"]
    params: dict[str, Any] = {"month_from": month_from.replace(day=1), "month_to": month_to}
    if crime_type_slugs is not None:
        clauses.append("r.crime_type_slug = ANY(:include_slugs)")
        params["include_slugs"] = list(crime_type_slugs)
    if exclude_slugs:
        clauses.append("r.crime_type_slug <> ALL(:exclude_slugs)")
        params["exclude_slugs"] = list(exclude_slugs)
    return " AND ".join(clauses), params


def count_by_area(session: Session, set_id: str, month_from: date, month_to: date,
                  crime_type_slugs: list[str] | None = None,
                  exclude_slugs: list[str] | None = None) -> dict[str, int]:
    """Records per area code of a set (every area, zero included) for months month_from..month_to inclusive."""
    return crime_summary.count_by_area(session, set_id, month_from, month_to, crime_type_slugs, exclude_slugs)


# The aggregates below read the trigger-maintained summaries (server/store/crime_summary.py), never crime_records.

@per_data_version
def available_months(session: Session) -> list[date]:
    return crime_summary.available_months(session)


@per_data_version
def crime_types(session: Session) -> list[tuple[str, str, int]]:
    """(slug, name as published, number of records), most frequent first."""
    return crime_summary.crime_types(session)


@per_data_version
def unplaced_counts(session: Session, month_from: date, month_to: date,
                    crime_type_slugs: list[str] | None = None,
                    exclude_slugs: list[str] | None = None) -> dict[str, int]:
    """Per boundary set the acting partnership shows, records of the period with no area in that set (no-location
    records included)."""
    shown = list(session.execute(text("SELECT id FROM boundary_sets WHERE atlas_shows_set(id) ORDER BY id")).scalars())
    return crime_summary.unplaced_counts(session, shown, month_from, month_to,
                                         crime_type_slugs, exclude_slugs)


@per_data_version
def no_location_count(session: Session, month_from: date, month_to: date,
                      crime_type_slugs: list[str] | None = None,
                      exclude_slugs: list[str] | None = None) -> int:
    """Records of the period that police.uk published without coordinates."""
    return crime_summary.no_location_count(session, month_from, month_to, crime_type_slugs, exclude_slugs)


def month_summary(session: Session) -> list[dict[str, Any]]:
    """Per month: records, of which anti-social behaviour, and without location."""
    return crime_summary.month_summary(session)


def crime_points(session: Session, month_from: date, month_to: date,
                 crime_type_slugs: list[str] | None = None, exclude_slugs: list[str] | None = None,
                 bbox: tuple[float, float, float, float] | None = None) -> list[tuple[float, float, str, str, str]]:
    """(longitude, latitude, crime type slug, YYYY-MM, location text) of the records of a period that have
    coordinates, optionally inside bbox (minLon, minLat, maxLon, maxLat), oldest month first."""
    where, params = _period_filter(month_from, month_to, crime_type_slugs, exclude_slugs)
    if bbox is not None:
        where += " AND r.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
        params.update(minx=bbox[0], miny=bbox[1], maxx=bbox[2], maxy=bbox[3])
    rows = session.execute(text(f"""
        SELECT round(ST_X(r.geom)::numeric, 6)::float8, round(ST_Y(r.geom)::numeric, 6)::float8,
               r.crime_type_slug, to_char(r.month, 'YYYY-MM'), coalesce(r.location, '')
        FROM crime_records r WHERE r.geom IS NOT NULL AND {where} AND {partnerships.in_area('r.geom')}
        ORDER BY r.month, r.id"""), params).all()
    return [(lon, lat, slug, month, location) for lon, lat, slug, month, location in rows]
