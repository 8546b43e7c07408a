"""OGC API – Features items and vector tiles of England's 32,844 LSOAs: /ogc as shipped against tipg serving the same
table, the same requests side by side in one run with wrk on loopback (gzip accepted, as browsers and QGIS do):
- cold: thousands of distinct requests (zoom-12 tiles, 0.05° boxes of items) in a fixed random order, so every
  answer is built (our cache starts empty for them);
- warm: one request repeated (ours answered from the shared response cache, tipg builds each);
- the whole of England at zoom 6: every tile, one after another, bytes and time.

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
import random
import shutil
import subprocess
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
    psql,
    served,
    tipg,
    tipg_environment,
)
from bench_serving import PG_BIN, Wrk, cluster, free_port, parse_wrk
from report import write_section

# The same requests to both servers: (label, our path, tipg's path). Tiles are z/y/x for us (OGC's
# tileMatrix/tileRow/tileCol), z/x/y for tipg.
LONDON_BBOX = "-0.20,51.45,0.00,51.55"
OURS = "CSP Atlas /ogc"
TIPG = "tipg 1.6.1 (uvicorn, 2 workers)"


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
    first_ms: float | None
    kilobytes: float | None
    result: Wrk
    distinct: int | None = None


ENGLAND_BOX = (-5.8, 49.9, 1.8, 55.9)


def cold_tiles(count: int) -> list[tuple[int, int, int]]:
    """(z, x, y) of `count` distinct zoom-12 tiles over England, in a fixed random order."""
    (x0, y1), (x1, y0) = tile_of(ENGLAND_BOX[0], ENGLAND_BOX[1], 12), tile_of(ENGLAND_BOX[2], ENGLAND_BOX[3], 12)
    tiles = [(12, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    random.Random(11).shuffle(tiles)
    return tiles[:count]


def cold_boxes(count: int) -> list[str]:
    step = 0.05
    boxes = [f"{ENGLAND_BOX[0] + i * step:.2f},{ENGLAND_BOX[1] + j * step:.2f},"
             f"{ENGLAND_BOX[0] + (i + 1) * step:.2f},{ENGLAND_BOX[1] + (j + 1) * step:.2f}"
             for i in range(int((ENGLAND_BOX[2] - ENGLAND_BOX[0]) / step))
             for j in range(int((ENGLAND_BOX[3] - ENGLAND_BOX[1]) / step))]
    random.Random(12).shuffle(boxes)
    return boxes[:count]


def cold_requests(count: int = 4000) -> list[tuple[str, list[str], list[str]]]:
    ours, theirs = f"/ogc/collections/{ENGLAND}", "/collections/public.areas"
    tiles, boxes = cold_tiles(count), cold_boxes(count)
    return [
        ("cold: distinct zoom-12 tiles over England",
         [f"{ours}/tiles/WebMercatorQuad/{z}/{y}/{x}" for z, x, y in tiles],
         [f"{theirs}/tiles/WebMercatorQuad/{z}/{x}/{y}?set_id={ENGLAND}" for z, x, y in tiles]),
        ("cold: items in distinct 0.05° boxes (limit 1,000)", [f"{ours}/items?limit=1000&bbox={b}" for b in boxes],
         [f"{theirs}/items?set_id={ENGLAND}&limit=1000&bbox={b}" for b in boxes]),
    ]


def timed_fetch(url: str) -> tuple[float, bytes]:
    began = time.perf_counter()
    body = fetch(url, {"Accept-Encoding": "gzip"})
    return (time.perf_counter() - began) * 1000, body


def lua_paths(path: Path, paths: list[str]) -> Path:
    listing = path.with_suffix(".txt")
    listing.write_text("\n".join(paths) + "\n")
    path.write_text(f"""local paths = {{}}
