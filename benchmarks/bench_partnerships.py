"""Benchmark many partnerships in one deployment: Kent and Medway's 13 districts (and a county partnership over all
of them) set up from the bench files, the Kent file imported once, against a Maidstone-only deployment in the same run.

Two databases, made empty beforehand (e.g. /tmp/devdb/reset.sh atlas_bench_m; /tmp/devdb/reset.sh atlas_bench_p): the
script takes DATABASE_URL and CSP_ATLAS_OWNER_DATABASE_URL from the environment with their database swapped for each.
Both get the reference data (Maidstone, the default partnership, with its 2022 crime); the county one then gets the
other 12 districts and `kent` (all 13 codes) with `partnership create`; both import
kent-street-2022-01-to-11.csv.gz once. Then for each partnership's default set: the all-crime layer for 2022, cold
(the data version bumped first, so no memoised aggregate is reused) and warm (median of 3).

Run from the repository root:
  flock /tmp/bench.lock .venv/bin/python benchmarks/bench_partnerships.py [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import pyogrio
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import write_section  # noqa: E402

from server.config import normalise_database_url  # noqa: E402
from server.domain.layers import LayerRequest, build_layer  # noqa: E402
from server.domain.partnership_setup import DistrictFile, checked_setup, create_partnership  # noqa: E402
from server.domain.police_import import import_police_files, open_police_files  # noqa: E402
from server.domain.reference import load_reference_data  # noqa: E402
from server.store import partnerships as partnership_store  # noqa: E402
from server.store.db import engine_for, transaction, upgrade_schema  # noqa: E402

SECTION_TITLE = "## Partnerships: Kent and Medway in one deployment"
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
BENCH = SHARED / "bench-data"
WARDS, LSOAS = BENCH / "kent_wards_2013.geojson", BENCH / "england_lsoa_2011.geojson.gz"
IMD = BENCH / "imd2019_lsoa.csv"
KENT = BENCH / "kent-street-2022-01-to-11.csv.gz"
PERIOD = "2022-01/2022-11"


def urls(database: str) -> tuple[str, str]:
    """(app URL, owner URL) of the environment's cluster with `database` instead of theirs."""
    app = make_url(normalise_database_url(os.environ["DATABASE_URL"])).set(database=database)
    owner = make_url(normalise_database_url(os.environ["CSP_ATLAS_OWNER_DATABASE_URL"])).set(database=database)
    return app.render_as_string(hide_password=False), owner.render_as_string(hide_password=False)


def districts() -> dict[str, str]:
    """LAD code -> district name, from the LSOA names ("Swale 001A"), for the codes in the Kent wards file."""
    kent = set(pyogrio.read_dataframe(WARDS, columns=["LAD_CODE"], read_geometry=False)["LAD_CODE"])
    lsoas = pyogrio.read_dataframe(f"/vsigzip/{LSOAS.resolve()}", columns=["LSOA11NM", "LAD_CODE"],
                                   read_geometry=False)
    names = {}
    for name, code in zip(lsoas["LSOA11NM"], lsoas["LAD_CODE"], strict=True):
        if code in kent:
            names[code] = re.sub(r"\s+\d{3}[A-Z]$", "", name)
    return dict(sorted(names.items()))


def prepare(database: str) -> tuple[Engine, Engine]:
    app_url, owner_url = urls(database)
    upgrade_schema(owner_url, app_url, log=lambda _m: None)
    app = engine_for(app_url)
    load_reference_data(app, SHARED / "geodata", log=lambda _m: None)
    return app, engine_for(owner_url)


