"""Boundary features: `GET /api/boundary-sets/{set}/features` (GeoJSON assembled by PostGIS, in the shared response
cache) against one plain json_agg(ST_AsGeoJSON) query, the Python-built body it replaced and tipg serving the same
table, in one run with wrk on loopback; and the time to load England's 32,844 LSOAs with the Kent and all-forces
police.uk files imported, whose placement (the `nearest` step) took most of the load before.

A throwaway PostgreSQL cluster under /tmp gets the Maidstone reference data (and, for --sets england or --load, the
LSOAs of England from ../shared/bench-data). The app is served as scripts/run serves it (gunicorn, 2 workers x 8
threads) with three extra routes of this file for the comparison on the same server:
  /bench/json-agg/{set}  the baseline: one plain json_agg query per request, its text sent as it comes
  /bench/built/{set}     our query (store.area_features_geojson) per request, past the cache
  /bench/python/{set}    the route before: store.area_features (json.loads of each geometry) and jsonify
tipg (a dev dependency) serves the same table with uvicorn, 2 workers.

Needs wrk (Debian), the project's .venv (requirements-dev.txt), ../shared. From the repository root:
    .venv/bin/python benchmarks/bench_features.py [--sets wards-2024,lsoa-2011,england] [--duration 10]
        [--connections 4] [--no-tipg] [--load] [--baseline COMMIT] [--write]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serving import PG_BIN, Wrk, cluster, free_port, parse_wrk
from report import ROOT, worktree_at, write_section

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
BENCH_DATA = SHARED / "bench-data"
PYTHON = ROOT / ".venv" / "bin" / "python"
ENGLAND = "england-lsoa-2011"
ENGLAND_AGAIN = "england-lsoa-2011-again"
CRIME_FILES = ("kent-street-2022-01-to-11.csv.gz", "all-forces-street-2022-06.csv.gz")
UNLIMITED = ",".join(f"{b}=100000000/60" for b in ("analysis", "maps", "exports", "figure-packs", "uploads"))
GEOJSON = "application/geo+json"

# The baseline: the same areas in one json_agg query, nothing joined, ordered or reoriented.
JSON_AGG_SQL = """
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', code, 'properties', json_build_object('code', code, 'name', name),
        'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'::json))::text
    FROM areas WHERE set_id = :id"""


@dataclass
class Row:
    set_id: str
    implementation: str
    features: int
    megabytes: float
    plain: Wrk
    gzip: Wrk | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="wards-2024,lsoa-2011,england",
                        help="boundary sets to serve, comma separated; 'england' loads England's LSOAs "
                             "(default wards-2024,lsoa-2011,england)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--no-tipg", action="store_true", help="leave tipg out")
    parser.add_argument("--load", action="store_true",
                        help="import the Kent and all-forces crime files first and time the England LSOA load")
    parser.add_argument("--baseline", help="also time the England LSOA load with the code of this commit (a git "
                                           "worktree), before today's; d6ec82e is the code before the placement "
                                           "change (about 15 minutes)")
    parser.add_argument("--write", action="store_true", help="record the results in BENCHMARKS.md")
    return parser.parse_args()


# --- the app with the comparison routes (gunicorn imports this module and calls bench_app) ----------------------

def bench_app():
    from flask import Response, jsonify
    from sqlalchemy import text

    from server import create_app
    from server.api import engine
    from server.store import boundaries as store
    from server.store.db import transaction

    app = create_app()

    @app.get("/bench/json-agg/<set_id>")
    def json_agg(set_id: str) -> Response:
        with transaction(engine()) as db:
            return Response(db.execute(text(JSON_AGG_SQL), {"id": set_id}).scalar_one(), mimetype=GEOJSON)

    @app.get("/bench/built/<set_id>")
    def built(set_id: str) -> Response:
        with transaction(engine()) as db:
            return Response(store.area_features_geojson(db, set_id), mimetype=GEOJSON)

    @app.get("/bench/python/<set_id>")
    def python_built(set_id: str) -> Response:
        with transaction(engine()) as db:
            found = store.get_boundary_set(db, set_id)
            features = store.area_features(db, set_id)
        iso = {key: found[key].isoformat() if found[key] else None for key in ("valid_from", "valid_to")}
        return jsonify({"type": "FeatureCollection", "features": features,
                        "boundary_set": {"id": set_id, "title": found["title"], **iso, "licence": found["licence"]}})

    return app


# --- data -------------------------------------------------------------------------------------------------------

def environment(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "CSP_ATLAS_SECRET_KEY": "bench", "SHARED_DIR": str(SHARED),
            "CSP_ATLAS_RATE_LIMITS": UNLIMITED, "CSP_ATLAS_JOBS": "inline"}


def cli(url: str, *args: str, code: Path = ROOT) -> float:
    """Run a server.cli command with the code in `code`; returns its wall time in seconds."""
    began = time.perf_counter()
    subprocess.run([str(PYTHON), "-m", "server.cli", *args], cwd=code, env=environment(url), check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def psql(url: str, sql: str) -> str:
    return subprocess.run([str(PG_BIN / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def load_england(url: str, geojson: Path, set_id: str = ENGLAND, code: Path = ROOT) -> float:
    return cli(url, "boundaries", "load", str(geojson), "--set", set_id, "--kind", "lsoa", "--code-field",
               "LSOA11CD", "--name-field", "LSOA11NM", "--title", "LSOAs 2011 (England)", code=code)


def placement_steps(log: Path, since: int, set_id: str) -> dict[str, float]:
    """Seconds of each placement statement for the set, from the server log (log_min_duration_statement)."""
    entries = re.split(r"\n(?=\S+ \S+ UTC \[\d+\] LOG:)", log.read_text(errors="replace")[since:])
    steps: dict[str, float] = {}
    for entry in entries:
        found = re.search(r"duration: ([\d.]+) ms", entry)
        method = re.search(r"'(within|lsoa_code|nearest)' FROM", entry)
        if found and method and f"'{set_id}'" in entry:
            steps[method.group(1)] = float(found.group(1)) / 1000
    return steps


@contextmanager
def worktree(commit: str | None) -> Iterator[Path | None]:
    if commit is None:
        yield None
        return
    with worktree_at(commit) as path:
        yield path


def timed_load(url: str, geojson: Path, log: Path, set_id: str, code: Path) -> tuple[float, dict[str, float]]:
    psql(url, "ANALYZE")  # as autovacuum will have on a running service: the set being loaded is unknown to it
    since = log.stat().st_size
    seconds = load_england(url, geojson, set_id, code)
    return seconds, placement_steps(log, since, set_id)


def timed_loads(url: str, geojson: Path, log: Path, baseline: str | None) -> list[tuple[str, str, float, dict]]:
    """England's LSOAs loaded into a database that holds Maidstone's sets, then again as a second national set (as a
    2021 set would come after the 2011 one): each with the baseline's code (when asked), undone, then today's."""
    psql(url, "ALTER SYSTEM SET log_min_duration_statement = 200")
    psql(url, "SELECT pg_reload_conf()")
    timings = []
    with worktree(baseline) as old_code:
        codes = ([(f"before ({baseline})", old_code)] if old_code else []) + [("today", ROOT)]
        for scenario, set_id in (("first national set", ENGLAND), ("second national set", ENGLAND_AGAIN)):
            for name, code in codes:
                seconds, steps = timed_load(url, geojson, log, set_id, code)
                timings.append((scenario, name, seconds, steps))
                if set_id == ENGLAND_AGAIN or name != "today":
                    psql(url, f"DELETE FROM boundary_sets WHERE id = '{set_id}'")
    return timings


# --- serving and measuring --------------------------------------------------------------------------------------

def wait_for(url: str) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def served(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(probe)
        yield
    finally:
        process.terminate()
        process.wait(30)


def ours(url: str, port: int) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--worker-class", "gthread", "--threads", "8", "--timeout", "120", "--pythonpath",
            str(ROOT / "benchmarks"), "bench_features:bench_app()"]


def tipg(port: int) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2", "--log-level", "warning"]


def tipg_environment(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "TIPG_DB_TABLES": '["public.areas"]',
            "TIPG_MAX_FEATURES_PER_QUERY": "100000", "TIPG_DB_MAX_CONN_SIZE": "10"}


def fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=300) as response:
        return response.read()


def measure(url: str, connections: int, duration: int, gzip_accepted: bool) -> Wrk:
    headers = {"Accept-Encoding": "gzip"} if gzip_accepted else {}
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--timeout", "120s", "--latency"]
    command += [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    result = parse_wrk(subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout)
    if result.requests:
        return result
    began = time.perf_counter()  # none finished within the run: one request timed on its own instead
    fetch(url, headers)
    seconds = time.perf_counter() - began
    return Wrk(requests_per_s=1 / seconds, non_2xx=0, socket_errors=0, p50_ms=seconds * 1000,
               p99_ms=seconds * 1000, requests=0)


def measured_row(set_id: str, implementation: str, url: str, args: argparse.Namespace, with_gzip: bool) -> Row:
    body = fetch(url)  # warms the cache (and checks the answer) before the timed runs
    features = len(json.loads(body)["features"])
    print(f"{set_id}: {implementation}: {features} features, {len(body) / 1e6:.1f} MB", file=sys.stderr)
    plain = measure(url, args.connections, args.duration, gzip_accepted=False)
    zipped = measure(url, args.connections, args.duration, gzip_accepted=True) if with_gzip else None
    return Row(set_id, implementation, features, len(body) / 1e6, plain, zipped)


def throughput(db_url: str, sets: list[str], args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**environment(db_url), "PYTHONPATH": str(ROOT)}
    with served(ours(db_url, port), env, f"{base}/api/health"):
        for set_id in sets:
            rows.append(measured_row(set_id, "features route (as shipped)",
                                     f"{base}/api/boundary-sets/{set_id}/features", args, with_gzip=True))
            rows.append(measured_row(set_id, "our query per request (no cache)", f"{base}/bench/built/{set_id}",
                                     args, with_gzip=False))
            rows.append(measured_row(set_id, "baseline: one plain json_agg query", f"{base}/bench/json-agg/{set_id}",
                                     args, with_gzip=True))
            rows.append(measured_row(set_id, "route before (Python json.loads)", f"{base}/bench/python/{set_id}",
                                     args, with_gzip=False))
    if not args.no_tipg:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with served(tipg(port), tipg_environment(db_url), f"{base}/collections"):
            for set_id in sets:
                rows.append(measured_row(set_id, "tipg 1.6.1 (uvicorn, 2 workers)",
                                         f"{base}/collections/public.areas/items?set_id={set_id}&limit=100000",
                                         args, with_gzip=True))
    return rows


# --- report -----------------------------------------------------------------------------------------------------

def by(rows: list[Row], set_id: str, prefix: str) -> Row | None:
    return next((r for r in rows if r.set_id == set_id and r.implementation.startswith(prefix)), None)


def rate(result: Wrk | None) -> str:
    if result is None:
        return "—"
    return f"{result.requests_per_s:,.2f}" + ("" if result.requests else "¹")


def throughput_table(rows: list[Row]) -> str:
    lines = ["| set | features | implementation | body | req/s | p50 | req/s, gzip accepted | req/s / json_agg |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        relative = row.plain.requests_per_s / by(rows, row.set_id, "baseline").plain.requests_per_s
        lines.append(f"| {row.set_id} | {row.features:,} | {row.implementation} | {row.megabytes:,.2f} MB | "
                     f"{rate(row.plain)} | {row.plain.p50_ms:,.0f} ms | {rate(row.gzip)} | {relative:.2f}× |")
    if any("¹" in line for line in lines):
        lines.append("\n¹ no request finished within the run: one request timed on its own.")
    return "\n".join(lines)


def verdicts(rows: list[Row], sets: list[str]) -> str:
    lines = []
    for set_id in sets:
        shipped, built = by(rows, set_id, "features route"), by(rows, set_id, "our query")
        baseline, tipg_row = by(rows, set_id, "baseline"), by(rows, set_id, "tipg")
        text = (f"- {set_id}: as shipped {shipped.plain.requests_per_s / baseline.plain.requests_per_s:.2f}× the "
                f"json_agg baseline (target ≥ 0.8×), our query without the cache "
                f"{built.plain.requests_per_s / baseline.plain.requests_per_s:.2f}×")
        if tipg_row:
            text += (f"; {shipped.plain.requests_per_s / tipg_row.plain.requests_per_s:.1f}× tipg's throughput, "
                     f"{built.plain.requests_per_s / tipg_row.plain.requests_per_s:.1f}× without the cache "
                     f"(target ≥ 1.5×)")
        lines.append(text + ".")
    return "\n".join(lines)


def load_table(timings: list[tuple[str, str, float, dict]]) -> str:
    lines = ["| load | code | wall time | within | lsoa_code | nearest |", "|---|---|---:|---:|---:|---:|"]
    for scenario, name, seconds, steps in timings:
        cells = " | ".join(f"{steps[s]:,.1f} s" if s in steps else "< 0.2 s"
                           for s in ("within", "lsoa_code", "nearest"))
        lines.append(f"| {scenario} | {name} | {seconds:,.1f} s | {cells} |")
    return "\n".join(lines)


def section(args: argparse.Namespace, sets: list[str], rows: list[Row], timings: list, records: int) -> str:
    flags = (f" --sets {args.sets} --duration {args.duration} --connections {args.connections}"
             f"{' --no-tipg' if args.no_tipg else ''}{' --load' if args.load else ''}"
             f"{f' --baseline {args.baseline}' if args.baseline else ''}")
    text = f"""## Boundary features

