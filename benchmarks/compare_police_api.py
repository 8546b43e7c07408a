"""Compare a month fetched through `crime fetch` with the same month imported from its police.uk CSV, row for row.

The month (default 2022-11, the newest of ../shared/geodata/crime) is served by the loopback police.uk API of the
tests (tests/police_api_server.py: the CSV's located rows in the API's JSON shape, without LSOA codes, force names or
unlocated rows, as the API gives them). The script takes the month's records out of the database named by
DATABASE_URL, fetches it, compares every fetched record with the CSV's row of the same identity and the counts per
area of every boundary set with those of the CSV import, and leaves the month imported from its CSV as before. It
also counts the ASB rows whose LSOA code the loaded LSOA polygons alone would get wrong (the fallback when no
loaded month has the snap point), each of which a later CSV import of that month would add a second time.

Run from the repository root (it changes the database; use a development one):
    flock /tmp/bench.lock .venv/bin/python benchmarks/compare_police_api.py [--month 2022-11]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import load_settings  # noqa: E402
from server.domain.police_api import ApiLimits, PoliceApi  # noqa: E402
from server.domain.police_fetch import FetchRequest, fetch_police_months  # noqa: E402
from server.domain.police_import import PoliceFile, import_police_files  # noqa: E402
from server.store import crime as crime_store  # noqa: E402
from server.store.db import engine_for, transaction  # noqa: E402
from tests.police_api_server import LoopbackPoliceApi  # noqa: E402

FIELDS = ("crime_id", "reported_by", "falls_within", "longitude", "latitude", "location", "lsoa_code", "lsoa_name",
          "crime_type", "last_outcome", "context")


def month_records(session, first: date) -> dict[str, dict]:
    rows = session.execute(text(f"""
        SELECT identity, {", ".join(FIELDS)},
               (SELECT array_agg(set_id || ':' || area_code ORDER BY set_id) FROM crime_placements p
                WHERE p.record_id = r.id) AS areas
        FROM crime_records r WHERE month = :m"""), {"m": first}).mappings().all()
    return {row["identity"]: dict(row) for row in rows}


def counts(session, first: date) -> dict[str, dict[str, int]]:
    return {s: crime_store.count_by_area(session, s, first, first) for s in crime_store.boundary_set_ids(session)}


def remove_month(engine, first: date) -> None:
    with transaction(engine) as session:
        session.execute(text("DELETE FROM crime_records WHERE month = :m"), {"m": first})
        session.execute(text("DELETE FROM police_api_months WHERE month = :m"), {"m": first})


def polygon_lsoa_misses(session, path: Path) -> tuple[int, int]:
    """ASB rows of the file, and how many of them the covering LSOA polygon gives another code than the CSV's."""
    asb = [row for row in PoliceFile(path).rows() if row[2] is None and row[6] is not None]
    missed = session.execute(text("""
        SELECT count(*) FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:codes AS text[])) u(x, y, c)
        WHERE c IS DISTINCT FROM (
            SELECT a.code FROM areas a JOIN boundary_sets s ON s.id = a.set_id AND s.kind = 'lsoa'
            WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(x, y), 4326)) ORDER BY a.code LIMIT 1)"""),
        {"lons": [r[6] for r in asb], "lats": [r[7] for r in asb], "codes": [r[9] for r in asb]}).scalar_one()
    return len(asb), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2022-11")
    month = parser.parse_args().month
    path = ROOT.parent / "shared" / "geodata" / "crime" / f"{month}-kent-street.csv"
    first = date(int(month[:4]), int(month[5:]), 1)
    engine = engine_for(load_settings().database_url)

    remove_month(engine, first)
    with LoopbackPoliceApi([path]) as server:
        report = fetch_police_months(engine, PoliceApi(server.url, ApiLimits(rate=1000, burst=100)),
                                     FetchRequest(month_from=month, month_to=month))
    with transaction(engine) as session:
        fetched, fetched_counts = month_records(session, first), counts(session, first)
    remove_month(engine, first)
    import_police_files(engine, [PoliceFile(path)], "compare_police_api")
    with transaction(engine) as session:
        from_csv, csv_counts = month_records(session, first), counts(session, first)
        asb_rows, polygon_misses = polygon_lsoa_misses(session, path)

    located = {k: v for k, v in from_csv.items() if v["longitude"] is not None}
    same_identity = fetched.keys() & from_csv.keys()
    differing = Counter(f for k in same_identity for f in (*FIELDS, "areas") if fetched[k][f] != from_csv[k][f])
    asb_matched = sum(1 for k in same_identity if from_csv[k]["crime_id"] is None)
    areas_differing = {s: sum(1 for code in csv_counts[s] if csv_counts[s][code] != fetched_counts[s].get(code))
                       for s in csv_counts}
    print(f"| {month} | rows |\n|---|---:|")
    print(f"| CSV rows (located) | {len(from_csv)} ({len(located)}) |")
    print(f"| fetched records ({report.requests} requests) | {len(fetched)} |")
    print(f"| same identity (of which ASB) | {len(same_identity)} ({asb_matched}) |")
    print(f"| fetched, not in the CSV / located CSV rows not fetched | {len(fetched.keys() - from_csv.keys())} / "
          f"{len(located.keys() - fetched.keys())} |")
    print(f"| same identity, some field or area differs | {dict(differing) or 0} |")
    print(f"| areas whose count differs | {areas_differing} |")
    print(f"| ASB rows whose LSOA the polygons alone would get wrong | {polygon_misses} of {asb_rows} |")


if __name__ == "__main__":
    main()
