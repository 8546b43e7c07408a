"""Importing data.police.uk street-level crime files (``YYYY-MM-<force>-street.csv``, or ``.csv.gz``).

A file must have exactly the police.uk columns (in any order):
Crime ID, Month, Reported by, Falls within, Longitude, Latitude, Location, LSOA code, LSOA name,
Crime type, Last outcome category, Context.
Every row is checked: Month must be YYYY-MM, Longitude/Latitude numbers within ±180/±90 (or both
empty: the record is kept and counted as "no location"), Crime type present. A file with any bad row is
refused with its file name, line numbers and reasons, and nothing of the whole import is kept: all files
of one import are loaded in one transaction (all-or-nothing).

Stable identity of a record (``crime_records.identity``, unique), so that re-importing a file, or a
file that overlaps an earlier one, inserts nothing twice:
- a row with a Crime ID: the Crime ID itself (police.uk's own 64-hex id of the crime);
- a row without one (anti-social behaviour, which police.uk publishes without ids):
  ``"sha256:" + sha256(month YYYY-MM, Reported by, longitude and latitude to 6 decimals, Location,
  LSOA code, Crime type, n)`` with the fields joined by U+001F, where n is the occurrence number of that
  identical row within the file (1 for the first, 2 for the second …). Two identical ASB rows in one
  month are two incidents and stay two records; re-importing the same file gives the same identities.
  The outcome and context are left out because police.uk may revise them in later publications.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.domain.boundary_files import file_checksum
from server.domain.file_errors import FileProblems
from server.store import crime as store
from server.store.db import transaction

POLICE_COLUMNS = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                  "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
SUPPORTED_SUFFIXES = (".csv", ".csv.gz")
MAX_CHECKED_PROBLEMS = 1000
PROGRESS_EVERY_ROWS = 2000
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
NUMBER_PATTERN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
IDENTITY_SEPARATOR = "\x1f"
MONTH_FIELD = store.STAGING_COLUMNS.index("month")
LONGITUDE_FIELD = store.STAGING_COLUMNS.index("longitude")

RowProgress = Callable[[int], None]


class CrimeFileError(FileProblems):
    """A crime file that cannot be imported; `problems` lists each reason (with its line number)."""


def crime_type_slug(crime_type: str) -> str:
    """'Violence and sexual offences' -> 'violence-and-sexual-offences'."""
    return re.sub(r"[^a-z0-9]+", "-", crime_type.lower()).strip("-")


@dataclass
class FileSummary:
    file: str
    checksum: str = ""
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    no_location: int = 0
    unplaced: dict[str, int] = field(default_factory=dict)
    per_month: dict[str, dict[str, int]] = field(default_factory=dict)
    import_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "import_id": self.import_id, "checksum": self.checksum,
                "rows_read": self.rows_read, "inserted": self.inserted, "duplicates": self.duplicates,
                "no_location": self.no_location, "unplaced": dict(sorted(self.unplaced.items())),
                "per_month": {month: dict(counts) for month, counts in sorted(self.per_month.items())}}


@dataclass
class ImportSummary:
    """Per file and in total: rows read, inserted, duplicates skipped, no location, unplaced per set."""

    files: list[FileSummary]

    @property
    def total(self) -> FileSummary:
        total = FileSummary(file="total")
        for part in self.files:
            total.rows_read += part.rows_read
            total.inserted += part.inserted
            total.duplicates += part.duplicates
            total.no_location += part.no_location
            for set_id, count in part.unplaced.items():
                total.unplaced[set_id] = total.unplaced.get(set_id, 0) + count
            for month, counts in part.per_month.items():
                into = total.per_month.setdefault(month, {"rows_read": 0, "inserted": 0})
                for key, value in counts.items():
                    into[key] = into.get(key, 0) + value
        return total

    def as_dict(self) -> dict[str, Any]:
        total = self.total.as_dict()
        del total["file"], total["import_id"], total["checksum"]
        return {"files": [part.as_dict() for part in self.files], "total": total}


def _open_text(path: Path) -> TextIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _has_supported_suffix(name: str) -> bool:
    return name.lower().endswith(SUPPORTED_SUFFIXES)


class PoliceFile:
    """One police.uk file. Opening it checks its type and header; rows() checks and yields every row."""

    def __init__(self, path: Path, display_name: str | None = None):
        self.path = path
        self.name = display_name or path.name
        self.summary = FileSummary(file=self.name)
        if not _has_supported_suffix(self.name):
            raise CrimeFileError(self.name, ["unsupported file type; use a police.uk street-level crime "
                                             "file (.csv, or .csv.gz)"])
        if not path.is_file():
            raise CrimeFileError(self.name, ["no such file"])
        self.columns = self._read_header()
        self.checksum = file_checksum(path)

    def _read_header(self) -> dict[str, int]:
        try:
            with _open_text(self.path) as handle:
                header = next(csv.reader(handle), None)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as error:
            raise CrimeFileError(self.name, [f"unreadable file ({_reason(error)})"]) from None
        if not header:
            raise CrimeFileError(self.name, ["the file is empty; expected a police.uk header line"])
        return _check_header(self.name, [column.strip() for column in header])

    def rows(self, progress: RowProgress | None = None) -> Iterator[tuple]:
        """Yield rows laid out as server.store.crime.STAGING_COLUMNS; raise CrimeFileError after the
        last row if any row was bad. Counts (rows read, no location, per month) go into self.summary."""
        parser = _RowParser(self.columns)
        problems: list[str] = []
        self.summary = FileSummary(file=self.name, checksum=self.checksum)
        try:
            with _open_text(self.path) as handle:
                reader = csv.reader(handle)
                next(reader, None)
                for fields in reader:
                    if not fields:
                        continue
                    row = parser.parse(fields, reader.line_num, problems)
                    if row is not None and not problems:
                        self._count(row)
                        yield row
                    if progress and parser.rows % PROGRESS_EVERY_ROWS == 0:
                        progress(PROGRESS_EVERY_ROWS)
                    if len(problems) >= MAX_CHECKED_PROBLEMS:
                        problems.append(f"stopped checking at line {reader.line_num}")
                        break
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as error:
            problems.append(f"unreadable after line {parser.last_line} ({_reason(error)})")
        if progress:
            progress(parser.rows % PROGRESS_EVERY_ROWS)
        if problems:
            raise CrimeFileError(self.name, problems)

    def _count(self, row: tuple) -> None:
        self.summary.rows_read += 1
        if row[LONGITUDE_FIELD] is None:
            self.summary.no_location += 1
        month = row[MONTH_FIELD].strftime("%Y-%m")
        counts = self.summary.per_month.setdefault(month, {"rows_read": 0, "inserted": 0})
        counts["rows_read"] += 1


class PoliceRows(PoliceFile):
    """Records already parsed into the police.uk columns (a dict per record, keyed by POLICE_COLUMNS: e.g. fetched
    from the police.uk API), checked and identified exactly as the rows of a file are."""

    def __init__(self, name: str, records: Sequence[Mapping[str, str]]):
        self.path = Path(name)
        self.name = name
        self.records = records
        self.columns = {column: index for index, column in enumerate(POLICE_COLUMNS)}
        canonical = json.dumps([[record.get(c, "") for c in POLICE_COLUMNS] for record in records])
        self.checksum = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        self.summary = FileSummary(file=name)

    def rows(self, progress: RowProgress | None = None) -> Iterator[tuple]:
        parser = _RowParser(self.columns)
        problems: list[str] = []
        self.summary = FileSummary(file=self.name, checksum=self.checksum)
        for number, record in enumerate(self.records, start=1):
            row = parser.parse([str(record.get(column, "")) for column in POLICE_COLUMNS], number, problems)
            if row is not None and not problems:
                self._count(row)
                yield row
            if len(problems) >= MAX_CHECKED_PROBLEMS:
                problems.append(f"stopped checking at record {number}")
                break
        if progress:
            progress(parser.rows)
        if problems:
            raise CrimeFileError(self.name, problems)


def _reason(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _check_header(name: str, header: list[str]) -> dict[str, int]:
    missing = [column for column in POLICE_COLUMNS if column not in header]
    unexpected = [column for column in header if column not in POLICE_COLUMNS]
    repeated = sorted({column for column in header if header.count(column) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(repr(c) for c in missing)}")
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(repr(c) for c in unexpected)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repr(c) for c in repeated)}")
    if problems:
        problems.append("a police.uk street-level file has the columns: " + ", ".join(POLICE_COLUMNS))
        raise CrimeFileError(name, problems)
    return {column: header.index(column) for column in POLICE_COLUMNS}


class _RowParser:
    """Checks one row at a time and builds its staging tuple; remembers repeated ASB rows."""

    def __init__(self, columns: dict[str, int]):
        self.columns = columns
        self.width = len(columns)
        self.occurrences: Counter[str] = Counter()
        self.rows = 0
        self.last_line = 1

    def parse(self, fields: list[str], line: int, problems: list[str]) -> tuple | None:
        self.rows += 1
        self.last_line = line
        if len(fields) != self.width:
            problems.append(f"line {line}: {len(fields)} fields, expected {self.width}")
            return None
        value = {column: fields[index].strip() for column, index in self.columns.items()}
        try:
            month = _parse_month(value["Month"])
            longitude, latitude = _parse_coordinates(value["Longitude"], value["Latitude"])
            slug = _parse_crime_type(value["Crime type"])
        except ValueError as error:
            problems.append(f"line {line}: {error}")
            return None
        identity = value["Crime ID"] or self._derived_identity(value, longitude, latitude)
        return (line, identity, value["Crime ID"] or None, month, value["Reported by"], value["Falls within"],
                longitude, latitude, value["Location"], value["LSOA code"], value["LSOA name"],
                value["Crime type"], slug, value["Last outcome category"], value["Context"])

    def _derived_identity(self, value: dict[str, str], longitude: float | None, latitude: float | None) -> str:
        key = IDENTITY_SEPARATOR.join((
            value["Month"], value["Reported by"], _coordinate_text(longitude), _coordinate_text(latitude),
            value["Location"], value["LSOA code"], value["Crime type"]))
        self.occurrences[key] += 1
        occurrence = f"{key}{IDENTITY_SEPARATOR}{self.occurrences[key]}"
        return "sha256:" + hashlib.sha256(occurrence.encode("utf-8")).hexdigest()


def _coordinate_text(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _parse_month(raw: str) -> date:
    match = MONTH_PATTERN.match(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"Month '{raw}' is not a month like 2022-01")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _parse_coordinates(longitude: str, latitude: str) -> tuple[float | None, float | None]:
    if not longitude and not latitude:
        return None, None
    if not longitude or not latitude:
        given, missing = ("Longitude", "Latitude") if longitude else ("Latitude", "Longitude")
        raise ValueError(f"{given} is given but {missing} is empty")
    return _parse_degrees("Longitude", longitude, 180), _parse_degrees("Latitude", latitude, 90)


def _parse_degrees(column: str, raw: str, limit: float) -> float:
    if not NUMBER_PATTERN.match(raw):
        raise ValueError(f"{column} '{raw}' is not a number")
    value = float(raw)
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{column} {raw} is out of range (-{limit:g} to {limit:g} degrees)")
    return value


def _parse_crime_type(raw: str) -> str:
    slug = crime_type_slug(raw)
    if not slug:
        raise ValueError(f"Crime type '{raw}' is empty or has no letters or digits")
    return slug


def open_police_files(files: list[tuple[Path, str]]) -> list[PoliceFile]:
    """Open (path, display name) pairs, checking every header first; raise the first file's problems."""
    return [PoliceFile(path, name) for path, name in files]


