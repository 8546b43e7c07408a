"""The rules for one police.uk street-level record, shared by the row-by-row reader and the column-wise one
(server.domain.police_import, server.domain.police_columns): what a valid field is, the message for one that is
not, and a record's stable identity. Both readers call these very functions, so they accept, refuse and identify
exactly alike."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date

from server.domain.file_errors import FileProblems

POLICE_COLUMNS = ("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                  "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context")
MAX_CHECKED_PROBLEMS = 1000
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
NUMBER_PATTERN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
IDENTITY_SEPARATOR = "\x1f"
# The fields of a record without a Crime ID that make its identity (with its occurrence number in the file).
IDENTITY_FIELDS = ("Month", "Reported by", "Longitude", "Latitude", "Location", "LSOA code", "Crime type")


class CrimeFileError(FileProblems):
    """A crime file that cannot be imported; `problems` lists each reason (with its line number)."""


def crime_type_slug(crime_type: str) -> str:
    """'Violence and sexual offences' -> 'violence-and-sexual-offences'."""
    return re.sub(r"[^a-z0-9]+", "-", crime_type.lower()).strip("-")


def check_header(name: str, header: list[str]) -> dict[str, int]:
    """Column -> position in the file; CrimeFileError unless the header is exactly the police.uk columns."""
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


def parse_month(raw: str) -> date:
    match = MONTH_PATTERN.match(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"Month '{raw}' is not a month like 2022-01")
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_coordinates(longitude: str, latitude: str) -> tuple[float | None, float | None]:
    if not longitude and not latitude:
        return None, None
    if not longitude or not latitude:
        given, missing = ("Longitude", "Latitude") if longitude else ("Latitude", "Longitude")
        raise ValueError(f"{given} is given but {missing} is empty")
    return parse_degrees("Longitude", longitude, 180), parse_degrees("Latitude", latitude, 90)


def parse_degrees(column: str, raw: str, limit: float) -> float:
    if not NUMBER_PATTERN.match(raw):
        raise ValueError(f"{column} '{raw}' is not a number")
    value = float(raw)
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{column} {raw} is out of range (-{limit:g} to {limit:g} degrees)")
    return value


def parse_crime_type(raw: str) -> str:
    slug = crime_type_slug(raw)
    if not slug:
        raise ValueError(f"Crime type '{raw}' is empty or has no letters or digits")
    return slug


def check_record(value: dict[str, str]) -> tuple[date, float | None, float | None, str]:
    """(month, longitude, latitude, crime type slug) of one record's stripped fields; ValueError with the reason of
    the first bad field, checked in this order."""
    month = parse_month(value["Month"])
    longitude, latitude = parse_coordinates(value["Longitude"], value["Latitude"])
    return month, longitude, latitude, parse_crime_type(value["Crime type"])


def coordinate_text(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def identity_key(month: str, reported_by: str, longitude: str, latitude: str, location: str, lsoa_code: str,
                 crime_type: str) -> str:
    """What identifies a record without a Crime ID, before its occurrence number (coordinates as coordinate_text)."""
    return IDENTITY_SEPARATOR.join((month, reported_by, longitude, latitude, location, lsoa_code, crime_type))


def derived_identity(key: str, occurrence: int) -> str:
    """The identity of the `occurrence`-th record (1 for the first) with this identity_key in its file."""
    return "sha256:" + hashlib.sha256(f"{key}{IDENTITY_SEPARATOR}{occurrence}".encode()).hexdigest()
