"""How well do 2013-ward figures re-estimated for the 2024 wards match what was really counted there?

police.uk records can be counted directly in any boundary set, so they give a ground truth: count them
in the 2013 wards, interpolate those counts to the 2024 wards, and compare with the direct 2024 counts.
The crime-point weights come from a different span of months than the counts being interpolated, as
they would for the assessment's 2023 tables (weighted by the 2022 police.uk points).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.domain import interpolation
from server.domain.periods import Period
from server.store import crime as crime_store
from server.store import frames


@dataclass
class AccuracyComparison:
    source_set: str
    target_set: str
    counted_period: str
    weights_period: str
    reports: list[interpolation.AccuracyReport]

    def as_dict(self) -> dict:
        return {"source_set": self.source_set, "target_set": self.target_set, "counted_period": self.counted_period,
                "weights_period": self.weights_period, "methods": [r.as_dict() for r in self.reports]}


def compare_interpolation(session: Session, counted: Period, weights: Period, source_set: str = "wards-2013",
                          target_set: str = "wards-2024") -> AccuracyComparison:
    exclude = ["anti-social-behaviour"]
    source_counts = crime_store.count_by_area(session, source_set, counted.start, counted.end, None, exclude)
    actual = crime_store.count_by_area(session, target_set, counted.start, counted.end, None, exclude)
    source, target = frames.areas(session, source_set), frames.areas(session, target_set)
    values = {code: float(count) for code, count in source_counts.items()}
    by_area = interpolation.area_weighted(source, target, values)
    by_points = interpolation.point_weighted(source, target, values,
                                             frames.crime_points(session, weights.start, weights.end))
    actual_float = {code: float(count) for code, count in actual.items()}
    reports = [interpolation.accuracy(result.values, actual_float, result.method) for result in (by_area, by_points)]
    return AccuracyComparison(source_set, target_set, counted.label, weights.label, reports)