for line in io.lines("{listing}") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, paths[((i - 1) % #paths) + 1])
end
""")
    return path


def wrk_run(base: str, args: argparse.Namespace, path: str | None = None, script: Path | None = None) -> Wrk:
    command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.duration}s", "--timeout", "120s",
               "--latency", "-H", "Accept-Encoding: gzip"]
    if script:
        command += ["-s", str(script)]
    return parse_wrk(subprocess.run([*command, base + (path or "/")], capture_output=True, text=True,
                                    check=True).stdout)


def measured(base: str, server: str, mine: bool, args: argparse.Namespace, scratch: Path) -> list[Row]:
    rows = []
    for label, ours, theirs in cold_requests():
        paths = ours if mine else theirs
        result = wrk_run(base, args, script=lua_paths(scratch / f"{'ours' if mine else 'tipg'}-{len(rows)}.lua", paths))
        rows.append(Row(label, server, None, None, result, len(paths)))
        print(f"{server}: {label}: {result.requests} requests", file=sys.stderr)
    for label, ours, theirs in requests():
        path = ours if mine else theirs
        first_ms, body = timed_fetch(base + path)
        print(f"{server}: {label}: first {first_ms:,.0f} ms, {len(body) / 1e3:,.0f} kB", file=sys.stderr)
        rows.append(Row(f"warm: {label}", server, first_ms, len(body) / 1e3, wrk_run(base, args, path)))
    return rows


def zoom6_england(base: str, template: str, extent: tuple[float, ...]) -> tuple[int, int, float]:
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


def run(url: str, args: argparse.Namespace, scratch: Path) -> tuple[list[Row], dict[str, tuple[int, int, float]]]:
    rows: list[Row] = []
    coverage: dict[str, tuple[int, int, float]] = {}
    extent = tuple(float(v) for v in psql(url, f"SELECT ST_XMin(e) || ',' || ST_YMin(e) || ',' || ST_XMax(e) || ',' "
                                               f"|| ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM areas WHERE "
                                               f"set_id = '{ENGLAND}') x").split(","))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with served(ours_command(port), environment(url), f"{base}/api/health"):
        coverage[OURS] = zoom6_england(
            base, f"/ogc/collections/{ENGLAND}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}", extent)
        rows += measured(base, OURS, True, args, scratch)
    if not args.no_tipg:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**tipg_environment(url), "TIPG_MAX_FEATURES_PER_TILE": "100000"}
        with served(tipg(port), env, f"{base}/collections"):
            coverage[TIPG] = zoom6_england(
                base, f"/collections/public.areas/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?set_id={ENGLAND}", extent)
            rows += measured(base, TIPG, False, args, scratch)
    return rows, coverage


def table(rows: list[Row]) -> str:
    lines = ["| request | server | first request | body | requests | req/s | p50 | p99 | req/s vs tipg |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        tipg_row = next((r for r in rows if r.request == row.request and r.server == TIPG), None)
        relative = f"{row.result.requests_per_s / tipg_row.result.requests_per_s:.1f}×" if tipg_row else "—"
        first = f"{row.first_ms:,.0f} ms" if row.first_ms is not None else "—"
        body = f"{row.kilobytes:,.0f} kB" if row.kilobytes is not None else "—"
        count = f"{row.result.requests:,}" + (f" of {row.distinct:,} distinct" if row.distinct else "")
        lines.append(f"| {row.request} | {row.server} | {first} | {body} | {count} | "
                     f"{row.result.requests_per_s:,.1f} | {row.result.p50_ms:,.1f} ms | {row.result.p99_ms:,.1f} ms | "
                     f"{relative} |")
    return "\n".join(lines)


def coverage_table(coverage: dict[str, tuple[int, int, float]]) -> str:
    lines = ["| server | zoom-6 tiles with features | bytes (uncompressed) | time, one after another |",
             "|---|---:|---:|---:|"]
    for name, (tiles, size, seconds) in coverage.items():
        lines.append(f"| {name} | {tiles} | {size / 1e6:,.2f} MB | {seconds:,.1f} s |")
    return "\n".join(lines)


def section(args: argparse.Namespace, rows: list[Row], coverage: dict) -> str:
    flags = f" --duration {args.duration} --connections {args.connections}{' --no-tipg' if args.no_tipg else ''}"
    tiles = [r for r in rows if r.request.startswith("warm: tile") and r.server == OURS]
    warm = max(r.result.p50_ms for r in tiles) if tiles else float("nan")
    return f"""## OGC API – Features and Tiles

England's 32,844 LSOAs through `/ogc` and through tipg serving the same table (`public.areas`, filtered by
`set_id`), the same requests to both: items (GeoJSON assembled by PostGIS) and Mapbox Vector Tiles (`ST_AsMVT`; ours
simplified to the zoom's grid, tipg's not). Cold: {args.duration} s of distinct requests in a fixed random order (none
repeated: every answer built, ours then stored in the shared cache). Warm: one request repeated (ours from the shared
response cache by data version, tipg built each time); "first request" is one request before the run. gunicorn
2 workers × 8 threads; tipg uvicorn 2 workers with TIPG_MAX_FEATURES_PER_TILE=100000. wrk on loopback,
{args.connections} connections, Accept-Encoding: gzip.

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()}; PostgreSQL
{PG_BIN.parent.name}; shared with other work, so figures move by up to ±30 % between runs.

Reproduce: `flock /tmp/bench.lock .venv/bin/python benchmarks/bench_ogc.py{flags} --write`

{table(rows)}

England at zoom 6 (every tile over its extent, each built on request, one after another; empty tiles not counted):

{coverage_table(coverage)}

Warm tile p50: {warm:,.1f} ms at most (target ≤ 10 ms).
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
            rows, coverage = run(url, args, scratch)
    text = section(args, rows, coverage)
    print(text)
    if args.write:
        print(f"recorded in {write_section('## OGC API – Features and Tiles', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