`GET /api/boundary-sets/{{set}}/features` sends a FeatureCollection that PostGIS assembles in one query (json_agg of
`ST_AsGeoJSON(…, 6)`, the same properties and order as before, proven equal in tests/test_features_geojson.py), kept
gzip-compressed in the shared response cache with an ETag. Compared on one server (gunicorn, 2 workers × 8 threads)
with a plain json_agg query of the same areas per request (the baseline), our query per request past the cache, and
the route before (Python json.loads of each geometry); and with tipg serving the same table (uvicorn, 2 workers,
`/collections/public.areas/items?set_id=…`, its default 9-decimal coordinates and a count query). wrk on loopback,
{args.connections} connections, {args.duration} s per run; "req/s" without Accept-Encoding (nothing compressed), then
with gzip accepted (the app and tipg compress per response; the features route sends its cached gzip).

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()}; PostgreSQL
{PG_BIN.parent.name}; shared with other work, so figures move by up to ±30 % between runs.

Reproduce: `.venv/bin/python benchmarks/bench_features.py{flags} --write`

{throughput_table(rows)}

{verdicts(rows, sets)}
"""
    if timings:
        text += f"""
Loading England's 32,844 LSOAs (`python -m server.cli boundaries load england_lsoa_2011.geojson --set
{ENGLAND} --kind lsoa …`, the file gunzipped to /tmp) with {records:,} police.uk records loaded (Maidstone, Kent
Jan–Nov 2022, all forces June 2022), after ANALYZE as on a running service: first into a database holding Maidstone's
sets, then again as a second national set (`--set {ENGLAND_AGAIN}`, as a 2021 set would follow the 2011 one). The
placement steps are the statements' durations in the server log; the planner's statistics never know the set being
loaded, and how the old steps fared depended on what else they knew. The `lsoa_code` and `nearest` steps now only search
polygons and records inside the set's extent, and find their areas through the GiST index alone.

{load_table(timings)}

Target: the load within 60 s. Today: {max(t[2] for t in timings if t[1] == "today"):,.1f} s at most.
"""
    return text


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    sets = [ENGLAND if s == "england" else s for s in args.sets.split(",")]
    timings: list = []
    records = 0
    with tempfile.TemporaryDirectory(prefix="bench-features-") as scratch_dir:
        scratch = Path(scratch_dir)
        with cluster(scratch) as url:
            cli(url, "db", "upgrade")
            cli(url, "reference", "load")
            if ENGLAND in sets or args.load:
                geojson = scratch / "england_lsoa_2011.geojson"
                geojson.write_bytes(gzip.decompress((BENCH_DATA / "england_lsoa_2011.geojson.gz").read_bytes()))
                if args.load:
                    print("importing the Kent and all-forces files", file=sys.stderr)
                    cli(url, "crime", "import", *(str(BENCH_DATA / name) for name in CRIME_FILES))
                    records = int(psql(url, "SELECT count(*) FROM crime_records"))
                    timings = timed_loads(url, geojson, scratch / "pg.log", args.baseline)
                else:
                    load_england(url, geojson)
            rows = throughput(url, sets, args)
    text = section(args, sets, rows, timings, records)
    print(text)
    if args.write:
        print(f"recorded in {write_section('## Boundary features', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
