"""Keeping police.uk crime up to date from its API: fetch every month not yet loaded (or the months asked for) inside
the partnership's area, and load it through the same idempotent import as the CSV files.

The partnership's area is the union of the current ward set grown by 30 m; the API is asked with a simpler outline
around it (server.store.police_api.area_and_outline), and records outside the area are left out (and counted). A
month is asked for as one polygon; an answer of 503 (more than 10,000 crimes) splits the piece into the four
quarters of its bounding box, and so on until every piece fits. Each piece's answer is kept in the database as it
comes (police_api_pieces), so an interrupted fetch asks again only for the pieces it has not got. Once a month is
whole, its crimes are deduplicated (a crime on the edge of two pieces comes twice, with the same API id), turned
into rows in the CSV's columns and imported in one transaction; its provenance (fetched from the API, when, and the
API's last-updated date) is kept in police_api_months, which the legend shows.

A record's identity is the CSV's: the API's persistent_id is the CSV's Crime ID, and an ASB incident (no id) gets
the file importer's derived identity from the same fields. The API gives no LSOA: a snap point gets the LSOA code and
name police.uk gave the same point in a loaded month (snap points are fixed; the nearest month wins), else those of
the loaded LSOA polygon that covers it, else none (server.store.police_api.lsoa_of_points). Records are placed in
the boundary sets by their point, as CSV rows are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from server.domain import police_import
from server.domain.police_api import CATEGORY_NAMES, AreaTooBusy, Crime, PoliceApi, PoliceApiError
from server.store import police_api as store
from server.store.db import transaction

# A piece this deep (1/4**12 of the area's box, about 10 m across for a borough) still over 10,000 crimes means
# something other than crime density is wrong.
MAX_SPLIT_DEPTH = 12
BTP = "British Transport Police"
DEFAULT_FORCE = "Kent Police"

Progress = Callable[[int, int, str], None]


class FetchError(RuntimeError):
    """The fetch cannot run or could not finish; what was fetched so far is kept for the next run."""


@dataclass(frozen=True)
class FetchRequest:
    month_from: str | None = None  # YYYY-MM
    month_to: str | None = None
    refresh: bool = False  # every month the API has (within from/to), loaded or not
    force: str = DEFAULT_FORCE  # "Reported by"/"Falls within" of the force's records (the API does not say)
    imported_by: str | None = None


@dataclass
class MonthFetched:
    month: str
    records: int  # inside the area, each once
    inserted: int  # of which new (the others were loaded already, from a file or an earlier fetch)
    outside_area: int  # answered by the API but outside the partnership's area: left out
    pieces: int  # polygons the area was asked in
    resumed_pieces: int  # of which answered in an earlier, interrupted run
    requests: int = 0
    import_id: int | None = None


@dataclass
class FetchReport:
    api_last_updated: date
    available: list[str]
    months: list[MonthFetched] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0
    retried: int = 0


@dataclass(frozen=True)
class Area:
    kept: BaseGeometry  # the partnership's area: records outside it are left out
    outline: BaseGeometry  # what the API is asked with: a simpler shape around it

    @property
    def key(self) -> str:
        """Names the outline in police_api_pieces: kept answers of another outline are not reused."""
        return hashlib.sha256(self.outline.wkb).hexdigest()[:32]


def months_to_fetch(available: list[str], loaded: set[str], request: FetchRequest) -> list[str]:
    """The API's months within from/to; without --refresh and without a range, only those not loaded yet."""
    chosen = [m for m in available if (request.month_from is None or m >= request.month_from)
              and (request.month_to is None or m <= request.month_to)]
    explicit = request.month_from is not None or request.month_to is not None
    if request.refresh or explicit:
        return chosen
    return [m for m in chosen if m not in loaded]