def import_police_files(engine: Engine, files: list[PoliceFile], imported_by: str | None = None, *,
                        on_rows: RowProgress | None = None,
                        on_placed: store.StepProgress | None = None) -> ImportSummary:
    """Load all files in one transaction, place the new records, and return what happened.

    Any bad row in any file raises CrimeFileError and leaves the database as it was.
    """
    with transaction(engine) as session:
        summaries = [_load_file(session, police_file, imported_by, on_rows) for police_file in files]
        import_ids = [summary.import_id for summary in summaries if summary.import_id is not None]
        unplaced = store.place_imported_records(session, import_ids, progress=on_placed)
        for summary in summaries:
            summary.unplaced = unplaced[summary.import_id]
            store.finish_import(session, summary.import_id, rows_read=summary.rows_read,
                                inserted=summary.inserted, duplicates=summary.duplicates,
                                no_location=summary.no_location, unplaced=summary.unplaced,
                                per_month=summary.per_month)
    return ImportSummary(summaries)


def _load_file(session: Session, police_file: PoliceFile, imported_by: str | None,
               on_rows: RowProgress | None) -> FileSummary:
    import_id = store.create_import(session, police_file.name, police_file.checksum, imported_by)
    store.stage_rows(session, police_file.rows(on_rows))
    inserted_per_month = store.insert_staged(session, import_id)
    summary = police_file.summary
    summary.import_id = import_id
    for month, count in inserted_per_month.items():
        summary.per_month.setdefault(month, {"rows_read": 0, "inserted": 0})["inserted"] = count
    summary.inserted = sum(inserted_per_month.values())
    summary.duplicates = summary.rows_read - summary.inserted
    return summary


def import_police_rows(engine: Engine, source_name: str, records: Sequence[Mapping[str, str]],
                       imported_by: str | None = None) -> ImportSummary:
    """Import records given in the police.uk CSV columns (Crime ID, Month, Reported by, Falls within, Longitude,
    Latitude, Location, LSOA code, LSOA name, Crime type, Last outcome category, Context) through the same checks,
    identities, idempotent insert and placement as a file, in one transaction; source_name is what the import
    is listed as."""
    return import_police_files(engine, [PoliceRows(source_name, records)], imported_by)
