"""OGC API – Features items and vector tiles of England's 32,844 LSOAs: /ogc (as shipped: the shared response cache,
and with the cache turned off, so every request is built by PostGIS) against tipg serving the same table with the same
requests, side by side in one run with wrk on loopback; and the whole of England at zoom 6 (every tile, bytes).

A throwaway PostgreSQL cluster under /tmp gets the Maidstone reference data and England's LSOAs from
../shared/bench-data. The app is served as scripts/run serves it (gunicorn, 2 workers x 8 threads); tipg (a dev
dependency) with uvicorn, 2 workers, its per-tile and per-query feature limits raised so it returns every feature.

Needs wrk (Debian), the project's .venv (requirements-dev.txt), ../shared. From the repository root:
    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_ogc.py [--duration 10] [--connections 4] [--write]
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_features import (
    BENCH_DATA,
    ENGLAND,
    ROOT,
    cli,
    environment,
    fetch,
    load_england,
    measure,
    psql,
    served,
    tipg,
    tipg_environment,
)
from bench_serving import PG_BIN, Wrk, cluster, free_port
from report import write_section

# The same requests to both servers: (label, our path, tipg's path). Tiles are z/y/x for us (OGC's
# tileMatrix/tileRow/tileCol), z/x/y for tipg.
LONDON_BBOX = "-0.20,51.45,0.00,51.55"


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2 ** zoom
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def requests() -> list[tuple[str, str, str]]:
    ours = f"/ogc/collections/{ENGLAND}"
    theirs = "/collections/public.areas"
    found = [
        ("items, first page of 1,000", f"{ours}/items?limit=1000",
         f"{theirs}/items?set_id={ENGLAND}&limit=1000"),
        ("items, page 20 of 1,000 (offset 19,000)", f"{ours}/items?limit=1000&offset=19000",
         f"{theirs}/items?set_id={ENGLAND}&limit=1000&offset=19000"),
        ("items in a London bbox (limit 1,000)", f"{ours}/items?limit=1000&bbox={LONDON_BBOX}",
         f"{theirs}/items?set_id={ENGLAND}&limit=1000&bbox={LONDON_BBOX}"),
    ]
    for zoom in (6, 10, 14):
        x, y = tile_of(-0.1, 51.5, zoom)
        found.append((f"tile z{zoom} (London)", f"{ours}/tiles/WebMercatorQuad/{zoom}/{y}/{x}",
                      f"{theirs}/tiles/WebMercatorQuad/{zoom}/{x}/{y}?set_id={ENGLAND}"))
    return found


@dataclass
class Row:
    request: str
    server: str
    first_ms: float
    kilobytes: float
    result: Wrk


def timed_fetch(url: str, headers: dict[str, str] | None = None) -> tuple[float, bytes]:
    began = time.perf_counter()
    body = fetch(url, headers)
    return (time.perf_counter() - began) * 1000, body


def measured(base: str, server: str, paths: list[tuple[str, str]], args: argparse.Namespace) -> list[Row]:
    rows = []
    for label, path in paths:
        first_ms, body = timed_fetch(base + path)
        print(f"{server}: {label}: first {first_ms:,.0f} ms, {len(body) / 1e3:,.0f} kB", file=sys.stderr)
        rows.append(Row(label, server, first_ms, len(body) / 1e3,
                        measure(base + path, args.connections, args.duration, gzip_accepted=False)))
    return rows


def zoom6_england(base: str, template: str, extent: tuple[float, float, float, float]) -> tuple[int, int, float]:
    """(tiles holding features, their bytes, seconds) for every zoom-6 tile over England's extent."""
    (x0, y1), (x1, y0) = tile_of(extent[0], extent[1], 6), tile_of(extent[2], extent[3], 6)
    began, tiles, size = time.perf_counter(), 0, 0
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            body = fetch(base + template.format(z=6, x=x, y=y))
            tiles += bool(body)
            size += len(body)
    return tiles, size, time.perf_counter() - began


def ours_command(port: int) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--worker-class", "gthread", "--threads", "8", "--timeout", "120", "server:create_app()"]


