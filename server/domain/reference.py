"""Reference data: the partnerships described in geodata/partnerships/*.json, their files, loaded idempotently."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from server.config import ROOT
from server.domain import interpolation, partnerships
from server.domain.annotations import load_annotations, load_layer_statistics
from server.domain.boundary_files import file_checksum, read_boundary_file, store_boundary_set
from server.domain.hotspot_seed import seed_hotspots
from server.domain.partnership_setup import IMD_SOURCE, read_imd_rows
from server.domain.police_import import PoliceFile, import_police_files
from server.domain.seed_tables import (
    BOROUGH_GEOGRAPHY,
    CLUSTER_GEOGRAPHY,
    SEED_DIR,
    SEED_TABLES,
    WARD_GEOGRAPHY,
    SeedTableInfo,
    implied_population,
    read_seed_table,
)
from server.store import boundaries as store
from server.store import crime as crime_store
from server.store import frames
from server.store import partnerships as partnership_store
from server.store import statistics as statistics_store
from server.store.db import transaction

PARTNERSHIP_DIR = partnerships.DEFINITIONS_DIR


def read_cluster_definitions(path: Path) -> list[store.ClusterDefinition]:
    rows = csv.DictReader(line for line in path.open(encoding="utf-8") if not line.startswith("#"))
    clusters: dict[int, store.ClusterDefinition] = {}
    for row in rows:
        number = int(row["cluster_number"])
        cluster = clusters.setdefault(number, store.ClusterDefinition(number, row["cluster_type"], []))
        cluster.members.append(row["ward_code"])
    return [clusters[n] for n in sorted(clusters)]


def load_reference_data(engine: Engine, geodata_dir: Path, log: Callable[[str], None] = print) -> bool:
    """Load every reference set whose source changed, then clusters and IMD. False if data is absent."""
    if not geodata_dir.is_dir():
        log(f"no reference data at {geodata_dir}; load boundaries with 'scripts/atlas boundaries load'")
        return False
    definitions = partnerships.definitions(PARTNERSHIP_DIR)
    for definition in definitions:
        _load_partnership(engine, geodata_dir, definition, log)
        if definition.clusters:
            _load_clusters_if_changed(engine, definition.clusters, log)
    seed = partnerships.seed_statistics()
    if seed:
        load_seed_statistics(engine, log, seed)
    seed_hotspots(engine, geodata_dir, log)
    load_annotations(engine, log)
    load_layer_statistics(engine, log)
    if seed:
        _derive_populations_if_missing(engine, seed, log)
    _import_new_crime_files(engine, sorted((geodata_dir / "crime").glob("*.csv")), log)
    return True


def _load_partnership(engine: Engine, geodata_dir: Path, definition: partnerships.PartnershipDefinition,
                      log: Callable[[str], None]) -> None:
    """A partnership's boundary sets and deprivation from its files, then the partnership itself."""
    for entry in definition.sets:
        _load_set_if_changed(engine, geodata_dir / entry.file, entry.meta, log)
    if definition.imd_file:
        _load_imd_if_changed(engine, geodata_dir / definition.imd_file, log)
    with transaction(engine) as session:
        partnership_store.upsert_partnership(session, definition.slug, definition.name, definition.lad_codes,
                                             is_default=definition.is_default)
        partnership_store.replace_partnership_sets(session, definition.slug, [s.meta.id for s in definition.sets],
                                                   definition.default_set)


def _import_new_crime_files(engine: Engine, paths: list[Path], log: Callable[[str], None]) -> None:
    """Import the police.uk files not imported before (by checksum); re-running changes nothing."""
    with transaction(engine) as session:
        known = crime_store.imported_checksums(session)
    new_files = [f for f in (PoliceFile(path) for path in paths) if f.checksum not in known]
    if not new_files:
        return
    summary = import_police_files(engine, new_files, imported_by="reference data")
    total = summary.total
    log(f"police.uk crime: {len(new_files)} files, {total.rows_read} rows read, {total.inserted} inserted, "
        f"{total.duplicates} duplicates, {total.no_location} without location")


def _load_set_if_changed(engine: Engine, path: Path, meta: store.BoundarySetMeta,
                         log: Callable[[str], None]) -> None:
    with transaction(engine) as session:
        if store.boundary_set_checksum(session, meta.id) == file_checksum(path):
            log(f"{meta.id}: up to date")
            return
    data = read_boundary_file(path, code_field=meta.code_field, name_field=meta.name_field)
    with transaction(engine) as session:
        report = store_boundary_set(session, meta, data)
    log(f"{meta.id}: loaded {report.features} areas from {path.name} ({report.repaired} repaired)")