def fetch_police_months(engine: Engine, api: PoliceApi, request: FetchRequest,
                        progress: Progress | None = None) -> FetchReport:
    """Fetch and import the months `request` asks for; progress(months done, months, message) as it goes."""
    available, last_updated = api.street_dates(), api.last_updated()
    with transaction(engine) as session:
        loaded = {f"{m:%Y-%m}" for m in store.loaded_months(session)}
        set_id = store.current_ward_set(session)
        if set_id is None:
            raise FetchError("no ward boundary set is loaded, so the partnership's area is unknown; load the wards "
                             "first (scripts/atlas reference load)")
        area_wkb, outline_wkb = store.area_and_outline(session, set_id)
    area = Area(shapely.from_wkb(area_wkb), shapely.from_wkb(outline_wkb))
    shapely.prepare(area.kept)  # many points are tested against it
    months = months_to_fetch(available, loaded, request)
    report = FetchReport(api_last_updated=last_updated, available=available)
    for done, month in enumerate(months):
        def tell(message: str, done: int = done) -> None:
            if progress:
                progress(done, len(months), message)

        tell(f"fetching {month} ({done + 1} of {len(months)})")
        before = api.requests
        crimes, pieces = _MonthPieces(engine, api, area, month, tell).collect()
        fetched = _import(engine, area, month, crimes, pieces, request)
        fetched.requests = api.requests - before
        _record_provenance(engine, api, fetched, last_updated)
        report.months.append(fetched)
    report.requests, report.throttled, report.retried = api.requests, api.throttled, api.retried
    if progress:
        progress(len(months), len(months), f"{len(months)} month(s) fetched")
    return report


# --- one month ----------------------------------------------------------------------------------------------

class _MonthPieces:
    """The answers for a month, piece by piece: kept ones from an interrupted run, the others asked for (and kept)."""

    def __init__(self, engine: Engine, api: PoliceApi, area: Area, month: str, tell: Callable[[str], None]):
        self.engine, self.api, self.area, self.month, self.tell = engine, api, area, month, tell
        self.first_day = _first_day(month)
        with transaction(engine) as session:
            self.kept = store.stored_pieces(session, self.first_day, area.key)
        self.crimes: list[dict] = []
        self.pieces = self.resumed = 0

    def collect(self) -> tuple[list[dict], tuple[int, int]]:
        """Every crime of the month in the outline (twice if on the edge of two pieces); (pieces, resumed)."""
        self._collect("r", self.area.outline, 0)
        return self.crimes, (self.pieces, self.resumed)

    def _collect(self, key: str, piece: BaseGeometry, depth: int) -> None:
        if key in self.kept:
            self._add(self.kept[key], resumed=True)
            return
        split_before = any(k.startswith(key + ".") for k in self.kept)
        if not split_before and isinstance(piece, Polygon):
            crimes = self._ask(piece, depth)
            if crimes is not None:
                with transaction(self.engine) as session:
                    store.save_piece(session, self.first_day, self.area.key, key, crimes)
                self._add(crimes, resumed=False)
                self.tell(f"{self.month}: {self.pieces} piece(s), {len(self.crimes)} records")
                return
        for index, part in enumerate(_split(piece)):
            self._collect(f"{key}.{index}", part, depth + 1)

    def _ask(self, piece: Polygon, depth: int) -> list[dict] | None:
        """The piece's crimes, or None when it holds too many and is to be split."""
        try:
            return [asdict(crime) for crime in self.api.crimes(list(piece.exterior.coords), self.month)]
        except AreaTooBusy:
            if depth >= MAX_SPLIT_DEPTH:
                raise FetchError(f"{self.month}: a piece of the area still holds more than the API answers after "
                                 f"{depth} splits") from None
            return None
        except PoliceApiError as error:
            raise FetchError(f"{self.month}: {error}; the {self.pieces} piece(s) fetched so far are kept, and the "
                             "next run goes on from there") from None

    def _add(self, crimes: list[dict], resumed: bool) -> None:
        self.crimes.extend(crimes)
        self.pieces += 1
        self.resumed += resumed


