"""Police.uk records checked a column at a time: the fast path of every crime import.

A file is tokenised by pandas' C reader, but only when it is plain enough that Python's csv module (what the
row-by-row reader in server.domain.police_import uses) would read exactly the same fields from it: no NUL, no lone
carriage return, every double quote part of a simple quoted field, one record per line and twelve fields in every
record. Anything else goes to the row-by-row reader, which is the specification. Each distinct value of a column is
checked once with the same functions the row-by-row reader calls (server.domain.police_fields); when some row is
bad, those same functions name it. The checked records leave as PostgreSQL COPY text.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from server.domain.police_fields import (
    MAX_CHECKED_PROBLEMS,
    POLICE_COLUMNS,
    CrimeFileError,
    check_record,
    coordinate_text,
    derived_identity,
    identity_key,
    parse_crime_type,
    parse_degrees,
    parse_month,
)

COPY_CHUNK_ROWS = 50_000
_QUOTED_FIELD = re.compile(r'"[^"]*"')
_COPY_SPECIALS = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
_BAD = object()

RowProgress = Callable[[int], None]


@dataclass
class PoliceRecords:
    """Records as one list of raw field text per police.uk column, all of the same length. Messages call record i
    "{label} {first_number + i}": "line 2" for a file's first record under its header."""

    name: str
    checksum: str
    columns: dict[str, list[str]]
    label: str = "record"
    first_number: int = 1

    def __len__(self) -> int:
        return len(self.columns[POLICE_COLUMNS[0]])

    @classmethod
    def from_rows(cls, name: str, checksum: str, rows: Iterable[Mapping[str, Any]]) -> PoliceRecords:
        """From mappings keyed by the police.uk column names (a missing key or None is an empty field)."""
        rows = list(rows)
        return cls(name, checksum, {column: [_text(row.get(column)) for row in rows] for column in POLICE_COLUMNS})

    @classmethod
    def from_frame(cls, name: str, checksum: str, frame: pd.DataFrame) -> PoliceRecords:
        """From a DataFrame with the police.uk column names (extra columns are ignored)."""
        missing = [column for column in POLICE_COLUMNS if column not in frame.columns]
        if missing:
            raise CrimeFileError(name, [f"missing column(s) {', '.join(repr(c) for c in missing)}"])
        return cls(name, checksum, {column: [_text(value) for value in frame[column].tolist()]
                                    for column in POLICE_COLUMNS})


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


@dataclass
class CheckedRecords:
    """Records that passed every check, with what the import summary counts before inserting."""

    name: str
    checksum: str
    rows: int
    no_location: int
    rows_per_month: dict[str, int]
    _copy_columns: list[list[str]] = field(repr=False)

    def copy_chunks(self, progress: RowProgress | None = None) -> Iterator[bytes]:
        """The records as COPY text in the order of server.store.crime.STAGING_COLUMNS."""
        for start in range(0, self.rows, COPY_CHUNK_ROWS):
            part = [column[start:start + COPY_CHUNK_ROWS] for column in self._copy_columns]
            yield ("\n".join("\t".join(row) for row in zip(*part, strict=True)) + "\n").encode()
            if progress:
                progress(len(part[0]))


# --- reading a file --------------------------------------------------------------------------------------------

def read_plain_csv(path: Path, name: str, checksum: str, positions: dict[str, int]) -> PoliceRecords | None:
    """The file's records when Python's csv module would read the very same fields from it, else None."""
    text = _decoded(path)
    if text is None or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    quoted = _QUOTED_FIELD.findall(text) if '"' in text else []
    if not _quotes_are_simple(text, quoted):
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1, names=list(range(len(positions))),
                            dtype=str, na_filter=False, skip_blank_lines=False, engine="c")
    except (ValueError, pd.errors.ParserError):  # a row with more fields than the header
        return None
    records = len(frame)
    lines = text.count("\n") - sum(field.count("\n") for field in quoted) + (0 if text.endswith("\n") else 1)
    commas = text.count(",") - sum(field.count(",") for field in quoted)
    if lines != records + 1 or commas != (records + 1) * (len(positions) - 1):
        return None  # blank lines, or a record with too few fields: the row-by-row reader names them
    columns = {column: frame[index].tolist() for column, index in positions.items()}
    return PoliceRecords(name, checksum, columns, label="line", first_number=2)


def _decoded(path: Path) -> str | None:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.name.lower().endswith(".gz") else path.read_bytes()
        return raw.decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None


def _quotes_are_simple(text: str, quoted: list[str]) -> bool:
    """Every double quote opens or closes a whole field ("..." between commas or line ends), and none is in the
    header line."""
    if text.count('"') != 2 * len(quoted):
        return False
    header_end = text.find("\n")
    for match in _QUOTED_FIELD.finditer(text):
        start, end = match.span()
        if start < header_end or text[start - 1] not in ",\n" or (end < len(text) and text[end] not in ",\r\n"):
            return False
    return True


# --- checking ---------------------------------------------------------------------------------------------------

