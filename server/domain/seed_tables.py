"""The partnership's published tables, transcribed into geodata/seed/ with their provenance.

Source: Safer Maidstone Partnership, Strategic Assessment 2024/25 (../shared/seeds/002_811f2f14a1d95052.txt),
Appendix 2 Tables 1-8 and the needle-find tables of paragraphs 104-105. Every CSV starts with `#` lines naming the
document, table, seed-text lines, units, period, boundary version and the inconsistencies found in that table.
Figures are kept exactly as printed; nothing here corrects them.

Plain Python: no Flask, no database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parents[2] / "geodata" / "seed"

WARD_GEOGRAPHY = "ward-2013"
CLUSTER_GEOGRAPHY = "cluster-2013"
BOROUGH_GEOGRAPHY = "borough"
PLACE_GEOGRAPHY = "place"


@dataclass(frozen=True)
class SeedTableInfo:
    name: str
    slug: str
    title: str
    unit: str
    geography: str
    measure: str
    value_column: str
    years: tuple[int, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


@dataclass(frozen=True)
class SeedTable:
    name: str
    title: str
    provenance: str
    meta: dict[str, str]
    columns: list[str]
    rows: list[dict]

    @property
    def info(self) -> SeedTableInfo:
        return SEED_TABLES[self.name]

    def values(self, year: int, key: str) -> dict:
        """{key value: figure} for one year, skipping rows without a key (such as printed Total rows)."""
        column = self.info.value_column
        return {row[key]: row[column] for row in self.for_year(year) if row[key] is not None}

    def for_year(self, year: int) -> list[dict]:
        return [row for row in self.rows if row_year(row) == year]


def row_year(row: dict) -> int:
    """The year of a row: its `year` column, or the YYYY of its `month` column (needle finds)."""
    return row["year"] if "year" in row else int(row["month"][:4])


def _info(name: str, slug: str, title: str, unit: str, geography: str, measure: str, value_column: str,
          years: tuple[int, ...]) -> tuple[str, SeedTableInfo]:
    return name, SeedTableInfo(name, slug, title, unit, geography, measure, value_column, years)


WARD_YEARS = (2023, 2022)
CLUSTER_YEARS = (2023, 2022, 2021)
NEEDLE_YEARS = (2019, 2020, 2021, 2022, 2023)

SEED_TABLES: dict[str, SeedTableInfo] = dict([
    _info("table1_crimes_by_ward", "seed-crimes-by-ward", "Recorded crimes by ward (Table 1)",
          "crimes", WARD_GEOGRAPHY, "count", "value", WARD_YEARS),
    _info("table2_crime_rate_by_ward", "seed-crime-rate-by-ward", "Recorded crimes per 1,000 residents by ward "
          "(Table 2)", "crimes per 1,000 residents", WARD_GEOGRAPHY, "rate", "rate_per_1000", WARD_YEARS),
    _info("table3_vbc_by_cluster", "seed-vbc-by-cluster", "Victim-based crime by ward cluster (Table 3)",
          "crimes", CLUSTER_GEOGRAPHY, "count", "value", CLUSTER_YEARS),
    _info("table4_cas_by_cluster", "seed-cas-by-cluster", "Crimes against society by ward cluster (Table 4)",
          "crimes", CLUSTER_GEOGRAPHY, "count", "value", CLUSTER_YEARS),
    _info("table5_asb_by_cluster", "seed-asb-by-cluster", "Anti-social behaviour by ward cluster (Table 5)",
          "incidents", CLUSTER_GEOGRAPHY, "count", "value", CLUSTER_YEARS),
    _info("table6_domestic_abuse_by_ward", "seed-domestic-abuse-by-ward", "Domestic abuse crimes by ward (Table 6)",
          "crimes", WARD_GEOGRAPHY, "count", "value", WARD_YEARS),
    _info("table7_domestic_abuse_rate_by_ward", "seed-domestic-abuse-rate-by-ward", "Domestic abuse crimes per "
          "1,000 residents by ward (Table 7)", "crimes per 1,000 residents", WARD_GEOGRAPHY, "rate", "rate_per_1000",
          WARD_YEARS),
    _info("table8_asb_by_ward", "seed-asb-by-ward", "Anti-social behaviour by ward (Table 8)",
          "incidents", WARD_GEOGRAPHY, "count", "value", CLUSTER_YEARS),
    _info("needle_finds_monthly", "seed-needle-finds-monthly", "Needle finds per month (paragraph 104)",
          "needle finds", BOROUGH_GEOGRAPHY, "count", "count", NEEDLE_YEARS),
    _info("needle_finds_top_locations", "seed-needle-finds-top-locations", "Top five needle-find locations "
          "(paragraph 105)", "needle finds", PLACE_GEOGRAPHY, "count", "count", (2021, 2022, 2023)),
])

# Printed rates are rounded: Table 2 to whole numbers, Table 7 to one decimal place.
RATE_STEP = {"table2_crime_rate_by_ward": 1.0, "table7_domestic_abuse_rate_by_ward": 0.1}
CRIME_PAIR = ("table1_crimes_by_ward", "table2_crime_rate_by_ward")
DOMESTIC_ABUSE_PAIR = ("table6_domestic_abuse_by_ward", "table7_domestic_abuse_rate_by_ward")


def seed_table_info(name_or_slug: str) -> SeedTableInfo:
    if name_or_slug in SEED_TABLES:
        return SEED_TABLES[name_or_slug]
    for info in SEED_TABLES.values():
        if info.slug == name_or_slug:
            return info
    raise KeyError(f"no seed table named {name_or_slug!r}; known: {', '.join(SEED_TABLES)}")


def convert_cell(cell: str) -> int | float | bool | str | None:
    """'' -> None, 'true'/'false' -> bool, numbers -> int or float; anything else (e.g. '-9%', 'N/A') stays text."""
    if cell == "":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            continue
    return cell


def parse_header(lines: list[str]) -> dict[str, str]:
    """`# key: value` lines, with `#   ...` continuation lines appended to the previous key."""
    meta: dict[str, str] = {}
    key = ""
    for line in lines:
        text = line[1:].removeprefix(" ")
        if text.startswith("  ") and key:
            meta[key] += "\n" + text.strip()
            continue
        key, _, value = text.partition(":")
        meta[key.strip()] = value.strip()
    return meta


def read_seed_table(name: str, seed_dir: Path = SEED_DIR) -> SeedTable:
    """Read one transcribed table by file name (without .csv) or metric slug."""
    info = seed_table_info(name)
    lines = (seed_dir / info.file).read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    reader = csv.DictReader(line for line in lines if not line.startswith("#"))
    rows = [{column: convert_cell(cell) for column, cell in row.items()} for row in reader]
    meta = parse_header(header)
    provenance = "\n".join(line[1:].strip() for line in header)
    return SeedTable(info.name, meta.get("table", info.title), provenance, meta, list(reader.fieldnames or []), rows)


def _implied(pair: tuple[str, str], year: int, seed_dir: Path) -> dict[str, float]:
    counts = read_seed_table(pair[0], seed_dir).values(year, "ward_code")
    rates = read_seed_table(pair[1], seed_dir).values(year, "ward_code")
    return {code: counts[code] / rates[code] * 1000 for code in counts}


def _implied_bounds(pair: tuple[str, str], year: int, seed_dir: Path) -> dict[str, tuple[float, float]]:
    counts = read_seed_table(pair[0], seed_dir).values(year, "ward_code")
    rates = read_seed_table(pair[1], seed_dir).values(year, "ward_code")
    half = RATE_STEP[pair[1]] / 2
    return {code: (counts[code] / (rates[code] + half) * 1000, counts[code] / (rates[code] - half) * 1000)
            for code in counts}


def _check_year(year: int) -> None:
    if year not in WARD_YEARS:
        raise ValueError(f"ward tables cover {WARD_YEARS}, not {year}")


def implied_population(year: int, seed_dir: Path = SEED_DIR) -> dict[str, float]:
    """Each 2013 ward's population implied by Table 1 count / Table 2 rate x 1000 (2023 or 2022).

    Table 2 prints rates rounded to whole numbers, so each estimate carries up to about +/-0.5/rate of relative
    error (about 0.2% for High Street at 275, up to about 2% for Bearsted at 26); see implied_population_bounds. The
    report says the rates use 2021 ward populations, so both years should imply about the same figure.
    """
    _check_year(year)
    return _implied(CRIME_PAIR, year, seed_dir)


def implied_population_bounds(year: int, seed_dir: Path = SEED_DIR) -> dict[str, tuple[float, float]]:
    """(lowest, highest) population per ward consistent with Table 1 and Table 2's rounded rate."""
    _check_year(year)
    return _implied_bounds(CRIME_PAIR, year, seed_dir)


def implied_population_domestic_abuse(year: int, seed_dir: Path = SEED_DIR) -> dict[str, float]:
    """Cross-check: the population implied by Table 6 count / Table 7 rate x 1000 (rates to one decimal place).

    As printed, North and North Downs come out far from the Table 1/2 figures (see the Table 7 CSV header).
    """
    _check_year(year)
    return _implied(DOMESTIC_ABUSE_PAIR, year, seed_dir)


def implied_population_domestic_abuse_bounds(year: int, seed_dir: Path = SEED_DIR) -> dict[str, tuple[float, float]]:
    _check_year(year)
    return _implied_bounds(DOMESTIC_ABUSE_PAIR, year, seed_dir)
