"""How well do 2013-ward figures re-estimated for the 2024 wards match what was really counted there?

police.uk records can be counted directly in any boundary set, so they give a ground truth: count them
in the 2013 wards, interpolate those counts to the 2024 wards, and compare with the direct 2024 counts.
The crime-point weights come from a different span of months than the counts being interpolated, as
they would for the assessment's 2023 tables (weighted by the 2022 police.uk points). Both held-out directions
are measured (each half of the months counted, the other half as weights).

The same measurement gives each re-estimate on the map its interval: the per-area error of the method, the larger
of the two directions (`held_out_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.domain import interpolation
from server.domain.errors import DomainError
from server.domain.partnerships import seed_statistics
from server.domain.periods import Period
from server.store import crime as crime_store
from server.store import frames
from server.store import partnerships as partnership_store
from server.store.versioned import per_data_version

EXCLUDED_TYPES = ["anti-social-behaviour"]
# What the accuracy command compares; "crime_points_last_month" is crime_points weighted by the last month of the
# weights period only, to show what pooling the months buys.
COMPARED = ("area", "crime_points_last_month", "crime_points", "dasymetric", "shrunk")


@dataclass
class AccuracyComparison:
    source_set: str
    target_set: str
    counted_period: str
    weights_period: str
    reports: list[interpolation.AccuracyReport]
    errors: dict[str, dict[str, float]]  # method -> target area -> absolute % error

    def as_dict(self) -> dict:
        return {"source_set": self.source_set, "target_set": self.target_set, "counted_period": self.counted_period,
                "weights_period": self.weights_period, "methods": [r.as_dict() for r in self.reports]}


def compare_interpolation(session: Session, counted: Period, weights: Period, source_set: str | None = None,
                          target_set: str | None = None,
                          methods: tuple[str, ...] = COMPARED) -> AccuracyComparison:
    """source_set defaults to the ward set of the partnership's published tables, target_set to the default
    partnership's default set (for Maidstone: its 2013 and 2024 wards)."""
    source_set, target_set = source_set or _seed_ward_set(), target_set or _default_set(session)
    source_counts = crime_store.count_by_area(session, source_set, counted.start, counted.end, None, EXCLUDED_TYPES)
    actual = {code: float(n) for code, n in
              crime_store.count_by_area(session, target_set, counted.start, counted.end, None, EXCLUDED_TYPES).items()}
    source, target = frames.areas(session, source_set), frames.areas(session, target_set)
    lsoas = lsoa_areas_beside(session, target_set)
    values = {code: float(count) for code, count in source_counts.items()}
    points = frames.crime_points(session, weights.start, weights.end)
    reports, errors = [], {}
    for method in methods:
        if method == "crime_points_last_month":
            last = frames.crime_points(session, weights.end, weights.end)
            result = interpolation.point_weighted(source, target, values, last)
        elif method.startswith("shrunk k="):  # the same method with another strength, for the sweep
            strength = float(method.removeprefix("shrunk k="))
            result = interpolation.shrunk_point_weighted(source, target, values, points,
                                                         lsoas if lsoas is not None else source, strength)
        else:
            result = interpolation.interpolate(method, source, target, values, points, lsoas)
        reports.append(interpolation.accuracy(result.values, actual, method))
        errors[method] = interpolation.area_errors(result.values, actual)
    return AccuracyComparison(source_set, target_set, counted.label, weights.label, reports, errors)


def lsoa_areas_beside(session: Session, set_id: str):
    """The LSOAs of the partnership showing set_id (the dasymetric and shrunk methods' weights), or None."""
    lsoa_set = partnership_store.lsoa_set_beside(session, set_id)
    return frames.areas(session, lsoa_set) if lsoa_set else None


def _seed_ward_set() -> str:
    seed = seed_statistics()
    if seed is None:
        raise DomainError("no partnership publishes ward tables (seed_statistics in geodata/partnerships/); "
                          "name the sets to compare")
    return seed.ward_set


def _default_set(session: Session) -> str:
    found = partnership_store.default_set(session)
    if found is None:
        raise DomainError("there is no default partnership with a default set; name the sets to compare")
    return found


def held_out_directions(months: list) -> list[tuple[Period, Period]]:
    """(counted, weights): the later half counted with the earlier half as weights, and the other way round."""
    if len(months) < 2:
        return []
    middle = (len(months) + 1) // 2  # 11 months: 2022-01..06 and 2022-07..11, as the accuracy command
    first, second = Period(months[0], months[middle - 1]), Period(months[middle], months[-1])
    return [(second, first), (first, second)]


@per_data_version
def held_out_errors(session: Session, method: str, source_set: str, target_set: str) -> dict[str, float]:
    """Per target area, the larger held-out absolute % error of `method` over both directions ({} without data)."""
    directions = held_out_directions(crime_store.available_months(session))
    worst: dict[str, float] = {}
    for counted, weights in directions:
        comparison = compare_interpolation(session, counted, weights, source_set, target_set, (method,))
        for code, error in comparison.errors[method].items():
            worst[code] = max(worst.get(code, 0.0), error)
    return worst
