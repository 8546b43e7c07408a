"""Population CSV files (area code, population, year, source) that replace derived populations for rates."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from server.domain.file_errors import FileProblems

REQUIRED_COLUMNS = ("code", "population", "year", "source")


class PopulationFileError(FileProblems):
    """A population file that cannot be loaded; `problems` lists each reason."""


@dataclass(frozen=True)
class PopulationTable:
    values: dict[str, float]
    year: int
    source: str


def read_population_csv(content: bytes, file: str, known_codes: set[str]) -> PopulationTable:
    """Validate every row; one year and one source per file; every code must belong to the boundary set."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PopulationFileError(file, ["not UTF-8 text; save the CSV as UTF-8"]) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        expected = ", ".join(REQUIRED_COLUMNS)
        raise PopulationFileError(file, [f"missing column(s) {', '.join(missing)}; the file has "
                                         f"{', '.join(columns) or 'no header'}; expected {expected}"])
    values: dict[str, float] = {}
    years: set[int] = set()
    sources: set[str] = set()
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        row_problems = _row_problems(row, known_codes, values)
        problems.extend(f"line {line}: {p}" for p in row_problems)
        if not row_problems:
            values[row["code"]] = float(row["population"])
            years.add(int(row["year"]))
            sources.add(row["source"])
    if not problems and not values:
        problems.append("no rows")
    if not problems and len(years) > 1:
        problems.append(f"one year per file, found {', '.join(map(str, sorted(years)))}")
    if not problems and (missing_codes := sorted(known_codes - set(values))):
        problems.append(f"no population for {len(missing_codes)} area(s): {', '.join(missing_codes[:10])}")
    if problems:
        raise PopulationFileError(file, problems)
    return PopulationTable(values, years.pop(), "; ".join(sorted(sources)))


def _row_problems(row: dict[str, str], known_codes: set[str], seen: dict[str, float]) -> list[str]:
    problems = []
    code = row.get("code", "")
    if not code:
        problems.append("empty code")
    elif code not in known_codes:
        problems.append(f"code {code} is not an area of this boundary set")
    elif code in seen:
        problems.append(f"code {code} appears twice")
    try:
        if float(row.get("population", "")) <= 0:
            problems.append("population must be more than 0")
    except ValueError:
        problems.append(f"population '{row.get('population')}' is not a number")
    if not row.get("year", "").isdigit():
        problems.append(f"year '{row.get('year')}' is not a year like 2021")
    if not row.get("source"):
        problems.append("empty source")
    return problems
