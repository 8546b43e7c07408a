"""Where each month of police.uk records came from, in words for the legend: the CSV files, or the police.uk API
(when it was fetched, and the API's own last-updated date then)."""

from __future__ import annotations

from datetime import UTC, date
from itertools import groupby
from typing import Any

CSV_ORIGIN = "police.uk CSV files"


def month_provenance(months: list[date], fetched: list[dict[str, Any]]) -> list[str]:
    """One line per run of consecutive months with the same origin, e.g. '2022-01 to 2022-11: police.uk CSV files'
    and '2022-12: police.uk API, fetched 2023-02-01 06:17 UTC (police.uk last updated 2023-01-31)'."""
    by_month = {row["month"]: row for row in fetched}
    lines = []
    for origin, run in groupby(sorted(months), key=lambda month: origin_of(by_month.get(month))):
        run = list(run)
        span = f"{run[0]:%Y-%m}" if len(run) == 1 else f"{run[0]:%Y-%m} to {run[-1]:%Y-%m}"
        lines.append(f"{span}: {origin}")
    return lines


def origin_of(row: dict[str, Any] | None) -> str:
    """Where a month came from, given its police_api_months row (None: it was not fetched from the API)."""
    if row is None:
        return CSV_ORIGIN
    updated = f" (police.uk last updated {row['api_last_updated']:%Y-%m-%d})" if row["api_last_updated"] else ""
    return f"police.uk API, fetched {row['fetched_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC{updated}"