def _load_clusters_if_changed(engine: Engine, spec: partnerships.ClusterSpec, log: Callable[[str], None]) -> None:
    """The published clusters of one ward set (once), and the same clusters derived for the partnership's other ward
    sets by largest overlap."""
    definitions = read_cluster_definitions(ROOT / "geodata" / spec.file)
    with transaction(engine) as session:
        if store.get_boundary_set(session, spec.set_id) is None:
            return
        if not store.has_clusters(session, spec.set_id):
            store.replace_clusters(session, spec.set_id, definitions, spec.source)
            log(f"{spec.set_id}: {len(definitions)} ward clusters from {spec.file}")
        for target in spec.derive_to:
            if store.get_boundary_set(session, target) and not store.has_clusters(session, target):
                assigned = store.derive_clusters(session, target, spec.set_id)
                log(f"{target}: clusters derived by largest overlap for {len(assigned)} wards")


def _load_imd_if_changed(engine: Engine, path: Path, log: Callable[[str], None]) -> None:
    if not path.is_file():
        return
    rows = read_imd_rows(path)
    source = f"{IMD_SOURCE} [{path.name} sha256:{file_checksum(path)[:12]}]"
    with transaction(engine) as session:
        if store.deprivation_up_to_date(session, [row["code"] for row in rows], source):
            return
        count = store.upsert_deprivation(session, rows, source)
    log(f"IMD 2019: {count} LSOAs")


SEED_POPULATION_SOURCE = ("Derived estimate: Table 1 recorded crimes 2023 ÷ Table 2 crimes per 1,000 residents × "
                          "1,000 (Strategic Assessment 2024/25; the assessment used 2021 ward populations; rates are "
                          "printed as whole numbers, so each estimate carries up to ±2% rounding error)")


def _seed_rows(info: SeedTableInfo, district_code: str) -> list[statistics_store.StatisticRow]:
    table = read_seed_table(info.name)
    if info.geography == WARD_GEOGRAPHY:
        return [statistics_store.StatisticRow(r["ward_code"], r["year"], r[info.value_column]) for r in table.rows]
    if info.geography == CLUSTER_GEOGRAPHY:
        return [statistics_store.StatisticRow(str(r["cluster_number"]), r["year"], r[info.value_column])
                for r in table.rows if not r["is_total"]]
    return [statistics_store.StatisticRow(district_code, int(r["month"][:4]), r[info.value_column],
                                          int(r["month"][5:]))
            for r in table.rows]


def load_seed_statistics(engine: Engine, log: Callable[[str], None] = print,
                         seed: partnerships.SeedSpec | None = None) -> None:
    """The partnership's tables (geodata/seed/*.csv) as statistics, reloaded when a file changes; the borough-wide
    series under the district code its description gives."""
    seed = seed or partnerships.seed_statistics()
    if seed is None:
        return
    for info in SEED_TABLES.values():
        if info.geography not in (WARD_GEOGRAPHY, CLUSTER_GEOGRAPHY, BOROUGH_GEOGRAPHY):
            continue
        path = SEED_DIR / info.file
        fingerprint = file_checksum(path)[:12]
        source = f"{info.title}, Strategic Assessment 2024/25 [geodata/seed/{info.file} sha256:{fingerprint}]"
        with transaction(engine) as session:
            if statistics_store.metric_source(session, info.slug) == source:
                continue
            count = statistics_store.replace_metric(session, info.slug, info.geography,
                                                    _seed_rows(info, seed.district_code), source)
        log(f"{info.slug}: {count} figures from geodata/seed/{info.file}")


def _derive_populations_if_missing(engine: Engine, seed: partnerships.SeedSpec, log: Callable[[str], None]) -> None:
    """Populations for rates: implied by the published tables for their ward set, interpolated by area for the
    partnership's other ward sets. A population that GIS staff loaded (not derived) is never replaced."""
    with transaction(engine) as session:
        if not store.get_boundary_set(session, seed.ward_set):
            return
        if statistics_store.populations(session, seed.ward_set) is None:
            statistics_store.replace_populations(session, seed.ward_set, implied_population(2023),
                                                 seed.population_year, SEED_POPULATION_SOURCE, derived=True)
            log(f"{seed.ward_set}: population derived from Tables 1 and 2")
        for target in seed.population_derive_to:
            if store.get_boundary_set(session, target):
                _interpolate_population(session, seed.ward_set, target, log)


def _interpolate_population(session, source_set: str, target_set: str, log: Callable[[str], None]) -> None:
    source_population = statistics_store.populations(session, source_set)
    existing = statistics_store.populations(session, target_set)
    if source_population is None or (existing is not None and not existing.derived):
        return
    fingerprint = hashlib.sha256(repr(sorted(source_population.values.items())).encode()).hexdigest()[:12]
    source = f"Interpolated by area from the {source_set} population [{source_set} population {fingerprint}]"
    if existing is not None and existing.source == source:
        return
    estimate = interpolation.area_weighted(frames.areas(session, source_set), frames.areas(session, target_set),
                                           source_population.values)
    statistics_store.replace_populations(session, target_set, estimate.values, source_population.year or 0,
                                         source, derived=True)
    log(f"{target_set}: population interpolated by area from {source_set}")
