"""The column-wise import (server.domain.police_columns) against the row-by-row reader it replaced (PoliceFile.rows,
kept as the specification and fallback) and against the placement of every record of an import (place_records):
the same records, identities, counts, refusals and placements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from server.domain.police_columns import PoliceRecords, check_records, read_plain_csv
from server.domain.police_import import (
    POLICE_COLUMNS,
    CrimeFileError,
    PoliceFile,
    import_police_files,
    import_police_records,
    open_police_files,
)
from server.store import crime as store
from server.store.db import transaction
from tests.conftest import SHARED
from tests.test_crime_import import CRIME_FILES, read_csv_rows, remove_test_months, write_police_csv

BENCH = SHARED / "bench-data"
_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def fast_rows(path: Path) -> list[tuple] | None:
    """The rows the column-wise reader stages, decoded from COPY text into the row-by-row reader's tuples (without
    the line number, which only orders them), or None when it hands the file to the row-by-row reader."""
    police_file = PoliceFile(path)
    records = read_plain_csv(path, police_file.name, police_file.checksum, police_file.columns)
    if records is None:
        return None
    text_rows = b"".join(check_records(records).copy_chunks()).decode().split("\n")[:-1]
    return [_decoded(row.split("\t")) for row in text_rows]


def _decoded(fields: list[str]) -> tuple:
    values = [None if field == "\\N" else _unescape(field) for field in fields]
    values[3] = date.fromisoformat(values[3])
    for index in (6, 7):
        values[index] = float(values[index]) if values[index] is not None else None
    return tuple(values[1:])


def _unescape(field: str) -> str:
    if "\\" not in field:
        return field
    out, index = [], 0
    while index < len(field):
        pair = field[index:index + 2]
        if pair in _UNESCAPE:
            out.append(_UNESCAPE[pair])
            index += 2
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


def reference_rows(path: Path) -> list[tuple]:
    return [row[1:] for row in PoliceFile(path).rows()]


def refusal(read) -> CrimeFileError:
    with pytest.raises(CrimeFileError) as caught:
        read()
    return caught.value


def assert_same_reading(path: Path) -> None:
    fast = fast_rows(path)
    assert fast is not None, "a plain police.uk file is read column-wise"
    assert fast == reference_rows(path)


def test_the_real_files_read_the_same_both_ways():
    for path in CRIME_FILES:
        assert_same_reading(path)


def row(month: str = "2031-01", crime_id: str = "", lon: str = "0.520000", lat: str = "51.270000", **more) -> dict:
    values = {"Crime ID": crime_id, "Month": month, "Reported by": "Kent Police", "Falls within": "Kent Police",
              "Longitude": lon, "Latitude": lat, "Location": "On or near Test Street", "LSOA code": "E01024333",
              "LSOA name": "Maidstone 001A", "Crime type": "Anti-social behaviour", "Last outcome category": "",
              "Context": ""}
    values.update(more)
    return values


EDGE_ROWS = [
    row(), row(), row(),  # the same ASB row three times: three records, three identities
    row(lon="", lat="", Location="No Location"),
    row(crime_id="id-quoted", Location="On or near Asda, Thurmaston", **{"Crime type": "Burglary"}),
    row(crime_id="id-newline", Context="first line\nsecond line"),
    row(crime_id="id-crlf", Context="first line\r\nsecond line"),
    row(crime_id="id-tab-backslash", Location="Tab\there \\ back\\slash", Context="a\\nb"),
    row(crime_id="  id-spaces  ", Month=" 2031-02 ", lon=" 0.5 ", lat="51.3\t", Location="  padded  "),
    row(lon="+.5", lat="5e1", **{"Crime type": "Other  theft!"}),
    row(lon="1.", lat="-0.0", Location="Ünïcödé ✓ 街"),
    row(lon="0.1234567", lat="51.1234565"),  # rounding to 6 decimals in the identity
    row(crime_id="id-empty-type-chars", **{"Crime type": "Violence and sexual offences"}),
]


def test_edge_cases_read_the_same_both_ways(tmp_path):
    columns = (*POLICE_COLUMNS[6:], *POLICE_COLUMNS[:6])  # any column order
    for name in ("edges.csv", "edges.csv.gz"):
        assert_same_reading(write_police_csv(tmp_path / name, EDGE_ROWS, columns))
    lf = tmp_path / "lf.csv"
    lf.write_text(",".join(POLICE_COLUMNS) + "\n" + ",".join(row().values()) + "\n" + ",".join(row().values()),
                  encoding="utf-8-sig")  # byte order mark, LF line ends, no final newline
    assert_same_reading(lf)


def unusual(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(",".join(POLICE_COLUMNS) + "\r\n" + body, encoding="utf-8", newline="")
    return path


GOOD_LINE = ",".join(row().values())


@pytest.mark.parametrize(("name", "body"), [
    ("blank-lines.csv", f"{GOOD_LINE}\r\n\r\n{GOOD_LINE}\r\n"),
    ("trailing-blank.csv", f"{GOOD_LINE}\r\n\r\n"),
    ("stray-quote.csv", GOOD_LINE.replace("Test Street", 'Test "Street') + "\r\n"),
    ("inner-quotes.csv", GOOD_LINE.replace("On or near Test Street", '"On ""near"" it"') + "\r\n"),
    ("quote-after-space.csv", GOOD_LINE.replace("On or near Test Street", ' "On or near"') + "\r\n"),
    ("lone-cr.csv", f"{GOOD_LINE}\r{GOOD_LINE}\r"),
    ("short-row.csv", f"{GOOD_LINE}\r\nabc,2031-01,Kent Police\r\n"),
    ("long-row.csv", f"{GOOD_LINE},extra\r\n"),
    ("whitespace-line.csv", f"{GOOD_LINE}\r\n   \r\n"),
])
def test_unusual_files_go_to_the_row_by_row_reader(tmp_path, engine, name, body):
    path = unusual(tmp_path, name, body)
    assert fast_rows(path) is None
    reference = None
    try:
        reference = reference_rows(path)
    except CrimeFileError as error:
        refused = refusal(lambda: import_police_files(engine, open_police_files([(path, path.name)])))
        assert refused.message == error.message
    if reference is not None:
        assert len(reference) >= 1  # readable by the row-by-row reader, which the import then uses


BAD_BODIES = {
    "months": [row(Month="2031-13"), row(), row(Month="March")],
    "coordinates": [row(lon="0.5x"), row(lat="95"), row(lon=""), row(lon="nan"), row(lat="inf"), row(lon="1_0")],
    "type": [row(**{"Crime type": "  "}), row(**{"Crime type": "!!"}), row(Month="", lon="x")],
    "many": [row(Month="bad")] * 1200,
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_bad_files_are_refused_with_the_same_words(tmp_path, kind):
    path = write_police_csv(tmp_path / f"bad-{kind}.csv", BAD_BODIES[kind])
    police_file = PoliceFile(path)
    fast = refusal(lambda: check_records(read_plain_csv(path, path.name, police_file.checksum, police_file.columns)))
    reference = refusal(lambda: list(PoliceFile(path).rows()))
    assert (fast.file, fast.problems, fast.more) == (reference.file, reference.problems, reference.more)
    assert fast.message == reference.message


# --- in the database ---------------------------------------------------------------------------------------------

RECORD_SQL = """
    SELECT identity, crime_id, month, reported_by, falls_within, longitude, latitude, location, lsoa_code, lsoa_name,
           crime_type, crime_type_slug, last_outcome, context,
           CASE WHEN geom IS NULL THEN longitude IS NULL
                ELSE ST_X(geom) = longitude AND ST_Y(geom) = latitude AND ST_SRID(geom) = 4326 END
    FROM crime_records WHERE import_id = :id ORDER BY id"""


def stored(engine, import_id: int) -> list[tuple]:
    with transaction(engine) as session:
        return [tuple(r) for r in session.execute(text(RECORD_SQL), {"id": import_id}).all()]


def expected_records(path: Path) -> list[tuple]:
    """The row-by-row reader's rows as crime_records would hold them (first of each identity, in file order)."""
    seen, rows = set(), []
    for _line, identity, *rest in PoliceFile(path).rows():
        if identity not in seen:
            seen.add(identity)
            rows.append((identity, *rest, True))
    return rows


