"""Periods of time as users write them: a month (2022-06), a year (2022) or a range (2022-01/2022-11)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from server.domain.errors import DomainError

MONTH = re.compile(r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$")
YEAR = re.compile(r"^([1-9][0-9]{3})$")
PATTERN = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(/[1-9][0-9]{3}-(0[1-9]|1[0-2]))?)?$"  # the forms parse_period takes
PERIOD_HELP = "a month (2022-06), a year (2022) or a range of months (2022-01/2022-11)"


class PeriodError(DomainError, ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    """Whole months from `start` to `end` inclusive (both first days of their months)."""

    start: date
    end: date

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def label(self) -> str:
        if self.months == 1:
            return f"{self.start:%Y-%m}"
        if self.start.month == 1 and self.end.month == 12 and self.start.year == self.end.year:
            return f"{self.start.year}"
        return f"{self.start:%Y-%m}/{self.end:%Y-%m}"

    @property
    def whole_year(self) -> int | None:
        return self.start.year if self.label == str(self.start.year) else None

    def previous(self) -> Period:
        """The period of the same length just before this one (for change on the previous period)."""
        return Period(add_months(self.start, -self.months), add_months(self.start, -1))

    def contains(self, month: date) -> bool:
        return self.start <= month <= self.end


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _month(text: str) -> date:
    match = MONTH.match(text)
    if not match:
        raise PeriodError(f"'{text}' is not a month like 2022-06")
    return date(int(match[1]), int(match[2]), 1)


def parse_period(text: str) -> Period:
    text = text.strip()
    if "/" in text:
        first, _, last = text.partition("/")
        period = Period(_month(first), _month(last))
        if period.end < period.start:
            raise PeriodError(f"the range '{text}' ends before it starts")
        return period
    if YEAR.match(text):
        year = int(text)
        return Period(date(year, 1, 1), date(year, 12, 1))
    if MONTH.match(text):
        month = _month(text)
        return Period(month, month)
    raise PeriodError(f"'{text}' is not a period: use {PERIOD_HELP}")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 1))