def check_records(records: PoliceRecords) -> CheckedRecords:
    """Check every record as the row-by-row reader does; CrimeFileError naming each bad record and why."""
    value = {column: _stripped(records.columns[column]) for column in POLICE_COLUMNS}
    months = _each_distinct(value["Month"], parse_month)
    longitudes = _each_distinct(value["Longitude"], lambda raw: parse_degrees("Longitude", raw, 180))
    latitudes = _each_distinct(value["Latitude"], lambda raw: parse_degrees("Latitude", raw, 90))
    slugs = _each_distinct(value["Crime type"], parse_crime_type)
    if _any_bad(value, months, longitudes, latitudes, slugs):
        raise CrimeFileError(records.name, _problems(records, value))
    return _checked(records, value, months, longitudes, latitudes, slugs)


def _stripped(column: list[str]) -> list[str]:
    return [text.strip() for text in column]


def _each_distinct(column: list[str], parse: Callable[[str], Any]) -> dict[str, Any]:
    """Distinct non-empty value -> what `parse` makes of it, or _BAD."""
    parsed = {}
    for raw in set(column):
        if raw:
            try:
                parsed[raw] = parse(raw)
            except ValueError:
                parsed[raw] = _BAD
    return parsed


def _any_bad(value: dict[str, list[str]], months: dict, longitudes: dict, latitudes: dict, slugs: dict) -> bool:
    if "" in value["Month"] or "" in value["Crime type"]:
        return True
    if any(parsed is _BAD for parsed in (*months.values(), *longitudes.values(), *latitudes.values(),
                                         *slugs.values())):
        return True
    return any((not longitude) != (not latitude) for longitude, latitude in zip(value["Longitude"],
                                                                                value["Latitude"], strict=True))


def _problems(records: PoliceRecords, value: dict[str, list[str]]) -> list[str]:
    """Each bad record's reason, as the row-by-row reader words it, up to its limit."""
    problems = []
    for index in range(len(records)):
        try:
            check_record({column: value[column][index] for column in ("Month", "Longitude", "Latitude",
                                                                       "Crime type")})
        except ValueError as error:
            number = records.first_number + index
            problems.append(f"{records.label} {number}: {error}")
            if len(problems) >= MAX_CHECKED_PROBLEMS:
                problems.append(f"stopped checking at {records.label} {number}")
                break
    return problems


def _checked(records: PoliceRecords, value: dict[str, list[str]], months: dict, longitudes: dict,
             latitudes: dict, slugs: dict) -> CheckedRecords:
    count = len(records)
    no_location = value["Longitude"].count("")
    month_text = {raw: parsed.isoformat() for raw, parsed in months.items()}
    rows_per_month = Counter()
    for raw, rows in Counter(value["Month"]).items():
        rows_per_month[months[raw].strftime("%Y-%m")] += rows
    crime_ids = _escaped(value["Crime ID"])
    copy_columns = [
        [str(records.first_number + index) for index in range(count)],
        _escaped(_identities(value, longitudes, latitudes)),
        [crime_id or _NULL for crime_id in crime_ids],
        [month_text[raw] for raw in value["Month"]],
        _escaped(value["Reported by"]), _escaped(value["Falls within"]),
        _floats(value["Longitude"], longitudes), _floats(value["Latitude"], latitudes),
        *(_escaped(value[column]) for column in ("Location", "LSOA code", "LSOA name", "Crime type")),
        [slugs[raw] for raw in value["Crime type"]],
        _escaped(value["Last outcome category"]), _escaped(value["Context"]),
    ]
    return CheckedRecords(records.name, records.checksum, count, no_location, dict(sorted(rows_per_month.items())),
                          copy_columns)


def _identities(value: dict[str, list[str]], longitudes: dict, latitudes: dict) -> list[str]:
    """The Crime ID, or for a record without one its derived identity (occurrences counted in record order)."""
    identities = list(value["Crime ID"])
    occurrences: dict[str, int] = {}
    columns = [value[column] for column in ("Month", "Reported by", "Longitude", "Latitude", "Location",
                                            "LSOA code", "Crime type")]
    for index, crime_id in enumerate(value["Crime ID"]):
        if crime_id:
            continue
        month, reported_by, longitude, latitude, location, lsoa_code, crime_type = (c[index] for c in columns)
        key = identity_key(month, reported_by, coordinate_text(longitudes.get(longitude)),
                           coordinate_text(latitudes.get(latitude)), location, lsoa_code, crime_type)
        occurrences[key] = occurrences.get(key, 0) + 1
        identities[index] = derived_identity(key, occurrences[key])
    return identities


def _floats(column: list[str], parsed: dict[str, float]) -> list[str]:
    """Degrees as the shortest text that reads back as the same double (repr), or NULL."""
    text = {raw: repr(number) for raw, number in parsed.items()}
    return [text[raw] if raw else _NULL for raw in column]


def _escaped(column: list[str]) -> list[str]:
    """COPY text format: backslash, tab, newline and carriage return escaped (only when some value has one)."""
    joined = "".join(column)
    if not any(special in joined for special in ("\\", "\t", "\n", "\r")):
        return column
    return [text.translate(_COPY_SPECIALS) for text in column]


def nul_free(records: PoliceRecords) -> bool:
    """PostgreSQL text cannot hold NUL characters."""
    return not any("\x00" in "".join(column) for column in records.columns.values())
