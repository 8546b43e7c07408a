"""Seed data of the hotspot layers, loaded by `scripts/atlas reference load` (idempotent: a second run adds nothing,
and records or places that users have edited since are never overwritten).

- The gazetteer from ../shared/geodata/maidstone_places.csv: each row's name is split into the place name and the
  note in brackets that says what the point really is (e.g. Brenchley Gardens is the point of the cenotaph inside
  it). Rows naming the same place (the Town Hall's "second source") become one place with both sources.
- The needle-find layer from the partnership's published tables in geodata/seed/: the monthly borough totals
  2019-2023 (paragraph 104) as area-level records for Maidstone borough (E07000110), and the top five locations of
  2021-2023 (paragraph 105) as yearly counts at named places. Only Whatman Park has published coordinates; the
  others stay unplaced until someone places them (../shared/geodata/SOURCES.md lists the names found nowhere).
- The DCSM layer starts empty: no locations are published.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.domain import hotspot_records as records
from server.domain.boundary_files import file_checksum
from server.domain.hotspot_input import parse_observed
from server.domain.partnerships import seed_statistics
from server.domain.seed_tables import SEED_DIR, read_seed_table
from server.store import hotspots as store
from server.store.db import transaction

PLACES_FILE = "maidstone_places.csv"
NEEDLE_LAYER = "needle-finds"
SEEDED_BY = "reference data"
ASSESSMENT = "Safer Maidstone Partnership, Strategic Assessment 2024/25"
# The top-five tables print these spellings; the canonical names are those of ../shared/geodata/SOURCES.md
# ("the Rose Garden, the Amphitheatre, the River Steps, Brewer Street cemetery, Sutton Road cemetery").
PRINTED_PLACE_NAMES = {
    "Sutton Rd Cemetary": "Sutton Road cemetery",
    "Brewer St Cemetary": "Brewer Street cemetery",
    "Ampitheatre": "Amphitheatre",
    "River steps": "River Steps",
    "Rose Garden": "Rose Garden",
    "Whatman Park": "Whatman Park",
}
UNPLACED_NOTE = ("No published coordinates: named in the Strategic Assessment 2024/25 (paragraph 105) but found in "
                 "no source we could read (../shared/geodata/SOURCES.md). Place it on the map to place its records.")
NAME_AND_NOTE = re.compile(r"^(?P<name>.*?)\s*\((?P<note>[^()]*)\)\s*$")


@dataclass
class PlaceSeed:
    name: str
    lon: float
    lat: float
    note: str
    sources: list[dict[str, Any]] = field(default_factory=list)


def split_name(published: str) -> tuple[str, str]:
    """'Brenchley Gardens (point = … Cenotaph …)' -> ('Brenchley Gardens', 'point = … Cenotaph …')."""
    match = NAME_AND_NOTE.match(published.strip())
    if not match:
        return published.strip(), ""
    return match["name"].strip(), match["note"].strip()


def read_places(path: Path) -> list[PlaceSeed]:
    """Places of the shared gazetteer file, one per name, with every source row that names it."""
    fingerprint = file_checksum(path)[:12]
    places: dict[str, PlaceSeed] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name, note = split_name(row["name"])
            source = {"source": row["source"], "quoted_evidence": row["quoted_evidence"],
                      "name_as_published": row["name"], "lon": float(row["longitude"]),
                      "lat": float(row["latitude"]), "file": f"../shared/geodata/{path.name} line {line} "
                                                             f"sha256:{fingerprint}"}
            key = records.place_key(name)
            if key in places:
                places[key].sources.append(source)
                continue
            places[key] = PlaceSeed(name, source["lon"], source["lat"], note, [source])
    return list(places.values())


@dataclass
class NeedleSeed:
    seed_key: str
    values: dict[str, Any]
    place: str | None
    source: str


def needle_seeds(seed_dir: Path = SEED_DIR) -> list[NeedleSeed]:
    return _monthly_seeds(seed_dir) + _top_location_seeds(seed_dir)


def _monthly_seeds(seed_dir: Path) -> list[NeedleSeed]:
    table = read_seed_table("needle_finds_monthly", seed_dir)
    seed = seed_statistics()
    if seed is None:  # no partnership publishes the tables these figures come from
        return []
    seeds = []
    for row in table.rows:
        first, last = parse_observed(row["month"])
        notes = f"printed year total {row['printed_year_total']}"
        if row["count"] is None:
            notes += ("; the cell is empty in the published table (the other months sum to the printed total, so "
                      "zero is consistent, but the text does not say so)")
        seeds.append(NeedleSeed(
            f"needle_finds_monthly:{row['month']}",
            {"area_code": seed.district_code, "observed_from": first, "observed_to": last, "count": row["count"],
             "category": "monthly borough total", "notes": notes},
            None, f"{ASSESSMENT}, paragraph 104, seed text line {row['source_line']} "
                  "(geodata/seed/needle_finds_monthly.csv)"))
    return seeds


def _top_location_seeds(seed_dir: Path) -> list[NeedleSeed]:
    table = read_seed_table("needle_finds_top_locations", seed_dir)
    seeds = []
    for row in table.rows:
        year = int(row["year"])
        seeds.append(NeedleSeed(
            f"needle_finds_top_locations:{year}:{row['rank']}",
            {"observed_from": date(year, 1, 1), "observed_to": date(year, 12, 31), "count": row["count"],
             "category": "top-5 location (yearly total)", "place_name_given": row["place_name"],
             "notes": f"rank {row['rank']} of the top 5 locations, {row['printed_period']}"},
            PRINTED_PLACE_NAMES.get(row["place_name"], row["place_name"]),
            f"{ASSESSMENT}, paragraph 105, seed text line {row['source_line']} "
            "(geodata/seed/needle_finds_top_locations.csv)"))
    return seeds


def seed_hotspots(engine: Engine, geodata_dir: Path, log: Callable[[str], None] = print) -> None:
    """Load the gazetteer and the needle-find seed records that are not there yet."""
    with transaction(engine) as session:
        if store.get_layer(session, NEEDLE_LAYER) is None:
            return
        added_places = _seed_gazetteer(session, geodata_dir / PLACES_FILE)
        added_records = _seed_needle_finds(session)
    if added_places:
        log(f"gazetteer: {added_places} places from {PLACES_FILE} and the needle-find tables")
    if added_records:
        log(f"{NEEDLE_LAYER}: {added_records} records from geodata/seed/needle_finds_*.csv")


def _seed_gazetteer(session: Session, path: Path) -> int:
    shared = [p for p in store.places_in_scope(session, []) if p["layer_id"] is None]
    added = 0
    seeds = read_places(path) if path.is_file() else []
    for seed in seeds:
        if records.find_place(shared, seed.name) is None:
            place_id = store.create_place(session, name=seed.name, name_key=records.place_key(seed.name),
                                          layer_id=None, created_by=SEEDED_BY, lon=seed.lon, lat=seed.lat,
                                          note=seed.note, sources=seed.sources)
            shared.append({"id": place_id, "name": seed.name, "name_key": records.place_key(seed.name),
                           "aliases": [], "layer_id": None})
            added += 1
    for printed, name in PRINTED_PLACE_NAMES.items():
        found = records.find_place(shared, name)
        if found is None:
            place_id = store.create_place(
                session, name=name, name_key=records.place_key(name), layer_id=None, created_by=SEEDED_BY,
                note=UNPLACED_NOTE, aliases=[printed] if printed != name else [],
                sources=[{"source": f"{ASSESSMENT}, paragraph 105 (top five needle-find locations)",
                          "name_as_published": printed}])
            shared.append({"id": place_id, "name": name, "name_key": records.place_key(name),
                           "aliases": [printed], "layer_id": None})
            added += 1
    return added


def _seed_needle_finds(session: Session) -> int:
    layer = store.get_layer(session, NEEDLE_LAYER)
    existing = store.existing_seed_keys(session, "needle_finds_")
    resolver = records.PlaceResolver(session, layer, SEEDED_BY)
    added = 0
    for seed in needle_seeds():
        if seed.seed_key in existing:
            continue
        values = dict(seed.values)
        if seed.place:
            values["place_id"] = resolver.place_id(seed.place)
        records.insert_record(session, layer, values, SEEDED_BY, seed.source, seed.seed_key)
        added += 1
    if added:
        store.audit(session, SEEDED_BY, "system", "seed", NEEDLE_LAYER, added,
                    {"files": ["geodata/seed/needle_finds_monthly.csv",
                               "geodata/seed/needle_finds_top_locations.csv"]})
    return added
