"""Where partnership records may lie: inside the partnership area (the union of the current ward set) grown by a
buffer (the setting CSP_ATLAS_RECORD_BUFFER_METRES). A location outside it whose two numbers, the other way round,
land inside is refused with the fix spelled out: lon/lat sent as lat/lon, or easting/northing the wrong way round."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.domain.hotspot_input import GivenLocation, in_england
from server.store import hotspots as store

DEFAULT_BUFFER_METRES = 2000.0


def location_problems(session: Session, locations: list[GivenLocation], buffer_metres: float) -> list[str | None]:
    """For each location: None when it may be stored, else why not (naming the fields, and the fix when swapped)."""
    pairs = [(loc.lon_lat(), loc.swapped().lon_lat()) for loc in locations]
    valid = [pair for both in pairs for pair in both if pair is not None]
    measured = store.partnership_distances(session, valid, buffer_metres)
    beyond = iter(measured[1]) if measured else None

    def outside(pair: tuple[float, float] | None) -> float | None:
        """Metres beyond the area (0 inside); None when unknown (not a grid location); England without wards."""
        if pair is None:
            return None
        if beyond is None:
            return 0.0 if in_england(pair) else None
        return next(beyond)

    where = (f"the partnership area ({measured[0]} wards and {buffer_metres:,.0f} m around them)" if measured
             else "England (no ward set is loaded to outline the partnership area)")
    problems = []
    for loc, (as_given, swapped) in zip(locations, pairs, strict=True):
        distance, swapped_distance = outside(as_given), outside(swapped)
        problems.append(_problem(loc, distance, swapped_distance, where))
    return problems


def _problem(loc: GivenLocation, distance: float | None, swapped_distance: float | None, where: str) -> str | None:
    if distance == 0:
        return None
    first, second = loc.names
    how_far = f"{distance / 1000:,.1f} km outside {where}" if distance is not None else f"not in {where}"
    if swapped_distance == 0:
        return (f"{first} and {second} look swapped: {loc.text()} is {how_far}, but the other way round it is "
                f"inside; send {loc.swapped().text('=')}")
    return f"the location {loc.text()} is {how_far}; records must lie inside it"


def check_location(session: Session, location: GivenLocation | None, buffer_metres: float) -> str | None:
    """Why one location may not be stored, or None (also when no location was given)."""
    if location is None:
        return None
    return location_problems(session, [location], buffer_metres)[0]
