"""What people send for hotspot points: one point as JSON, or a CSV or GeoJSON file of them (no Flask, no database).

A point is at a location (lon/lat, or British National Grid easting/northing, converted to lon/lat) and/or at a
named place; it was observed on a date or over a range (``observed`` also takes a month 2023-05, a year 2023 or a
range 2023-05-01/2023-05-31); it has a count (default 1; null = not known), a category and notes.
A file is checked whole before anything is stored: every bad row is reported with its file, row and reason, and
one bad row refuses the file.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from pyproj import Transformer

from server.domain.boundary_files import ENGLAND_BOUNDS
from server.domain.errors import DomainError
from server.domain.file_errors import FileProblems

FIELDS = ("lon", "lat", "easting", "northing", "place", "observed", "observed_from", "observed_to", "count",
          "category", "notes")
ALIASES = {"longitude": "lon", "lng": "lon", "latitude": "lat", "eastings": "easting", "northings": "northing",
           "place_name": "place", "date": "observed", "date_from": "observed_from", "date_to": "observed_to"}
EARLIEST = date(1900, 1, 1)
MAX_COUNT = 1_000_000
MAX_TEXT = {"place": 200, "category": 80, "notes": 2000}
MAX_IMPORT_ROWS = 20_000
MAX_REPORTED_PROBLEMS = 50
BNG_LIMITS = (0, 0, 700_000, 1_300_000)
MONTH = re.compile(r"^([1-9][0-9]{3})-([0-9]{2})$")
YEAR = re.compile(r"^([1-9][0-9]{3})$")
_FROM_BNG = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class GivenLocation:
    """A location as it was sent (lon/lat degrees or British National Grid metres), kept so that a check of where it
    lies can say which numbers to swap."""

    system: str  # "lon/lat" or "easting/northing"
    first: float
    second: float

    @property
    def names(self) -> tuple[str, str]:
        return ("lon", "lat") if self.system == "lon/lat" else ("easting", "northing")

    def lon_lat(self) -> tuple[float, float] | None:
        """In degrees; None for grid metres outside the British National Grid."""
        if self.system == "lon/lat":
            return self.first, self.second
        if not (BNG_LIMITS[0] <= self.first <= BNG_LIMITS[2] and BNG_LIMITS[1] <= self.second <= BNG_LIMITS[3]):
            return None
        return _FROM_BNG.transform(self.first, self.second)

    def swapped(self) -> GivenLocation:
        return GivenLocation(self.system, self.second, self.first)

    def text(self, sep: str = " ") -> str:
        """'lon 0.52, lat 51.27' (sep '=' gives what to send: 'lon=0.52, lat=51.27')."""
        return ", ".join(f"{name}{sep}{value:g}" for name, value in zip(self.names, (self.first, self.second),
                                                                         strict=True))


def in_england(lon_lat: tuple[float, float] | None) -> bool:
    west, south, east, north = ENGLAND_BOUNDS
    return lon_lat is not None and west <= lon_lat[0] <= east and south <= lon_lat[1] <= north


class PointInputError(DomainError, ValueError):
    """A point that cannot be stored; `problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))

    def details(self) -> dict[str, Any]:
        return {"problems": self.problems}


class ImportFileError(FileProblems):
    """A file of points refused whole; `problems` are {file, row, reason} (row 0 = the file itself)."""

    max_reported = MAX_REPORTED_PROBLEMS

    @property
    def message(self) -> str:
        rows = {p["row"] for p in self.problems if p["row"]}
        shown = "; ".join(f"row {p['row']}: {p['reason']}" if p["row"] else p["reason"] for p in self.problems[:3])
        tail = f" (and {len(self.problems) + self.more - 3} more)" if len(self.problems) + self.more > 3 else ""
        where = f"{len(rows) + self.more} row(s) refused" if rows else "file refused"
        return f"{self.file}: {where}, nothing imported: {shown}{tail}"


@dataclass
class PointInput:
    lon: float | None = None
    lat: float | None = None
    place: str | None = None
    observed_from: date | None = None
    observed_to: date | None = None
    count: int | None = 1
    category: str = ""
    notes: str = ""
    given: frozenset[str] = field(default_factory=frozenset)  # what the sender set: location, place, observed, …
    clear_location: bool = False
    given_location: GivenLocation | None = None  # the numbers as sent, for the check against the partnership area

    @property
    def has_location(self) -> bool:
        return self.lon is not None and self.lat is not None


@dataclass
class ParsedImport:
    file: str
    rows: list[tuple[int, PointInput]]
    ignored_columns: list[str]
    coordinates: str  # how locations were given: lon/lat, easting/northing, place names


# --- one point ----------------------------------------------------------------------------------------------------


def canonical_keys(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Field names lower-cased with aliases resolved; returns the fields and the unknown names."""
    fields: dict[str, Any] = {}
    unknown = []
    for raw_key, value in data.items():
        key = str(raw_key).strip().lower().replace(" ", "_")
        key = ALIASES.get(key, key)
        if key in FIELDS or key == "location":
            fields[key] = value
        else:
            unknown.append(str(raw_key))
    return fields, unknown


def parse_point(data: Mapping[str, Any], *, partial: bool = False, today: date | None = None,
                strict: bool = True) -> PointInput:
    """Validate one point (partial: only the fields given, for an edit); raises PointInputError."""
    fields, unknown = canonical_keys(data)
    problems: list[str] = []
    if unknown and strict:
        problems.append(f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(FIELDS)}")
    fields = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in fields.items()}
    point = PointInput()
    given: set[str] = set()
    _location(fields, point, given, problems)
    _place(fields, point, given, problems)
    _observed(fields, point, given, problems, today or date.today(), partial)
    _count(fields, point, given, problems)
    for name in ("category", "notes"):
        if fields.get(name) is not None:
            text = str(fields[name]).strip()
            if len(text) > MAX_TEXT[name]:
                problems.append(f"{name} is longer than {MAX_TEXT[name]} characters")
            setattr(point, name, text)
            given.add(name)
        elif name in fields:
            given.add(name)
    if not partial:
        if not point.has_location and point.place is None:
            problems.append("no location: give lon/lat, easting/northing or a place name")
        if point.observed_from is None and not any(fields.get(k) for k in ("observed", "observed_from",
                                                                            "observed_to")):
            problems.append("observed date missing: give observed (2023-05-01, 2023-05, 2023 or a range "
                            "2023-05-01/2023-05-31) or observed_from")
    if problems:
        raise PointInputError(problems)
    return replace(point, given=frozenset(given))


def _number(value: Any, name: str, problems: list[str]) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number, not '{value}'")
        return None
    if not math.isfinite(number):
        problems.append(f"{name} must be a finite number")
        return None
    return number


def _location(fields: dict[str, Any], point: PointInput, given: set[str], problems: list[str]) -> None:
    pairs = {"lon/lat": ("lon", "lat"), "easting/northing": ("easting", "northing")}
    present = [label for label, names in pairs.items() if any(fields.get(n) is not None for n in names)]
    if "location" in fields:
        if fields["location"] is not None:
            problems.append("location can only be null (to remove a point's own location); "
                            "give lon/lat or easting/northing to set it")
            return
        point.clear_location = True
        given.add("location")
    if not present:
        return
    if len(present) > 1:
        problems.append("give lon/lat or easting/northing, not both")
        return
    first, second = pairs[present[0]]
    if fields.get(first) is None or fields.get(second) is None:
        problems.append(f"give both {first} and {second}")
        return
    x, y = _number(fields[first], first, problems), _number(fields[second], second, problems)
    if x is None or y is None:
        return
    given_location = GivenLocation(present[0], x, y)
    lon_lat = given_location.lon_lat()
    if lon_lat is None and given_location.swapped().lon_lat() is None:
        problems.append(f"easting {x:g}, northing {y:g} is outside the British National Grid")
        return
    # Swapped numbers are left to the check against the partnership area, which says which way round they belong.
    if not in_england(lon_lat) and not in_england(given_location.swapped().lon_lat()):
        where = f"({lon_lat[0]:.5f}, {lon_lat[1]:.5f})" if lon_lat else f"({given_location.text()})"
        problems.append(f"the location {where} is not in England; coordinates are lon/lat in degrees "
                        "(longitude first) or British National Grid metres")
        return
    if lon_lat is None:
        lon_lat = (math.nan, math.nan)  # outside the grid as given, inside it swapped: refused by the area check
    point.lon, point.lat = round(lon_lat[0], 7), round(lon_lat[1], 7)
    point.given_location = given_location
    given.add("location")


def _place(fields: dict[str, Any], point: PointInput, given: set[str], problems: list[str]) -> None:
    if "place" not in fields:
        return
    given.add("place")
    if fields["place"] is None:
        return
    name = " ".join(str(fields["place"]).split())
    if len(name) > MAX_TEXT["place"]:
        problems.append(f"place is longer than {MAX_TEXT['place']} characters")
    point.place = name


def parse_location(data: Mapping[str, Any]) -> PointInput:
    """Just a location (lon/lat or easting/northing), e.g. to put a named place on the map."""
    point = parse_point(data, partial=True)
    if not point.has_location:
        raise PointInputError(["give lon and lat (degrees) or easting and northing (British National Grid metres)"])
    return point


def parse_date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PointInputError([f"{name} must be a date like 2023-05-01, not '{text}'"]) from None


def parse_observed(text: str) -> tuple[date, date]:
    """A date, a month (2023-05), a year (2023) or a range of two dates (2023-05-01/2023-05-31)."""
    text = text.strip()
    if "/" in text:
        first, _, last = text.partition("/")
        return parse_date(first, "observed"), parse_date(last, "observed")
    if match := MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PointInputError([f"observed: '{text}' is not a month"])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if YEAR.match(text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    return parse_date(text, "observed"), parse_date(text, "observed")


def _observed(fields: dict[str, Any], point: PointInput, given: set[str], problems: list[str], today: date,
              partial: bool) -> None:
    try:
        if fields.get("observed") is not None:
            if fields.get("observed_from") is not None or fields.get("observed_to") is not None:
                problems.append("give observed or observed_from/observed_to, not both")
                return
            point.observed_from, point.observed_to = parse_observed(str(fields["observed"]))
        else:
            if fields.get("observed_from") is not None:
                point.observed_from = parse_date(str(fields["observed_from"]), "observed_from")
            if fields.get("observed_to") is not None:
                point.observed_to = parse_date(str(fields["observed_to"]), "observed_to")
    except PointInputError as error:
        problems.extend(error.problems)
        return
    if point.observed_from is not None and point.observed_to is None and not partial:
        point.observed_to = point.observed_from
    for name in ("observed_from", "observed_to"):
        value = getattr(point, name)
        if value is None:
            continue
        given.add(name)
        if value < EARLIEST or value > today + timedelta(days=1):
            problems.append(f"{name} {value} is not between {EARLIEST} and today")
    if point.observed_from and point.observed_to and point.observed_to < point.observed_from:
        problems.append(f"observed_to {point.observed_to} is before observed_from {point.observed_from}")


def _count(fields: dict[str, Any], point: PointInput, given: set[str], problems: list[str]) -> None:
    if "count" not in fields:
        return
    given.add("count")
    value = fields["count"]
    if value is None:
        point.count = None
        return
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        problems.append(f"count must be a whole number, not '{value}'")
        return
    try:
        count = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
    except ValueError:
        problems.append(f"count must be a whole number, not '{value}'")
        return
    if not 1 <= count <= MAX_COUNT:
        problems.append(f"count must be from 1 to {MAX_COUNT:,}, not {count} (leave it empty when not known)")
        return
    point.count = count


# --- files --------------------------------------------------------------------------------------------------------


def read_import_file(file_name: str, data: bytes, today: date | None = None) -> ParsedImport:
    """Parse a CSV or GeoJSON file of points, or raise ImportFileError listing every bad row."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        return _read_csv(file_name, _text(file_name, data), today)
    if lower.endswith((".geojson", ".json")):
        return _read_geojson(file_name, _text(file_name, data), today)
    raise ImportFileError(file_name, [{"file": file_name, "row": 0, "reason": "unsupported file type; send a .csv "
                                       "(lon/lat, easting/northing or place columns) or a .geojson file"}])


def _text(file_name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(file_name, [{"file": file_name, "row": 0,
                                           "reason": "the file is not UTF-8 text"}]) from None


def _refuse(file_name: str, problems: list[dict[str, Any]]) -> None:
    if problems:
        raise ImportFileError(file_name, problems)


def _file_problem(file_name: str, reason: str) -> ImportFileError:
    return ImportFileError(file_name, [{"file": file_name, "row": 0, "reason": reason}])


def _read_csv(file_name: str, text: str, today: date | None) -> ParsedImport:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if not header:
        raise _file_problem(file_name, "the file is empty; the first line must name the columns")
    known, unknown = canonical_keys(dict.fromkeys(header, ""))
    names = [next(iter(canonical_keys({h: ""})[0]), h) for h in header]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise _file_problem(file_name, f"column(s) given twice: {', '.join(duplicated)}")
    if not ({"lon", "lat"} <= set(known) or {"easting", "northing"} <= set(known) or "place" in known):
        raise _file_problem(file_name, "no location columns: the header needs lon and lat, easting and northing, "
                                       f"or place (it has {', '.join(header)})")
    rows: list[tuple[int, PointInput]] = []
    problems: list[dict[str, Any]] = []
    for record in reader:
        line = reader.line_num
        if None in record:
            problems.append({"file": file_name, "row": line, "reason": "more cells than columns"})
            continue
        if not any((cell or "").strip() for cell in record.values()):
            continue
        _parse_row(file_name, line, record, today, rows, problems)
        if len(rows) + len(problems) > MAX_IMPORT_ROWS:
            raise _file_problem(file_name, f"more than {MAX_IMPORT_ROWS:,} rows; split the file")
    if not rows and not problems:
        raise _file_problem(file_name, "the file has a header but no rows")
    _refuse(file_name, problems)
    return ParsedImport(file_name, rows, unknown, _how_located(known))


def _how_located(known: Mapping[str, Any]) -> str:
    ways = [label for label, names in (("lon/lat", ("lon", "lat")), ("easting/northing", ("easting", "northing")),
                                       ("place names", ("place",))) if all(n in known for n in names)]
    return ", ".join(ways)


def _parse_row(file_name: str, row: int, record: Mapping[str, Any], today: date | None,
               rows: list[tuple[int, PointInput]], problems: list[dict[str, Any]]) -> None:
    try:
        rows.append((row, parse_point(record, today=today, strict=False)))
    except PointInputError as error:
        problems.extend({"file": file_name, "row": row, "reason": reason} for reason in error.problems)


def _read_geojson(file_name: str, text: str, today: date | None) -> ParsedImport:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _file_problem(file_name, f"not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or document.get("type") not in ("FeatureCollection", "Feature"):
        raise _file_problem(file_name, "not a GeoJSON FeatureCollection or Feature")
    features = document.get("features") if document["type"] == "FeatureCollection" else [document]
    if not isinstance(features, list) or not features:
        raise _file_problem(file_name, "the FeatureCollection has no features")
    if len(features) > MAX_IMPORT_ROWS:
        raise _file_problem(file_name, f"more than {MAX_IMPORT_ROWS:,} features; split the file")
    british_grid = _declares_british_grid(file_name, document)
    rows: list[tuple[int, PointInput]] = []
    problems: list[dict[str, Any]] = []
    unknown: set[str] = set()
    for number, feature in enumerate(features, start=1):
        try:
            record = feature_record(feature, british_grid)
        except PointInputError as error:
            problems.extend({"file": file_name, "row": number, "reason": r} for r in error.problems)
            continue
        unknown.update(canonical_keys(record)[1])
        _parse_row(file_name, number, record, today, rows, problems)
    _refuse(file_name, problems)
    return ParsedImport(file_name, rows, sorted(unknown),
                        "easting/northing (EPSG:27700)" if british_grid else "lon/lat (RFC 7946)")


def _declares_british_grid(file_name: str, document: dict[str, Any]) -> bool:
    """RFC 7946 GeoJSON is lon/lat; older files may declare EPSG:27700 in a `crs` member (GDAL writes it)."""
    crs = document.get("crs")
    if crs is None:
        return False
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
    if name.endswith("27700"):
        return True
    if name.upper().endswith(("CRS84", "4326")):
        return False
    raise _file_problem(file_name, f"unsupported crs '{name}': use lon/lat (RFC 7946) or EPSG:27700")


def feature_record(feature: Any, british_grid: bool = False) -> dict[str, Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise PointInputError(["not a GeoJSON Feature"])
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise PointInputError(["properties must be an object"])
    record = {k: v for k, v in properties.items() if canonical_keys({k: v})[0].keys().isdisjoint(
        {"lon", "lat", "easting", "northing", "location"})}
    geometry = feature.get("geometry")
    if geometry is None:
        return record
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise PointInputError([f"geometry must be a Point (or null with a place), not {kind}"])
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise PointInputError(["a Point needs coordinates [x, y]"])
    names = ("easting", "northing") if british_grid else ("lon", "lat")
    record.update(dict(zip(names, coordinates[:2], strict=True)))
    return record