def set_up_districts(engine: Engine, names: dict[str, str]) -> list[tuple[str, float, int]]:
    """Every district but the default one's, then the county: (slug, seconds, areas of its sets)."""
    with transaction(engine) as session:
        default_lads = set(partnership_store.default_partnership(session)["lad_codes"])
    wanted = [(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"), [code], f"{name} Community Safety Partnership")
              for code, name in names.items() if code not in default_lads]
    wanted.append(("kent", list(names), "Kent and Medway county"))
    timings = []
    for slug, lads, name in wanted:
        setup = checked_setup(slug, name, lads, wards=DistrictFile(WARDS, "LAD_CODE", "WD13CD", "WD13NM"),
                              lsoas=DistrictFile(LSOAS, "LAD_CODE", "LSOA11CD", "LSOA11NM"), imd=IMD)
        report = create_partnership(engine, setup, log=lambda _m: None)
        timings.append((slug, report.seconds, _areas(engine, slug)))
        print(f"  set up {slug}: {report.seconds:.1f} s", flush=True)
    return timings


def _areas(engine: Engine, slug: str) -> int:
    with transaction(engine) as session:
        return sum(row["feature_count"] for row in partnership_store.partnership_set_rows(session, slug))


def import_kent(engine: Engine) -> tuple[float, int]:
    began = time.perf_counter()
    summary = import_police_files(engine, open_police_files([(KENT, KENT.name)]))
    return time.perf_counter() - began, summary.total.inserted


def layer_times(app: Engine, owner: Engine) -> dict[str, tuple[str, float, float]]:
    """slug -> (default set, cold median seconds, warm median seconds), 3 runs each."""
    with transaction(app) as session:
        partnerships = [(p["slug"], p["default_set"]) for p in partnership_store.list_partnerships(session)]
    result = {}
    for slug, set_id in partnerships:
        cold = []
        for _ in range(3):
            with transaction(owner) as session:
                session.execute(text("UPDATE data_version SET version = version + 1"))
            cold.append(_timed(app, set_id))
        result[slug] = (set_id, statistics.median(cold), statistics.median(_timed(app, set_id) for _ in range(3)))
    return result


def _timed(engine: Engine, set_id: str) -> float:
    began = time.perf_counter()
    with transaction(engine) as session:
        layer = build_layer(session, LayerRequest(set_id=set_id, metric="all-crime", period=PERIOD))
    assert layer["features"], set_id
    return time.perf_counter() - began


def report_text(single: dict, county: dict, setups: list, imports: dict, command: str) -> str:
    lines = [SECTION_TITLE, "",
             f"`{command}` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d')}. Both deployments load the reference data (Maidstone, the default "
             "partnership, with its 2022 police.uk files); the county one then sets up the other 12 Kent and Medway "
             "districts and `kent` (all 13) from the bench files; each imports the Kent file (186k rows) once. "
             f"Layer: all-crime, {PERIOD}, on the partnership's default set, through the domain function "
             "(`build_layer`); cold = first build after the data version changed (no memoised aggregate reused), "
             "warm = the next builds; median of 3 of each.", "",
             "| deployment | sets | Kent import (s) | rows inserted |", "|---|---:|---:|---:|"]
    for name, (seconds, inserted, sets) in imports.items():
        lines.append(f"| {name} | {sets} | {seconds:.1f} | {inserted:,} |")
    lines += ["", "| partnership | set-up (s) | areas | default set | layer cold (s) | layer warm (s) |",
              "|---|---:|---:|---|---:|---:|"]
    setup_of = {slug: (seconds, areas) for slug, seconds, areas in setups}
    for slug, (set_id, cold, warm) in single.items():
        lines.append(f"| {slug} (Maidstone-only deployment) | (reference load) | | {set_id} | {cold:.3f} | "
                     f"{warm:.3f} |")
    for slug, (set_id, cold, warm) in county.items():
        seconds, areas = setup_of.get(slug, (None, None))
        lines.append(f"| {slug} | {f'{seconds:.1f}' if seconds is not None else '(reference load)'} | "
                     f"{areas if areas is not None else ''} | {set_id} | {cold:.3f} | {warm:.3f} |")
    (_set, single_cold, single_warm), (_set2, county_cold, county_warm) = single["maidstone"], county["maidstone"]
    lines += ["", f"Reading it: Maidstone's layer takes {county_cold:.2f} s cold and {county_warm:.3f} s warm with "
              f"{len(county)} partnerships against {single_cold:.2f} s and {single_warm:.3f} s alone: a layer reads "
              "its own set's summaries, so it does not grow with the number of partnerships, and every district's "
              "layer costs about the same. The import does grow: each record is placed in every boundary set "
              f"({imports['Kent and Medway'][2]} sets against {imports['Maidstone only'][2]}), so it is paid once per "
              "set, at import time. Set-up time is mostly reading the national LSOA file (27 MB gzipped, read twice: "
              "its district codes, then the district's features)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single-db", default="atlas_bench_m", help="database of the Maidstone-only deployment")
    parser.add_argument("--county-db", default="atlas_bench_p", help="database of the Kent and Medway deployment")
    parser.add_argument("--write", action="store_true", help="put the results in BENCHMARKS.md")
    args = parser.parse_args()
    names = districts()
    print(f"{len(names)} districts in {WARDS.name}", flush=True)
    single_app, single_owner = prepare(args.single_db)
    county_app, county_owner = prepare(args.county_db)
    setups = set_up_districts(county_app, names)
    imports = {}
    for label, engine in (("Maidstone only", single_app), ("Kent and Medway", county_app)):
        seconds, inserted = import_kent(engine)
        with transaction(engine) as session:
            sets = session.execute(text("SELECT count(*) FROM boundary_sets")).scalar_one()
        imports[label] = (seconds, inserted, sets)
        print(f"  import into {label}: {seconds:.1f} s", flush=True)
    single, county = layer_times(single_app, single_owner), layer_times(county_app, county_owner)
    text_out = report_text(single, county, setups, imports,
                           "flock /tmp/bench.lock .venv/bin/python benchmarks/bench_partnerships.py --write")
    print(text_out)
    if args.write:
        write_section(SECTION_TITLE, text_out)


if __name__ == "__main__":
    main()