def _import(engine: Engine, area: Area, month: str, crimes: list[dict], pieces: tuple[int, int],
            request: FetchRequest) -> MonthFetched:
    unique = _unique(crimes)
    inside = _inside(area.kept, unique)
    rows = _rows(engine, inside, month, request.force)
    summary = police_import.import_police_rows(engine, f"police.uk API {month}", rows, request.imported_by)
    part = summary.files[0]
    return MonthFetched(month=month, records=len(rows), inserted=part.inserted, outside_area=len(unique) - len(inside),
                        pieces=pieces[0], resumed_pieces=pieces[1], import_id=part.import_id)


def _record_provenance(engine: Engine, api: PoliceApi, fetched: MonthFetched, last_updated: date) -> None:
    """The month's provenance; its kept pieces are no longer needed."""
    first_day = _first_day(fetched.month)
    with transaction(engine) as session:
        store.record_month(session, first_day, fetched_at=datetime.now(UTC), api_last_updated=last_updated,
                           api_url=api.base_url, records=fetched.records, inserted=fetched.inserted,
                           requests=fetched.requests, import_id=fetched.import_id)
        store.clear_pieces(session, first_day)


def _split(piece: BaseGeometry) -> list[Polygon]:
    """A multi-part piece: its parts; a polygon: its parts in each quarter of its bounding box (in a fixed order, so
    that a resumed fetch meets the same pieces)."""
    if isinstance(piece, MultiPolygon):
        return list(piece.geoms)
    west, south, east, north = piece.bounds
    middle_x, middle_y = (west + east) / 2, (south + north) / 2
    parts: list[Polygon] = []
    for quarter in (box(west, south, middle_x, middle_y), box(middle_x, south, east, middle_y),
                    box(west, middle_y, middle_x, north), box(middle_x, middle_y, east, north)):
        clipped = piece.intersection(quarter)
        parts.extend(p for p in _polygons(clipped) if p.area > 0)
    return parts


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]


def _unique(crimes: list[dict]) -> list[dict]:
    """Each crime once: pieces share their edges, and a crime on an edge is in both answers."""
    seen: set[str] = set()
    unique = []
    for crime in crimes:
        key = crime["api_id"] or crime["persistent_id"] or repr(sorted(crime.items()))
        if key not in seen:
            seen.add(key)
            unique.append(crime)
    return unique


def _inside(area: BaseGeometry, crimes: list[dict]) -> list[dict]:
    if not crimes:
        return []
    longitudes = [float(c["longitude"]) for c in crimes]
    latitudes = [float(c["latitude"]) for c in crimes]
    keep = shapely.intersects_xy(area, longitudes, latitudes)
    return [crime for crime, inside in zip(crimes, keep, strict=True) if inside]


def _rows(engine: Engine, crimes: list[dict], month: str, force: str) -> list[dict[str, str]]:
    """The crimes as rows in the police.uk CSV columns, with the LSOA of each snap point."""
    points = sorted({(float(c["longitude"]), float(c["latitude"])) for c in crimes})
    with transaction(engine) as session:
        lsoa = store.lsoa_of_points(session, points, _first_day(month))
    return [_row(Crime(**crime), lsoa.get((float(crime["longitude"]), float(crime["latitude"])), ("", "")), force)
            for crime in crimes]


def _row(crime: Crime, lsoa: tuple[str, str], force: str) -> dict[str, str]:
    reported_by = BTP if crime.location_type.upper() == "BTP" else force
    return {"Crime ID": crime.persistent_id, "Month": crime.month, "Reported by": reported_by,
            "Falls within": reported_by, "Longitude": crime.longitude, "Latitude": crime.latitude,
            "Location": crime.street, "LSOA code": lsoa[0], "LSOA name": lsoa[1],
            "Crime type": CATEGORY_NAMES[crime.category], "Last outcome category": crime.outcome,
            "Context": crime.context}


def _first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)