def run(url: str, args: argparse.Namespace) -> tuple[list[Row], dict[str, tuple[int, int, float]]]:
    rows: list[Row] = []
    coverage: dict[str, tuple[int, int, float]] = {}
    extent = tuple(float(v) for v in psql(url, f"SELECT ST_XMin(e) || ',' || ST_YMin(e) || ',' || ST_XMax(e) || ',' "
                                               f"|| ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM areas WHERE "
                                               f"set_id = '{ENGLAND}') x").split(","))
    variants = [("CSP Atlas /ogc (as shipped)", {}),
                ("CSP Atlas /ogc (cache off)", {"CSP_ATLAS_CACHE_BYTES": "0", "CSP_ATLAS_LOCAL_CACHE_BYTES": "0"})]
    for name, extra in variants:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with served(ours_command(port), {**environment(url), **extra}, f"{base}/api/health"):
            rows += measured(base, name, [(label, ours) for label, ours, _ in requests()], args)
            if "cache off" in name:
                coverage["CSP Atlas (built per request)"] = zoom6_england(
                    base, f"/ogc/collections/{ENGLAND}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}", extent)
    if not args.no_tipg:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**tipg_environment(url), "TIPG_MAX_FEATURES_PER_TILE": "100000"}
        with served(tipg(port), env, f"{base}/collections"):
            rows += measured(base, "tipg 1.6.1 (uvicorn, 2 workers)", [(label, t) for label, _, t in requests()], args)
            coverage["tipg 1.6.1"] = zoom6_england(
                base, f"/collections/public.areas/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?set_id={ENGLAND}", extent)
    return rows, coverage


def table(rows: list[Row]) -> str:
    lines = ["| request | server | first request | body | req/s | p50 | p99 | req/s vs tipg |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        tipg_row = next((r for r in rows if r.request == row.request and r.server.startswith("tipg")), None)
        relative = f"{row.result.requests_per_s / tipg_row.result.requests_per_s:.1f}×" if tipg_row else "—"
        lines.append(f"| {row.request} | {row.server} | {row.first_ms:,.0f} ms | {row.kilobytes:,.0f} kB | "
                     f"{row.result.requests_per_s:,.1f} | {row.result.p50_ms:,.1f} ms | {row.result.p99_ms:,.1f} ms | "
                     f"{relative} |")
    return "\n".join(lines)


def coverage_table(coverage: dict[str, tuple[int, int, float]]) -> str:
    lines = ["| server | zoom-6 tiles with features | bytes | time, one after another |", "|---|---:|---:|---:|"]
    for name, (tiles, size, seconds) in coverage.items():
        lines.append(f"| {name} | {tiles} | {size / 1e6:,.2f} MB | {seconds:,.1f} s |")
    return "\n".join(lines)


def section(args: argparse.Namespace, rows: list[Row], coverage: dict) -> str:
    flags = f" --duration {args.duration} --connections {args.connections}{' --no-tipg' if args.no_tipg else ''}"
    tiles = [r for r in rows if r.request.startswith("tile") and r.server.endswith("(as shipped)")]
    warm = max(r.result.p50_ms for r in tiles) if tiles else float("nan")
    return f"""## OGC API – Features and Tiles

England's 32,844 LSOAs through `/ogc` and through tipg serving the same table (`public.areas`, filtered by
`set_id`), the same requests to both: pages of items (GeoJSON assembled by PostGIS) and Mapbox Vector Tiles
(`ST_AsMVT`; ours simplified to the zoom's grid, tipg's not). "As shipped" answers repeated requests from the shared
response cache (by data version, with ETags); "cache off" builds every answer (CSP_ATLAS_CACHE_BYTES=0,
CSP_ATLAS_LOCAL_CACHE_BYTES=0). gunicorn 2 workers × 8 threads; tipg uvicorn 2 workers with
TIPG_MAX_FEATURES_PER_TILE=100000. wrk on loopback, {args.connections} connections, {args.duration} s per request,
no Accept-Encoding. "First request" is one request before the run (for us as shipped: the build into the cache).

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()}; PostgreSQL
{PG_BIN.parent.name}; shared with other work, so figures move by up to ±30 % between runs.

Reproduce: `flock /tmp/bench.lock .venv/bin/python benchmarks/bench_ogc.py{flags} --write`

{table(rows)}

England at zoom 6 (every tile over its extent, fetched one after another; empty tiles not counted):

{coverage_table(coverage)}

Warm tile p50 as shipped: {warm:,.1f} ms at most (target ≤ 10 ms).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--no-tipg", action="store_true", help="leave tipg out")
    parser.add_argument("--write", action="store_true", help="record the results in BENCHMARKS.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="bench-ogc-") as scratch_dir:
        scratch = Path(scratch_dir)
        with cluster(scratch) as url:
            cli(url, "db", "upgrade")
            cli(url, "reference", "load")
            geojson = scratch / "england_lsoa_2011.geojson"
            geojson.write_bytes(gzip.decompress((BENCH_DATA / "england_lsoa_2011.geojson.gz").read_bytes()))
            load_england(url, geojson)
            psql(url, "ANALYZE")
            rows, coverage = run(url, args)
    text = section(args, rows, coverage)
    print(text)
    if args.write:
        print(f"recorded in {write_section('## OGC API – Features and Tiles', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