def placements_now_and_recomputed(engine, import_ids: list[int]) -> tuple[set, set, dict]:
    """The import's stored placements, and those place_records computes for its records from scratch (rolled
    back), with the unplaced counts it finds."""
    query = text("""SELECT p.record_id, p.set_id, p.area_code, p.method FROM crime_placements p
                    JOIN crime_records r ON r.id = p.record_id WHERE r.import_id = ANY(:ids)""")
    with transaction(engine) as session:
        now = set(session.execute(query, {"ids": import_ids}).all())
        unplaced = store.place_records(session, import_ids=import_ids)
        recomputed = set(session.execute(query, {"ids": import_ids}).all())
        session.rollback()
    return now, recomputed, unplaced


@pytest.fixture
def fresh_months(engine):
    remove_test_months(engine)
    yield
    remove_test_months(engine)


def maidstone_rows_in(month: str) -> list[dict]:
    """Real Maidstone rows (real places, edges of the borough included) moved to a test month with new ids."""
    rows = []
    for path in CRIME_FILES[:3]:
        for source in read_csv_rows(path):
            rows.append({**source, "Month": month,
                         "Crime ID": f"test-fast-{source['Crime ID']}" if source["Crime ID"] else ""})
    return rows


def test_an_import_stores_and_places_what_the_row_by_row_reader_and_place_records_would(engine, fresh_months,
                                                                                          tmp_path):
    path = write_police_csv(tmp_path / "test-2031-03-street.csv.gz", maidstone_rows_in("2031-03") + EDGE_ROWS)
    summary = import_police_files(engine, open_police_files([(path, path.name)]))
    part = summary.files[0]
    reference = list(PoliceFile(path).rows())
    assert part.rows_read == len(reference) and part.no_location == sum(1 for r in reference if r[6] is None)
    assert stored(engine, part.import_id) == expected_records(path)
    now, recomputed, unplaced = placements_now_and_recomputed(engine, [part.import_id])
    assert now == recomputed and len(now) > 3 * 4000
    assert part.unplaced == unplaced


def test_parsed_records_import_exactly_as_their_file(engine, fresh_months, tmp_path):
    rows = maidstone_rows_in("2031-04")[:500] + EDGE_ROWS
    path = write_police_csv(tmp_path / "test-2031-04-street.csv", rows)
    checksum = PoliceFile(path).checksum
    summary = import_police_records(engine, [PoliceRecords.from_rows("test-2031-04 from the API", checksum, rows)])
    part = summary.files[0]
    assert stored(engine, part.import_id) == expected_records(path)
    assert (part.rows_read, part.inserted) == (len(rows), len(rows))
    again = import_police_files(engine, open_police_files([(path, path.name)])).files[0]
    assert (again.inserted, again.duplicates) == (0, len(rows)), "the file's records are the same records"
    bad = refusal(lambda: import_police_records(engine, [PoliceRecords.from_rows("api", "x", [row(Month="2031")])]))
    assert bad.message == "api: record 1: Month '2031' is not a month like 2022-01"


@pytest.mark.scale
@pytest.mark.parametrize("name", ["kent-street-2022-01-to-11.csv.gz", "all-forces-street-2022-06.csv.gz"])
def test_the_bench_files_read_the_same_both_ways(name):
    assert_same_reading(BENCH / name)
