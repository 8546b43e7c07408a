"""Police.uk crime import, today's code against the code before the column-wise import (a git worktree of
--baseline), side by side in one run: the Kent (January-November 2022) and all-forces (June 2022) files imported in
one transaction with placement in every boundary set, on a throwaway PostgreSQL cluster per variant holding the
Maidstone reference data (3 boundary sets, 16,496 records). The import is timed inside one Python process
(open_police_files + import_police_files, as `scripts/atlas crime import` calls them), then a re-import of the same
files (every row a duplicate). Afterwards the two databases must hold the same records and the same placements.

Needs: the project's .venv and ../shared. Run from the repository root:
    .venv/bin/python benchmarks/bench_import.py [--baseline 40bbb53] [--write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serving import PG_BIN, PYTHON, SHARED, cluster, environment
from report import ROOT, worktree_at, write_section

FILES = [SHARED / "bench-data" / name for name in ("kent-street-2022-01-to-11.csv.gz",
                                                  "all-forces-street-2022-06.csv.gz")]

# Run in the variant's own code: import the files once and then again, printing the timings as JSON.
TIMED_IMPORT = """
import json, os, sys, time
from pathlib import Path
from server.config import normalise_database_url
from server.domain.police_import import import_police_files, open_police_files
from server.store.db import engine_for
engine = engine_for(normalise_database_url(os.environ["DATABASE_URL"]))
paths = [Path(p) for p in sys.argv[1:]]
result = {}
for run in ("import", "re-import"):
    began = time.perf_counter()
    summary = import_police_files(engine, open_police_files([(p, p.name) for p in paths]))
    result[run] = {"seconds": time.perf_counter() - began, "rows": summary.total.rows_read,
                   "inserted": summary.total.inserted, "unplaced": summary.total.unplaced}
print(json.dumps(result))
"""

DIGESTS = {
    "records": """SELECT identity, crime_id, month, reported_by, falls_within, longitude, latitude, location, lsoa_code,
                         lsoa_name, crime_type, crime_type_slug, last_outcome, context, ST_AsEWKB(geom)
                  FROM crime_records ORDER BY identity""",
    "placements": """SELECT r.identity, p.set_id, p.area_code, p.method FROM crime_placements p
                     JOIN crime_records r ON r.id = p.record_id ORDER BY 1, 2""",
    "order": "SELECT identity FROM crime_records ORDER BY id",
}


@dataclass
class Variant:
    name: str
    code: Path
    runs: dict = field(default_factory=dict)
    digests: dict = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="40bbb53", help="the code before the column-wise import (40bbb53)")
    parser.add_argument("--write", action="store_true", help="record the results in BENCHMARKS.md")
    return parser.parse_args()


def run_in(variant: Variant, url: str, *args: str) -> str:
    return subprocess.run([str(PYTHON), *args], cwd=variant.code, env=environment(url), check=True,
                          capture_output=True, text=True).stdout


def digest(url: str, sql: str) -> str:
    """sha256 of the query's rows as psql prints them."""
    output = subprocess.run([str(PG_BIN / "psql"), url, "-AtqX", "-c", sql], check=True, capture_output=True).stdout
    return hashlib.sha256(output).hexdigest()


def run_variant(variant: Variant) -> None:
    with tempfile.TemporaryDirectory(prefix=f"bench-import-{variant.name}-") as scratch, cluster(Path(scratch)) as url:
        run_in(variant, url, "-m", "server.cli", "db", "upgrade")
        run_in(variant, url, "-m", "server.cli", "reference", "load")
        print(f"{variant.name}: importing", file=sys.stderr)
        variant.runs = json.loads(run_in(variant, url, "-c", TIMED_IMPORT, *map(str, FILES)))
        variant.digests = {name: digest(url, sql) for name, sql in DIGESTS.items()}


def section(args: argparse.Namespace, variants: list[Variant]) -> str:
    baseline, now = variants
    same = {name: baseline.digests[name] == now.digests[name] for name in DIGESTS}
    rows = ["| variant | import (s) | rows/s | re-import (s) | rows/s | inserted | unplaced per set |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for v in variants:
        first, again = v.runs["import"], v.runs["re-import"]
        unplaced = ", ".join(f"{s} {n:,}" for s, n in sorted(first["unplaced"].items()))
        rows.append(f"| {v.name} | {first['seconds']:.1f} | {first['rows'] / first['seconds']:,.0f} | "
                    f"{again['seconds']:.1f} | {again['rows'] / again['seconds']:,.0f} | {first['inserted']:,} | "
                    f"{unplaced} |")
    speedup = baseline.runs["import"]["seconds"] / now.runs["import"]["seconds"]
    return f"""## Crime import

The Kent (January–November 2022) and all-forces (June 2022) police.uk files, {now.runs['import']['rows']:,} rows,
imported in one transaction with placement in every boundary set, on a throwaway cluster per variant holding the
Maidstone reference data (3 boundary sets, 16,496 records), timed inside one Python process (`open_police_files` +
`import_police_files`, what `scripts/atlas crime import` runs); then the same files again (every row a duplicate).
"now" is the column-wise import; "baseline" is commit {args.baseline} (row-by-row reading, every new record taken
through all three placement steps of every set). Both databases then hold the same records (identical:
{same['records']}), in the same order of ids (identical: {same['order']}), and the same placements (identical:
{same['placements']}).

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()}; PostgreSQL
{PG_BIN.parent.name}; the machine's 2 cores were shared with other work during the run.

Reproduce: `.venv/bin/python benchmarks/bench_import.py --baseline {args.baseline} --write`

{chr(10).join(rows)}

Import, now against baseline: {speedup:.1f}× faster.
"""


def main() -> None:
    args = parse_args()
    with worktree_at(args.baseline) as old_code:
        variants = [Variant("baseline", old_code), Variant("now", ROOT)]
        for variant in variants:
            run_variant(variant)
    text = section(args, variants)
    print(text)
    if args.write:
        print(f"recorded in {write_section('## Crime import', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
