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


MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")


def months_in_words(start: date, end: date) -> str:
    """"June 2022", "January–November 2022", "November 2021 – February 2022"."""
    first, last = MONTH_NAMES[start.month - 1], MONTH_NAMES[end.month - 1]
    if (start.year, start.month) == (end.year, end.month):
        return f"{first} {start.year}"
    if start.year == end.year:
        if start.month == 1 and end.month == 12:
            return str(start.year)
        return f"{first}–{last} {start.year}"
    return f"{first} {start.year} – {last} {end.year}"


def covered_in_words(period: Period, months_with_data: list[date]) -> str:
    """The months that have data, in words, with how much of the period asked for they are:
    "January–November 2022 (11 of 12 months)"; just the months when all of the period has data."""
    inside = sorted(m for m in months_with_data if period.contains(m))
    if not inside:
        return f"{months_in_words(period.start, period.end)} (no data)"
    text = months_in_words(inside[0], inside[-1])
    if len(inside) < period.months:
        text += f" ({len(inside)} of {period.months} months)"
    return text


def days_in_words(period: Period) -> str:
    """The period to the day, for briefings: "1 September – 30 November 2022"."""
    last = add_months(period.end, 1).toordinal() - 1
    end = date.fromordinal(last)
    first = f"{period.start.day} {MONTH_NAMES[period.start.month - 1]}"
    if period.start.year != end.year:
        first += f" {period.start.year}"
    return f"{first} – {end.day} {MONTH_NAMES[end.month - 1]} {end.year}"
