"""Benchmark the map client in headless Chromium with the real data: first paint, layer drawn, ready, hotspots.

Starts the app with gunicorn on a free loopback port against DATABASE_URL (which must hold the reference data and the
police.uk records: scripts/atlas reference load), opens the map with basemap=none in Debian's chromium through
Playwright (never a downloaded browser) and reads the Performance API: first-contentful-paint, the client's marks
(atlas:layer-drawn, atlas:ready, atlas:hotspots-drawn), long tasks and resource timings. Each figure is the median of
several cold loads (a new browser context, so an empty cache): a laptop viewport, a phone (360 px wide, CPU slowed
4x through the DevTools protocol), and the hotspot view with every police.uk record (metric=all-crime,asb) as heat
map and clustered markers. Also sizes the JavaScript the browser loads. Prints a Markdown section; --write puts it in
BENCHMARKS.md.

Run from the repository root: DATABASE_URL=postgresql://… .venv/bin/python benchmarks/bench_client.py [--write]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from report import write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION_TITLE = "## Map client"
TARGET_MS = 2000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VENDOR_JS = {
    "leaflet": ROOT / "client/node_modules/leaflet/dist/leaflet.js",
    "leaflet.heat (loaded on first use)": ROOT / "client/node_modules/leaflet.heat/dist/leaflet-heat.js",
    "leaflet.markercluster (loaded on first use)":
        ROOT / "client/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js",
}
# Long tasks are only reported to observers that exist when they happen: register one before the page's scripts.
LONG_TASKS = """
window.__longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
} catch (error) {}
"""
QUIET_MS = 1000


@dataclass
class Load:
    fcp: float
    layer: float
    ready: float
    tti: float
    js_bytes: int
    api_bytes: int
    extra: dict[str, float] = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per scenario (default 5)")
    parser.add_argument("--write", action="store_true", help="put the results in BENCHMARKS.md at the repository root")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "CSP_ATLAS_SECRET_KEY": "bench"}
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--threads", "4", "--bind",
                               f"127.0.0.1:{port}", "--log-level", "warning", "server:create_app()"],
                              cwd=ROOT, env=env)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the app did not start; is DATABASE_URL set and loaded?")


def warm_up(base: str) -> None:
    """Fill the server's layer and points caches, as on a running service (the first request after a start or an
    import computes them; that cost is measured separately)."""
    for path in ("/api/metrics", "/api/boundary-sets",
                 "/api/layers/wards-2024?metric=all-crime&measure=count&method=natural_breaks&k=5",
                 "/api/crime/points?metric=all-crime%2Casb"):
        urllib.request.urlopen(base + path, timeout=60).read()


def timed_get(url: str) -> float:
    start = time.perf_counter()
    urllib.request.urlopen(url, timeout=60).read()
    return (time.perf_counter() - start) * 1000


def mark(page, name: str) -> float:
    return page.evaluate(f"performance.getEntriesByName('{name}')[0]?.startTime ?? NaN")


def tti(page, ready: float) -> float:
    """atlas:ready, or the end of the last long task before a QUIET_MS window without long tasks (an approximation
    of Lighthouse's time to interactive, which also wants the network quiet)."""
    page.wait_for_timeout(QUIET_MS)
    tasks = page.evaluate("window.__longTasks")
    end = ready
    for start, duration in sorted(tasks):
        if start > end + QUIET_MS:
            break
        end = max(end, start + duration)
    return end


def resource_bytes(page) -> tuple[int, int]:
    entries = page.evaluate("""() => performance.getEntriesByType('resource').map(
        (e) => [e.name, e.encodedBodySize, e.transferSize])""")
    js = sum(size for name, size, _ in entries if name.endswith(".js"))
    api = sum(size for name, size, _ in entries if "/api/" in name)
    return js, api


def cold_load(browser, url: str, viewport: dict, slowdown: float = 1, hotspots: bool = False) -> Load:
    mobile = viewport["width"] < 500
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile,
                                  device_scale_factor=2 if mobile else 1)
    context.add_init_script(LONG_TASKS)
    page = context.new_page()
    try:
        if slowdown > 1:
            session = context.new_cdp_session(page)
            session.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
        page.goto(url)
        page.wait_for_function("() => performance.getEntriesByName('atlas:ready').length > 0", timeout=60000)
        extra = {}
        if hotspots:
            page.wait_for_function("() => performance.getEntriesByName('atlas:hotspots-drawn').length > 0",
                                   timeout=60000)
            extra["hotspots"] = mark(page, "atlas:hotspots-drawn")
            extra["points"] = page.evaluate("window.cspAtlas.hotspots.data.metadata.count")
            extra["markers"] = page.evaluate("""async () => {
                const map = window.cspAtlas.map;
                const start = performance.now();
                map.setView([51.2725, 0.522], 15, { animate: false });
                const done = '#map[data-markers-state=ready] .crime-cluster';
                while (!document.querySelector(done)) await new Promise((r) => requestAnimationFrame(r));
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                return performance.now() - start;
            }""")
        ready = mark(page, "atlas:ready")
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")
        js_bytes, api_bytes = resource_bytes(page)
        return Load(fcp, mark(page, "atlas:layer-drawn"), ready, tti(page, ready), js_bytes, api_bytes, extra)
    finally:
        context.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(value: float) -> str:
    return f"{value:,.0f} ms"


def kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB"


def payload_rows() -> list[tuple[str, int, int, int]]:
    ours = sorted((ROOT / "client/src").glob("*.js"))
    rows = [("our ES modules (client/src/*.js)", len(ours), sum(p.stat().st_size for p in ours),
             sum(len(gzip.compress(p.read_bytes(), 9)) for p in ours))]
    for name, path in VENDOR_JS.items():
        rows.append((name, 1, path.stat().st_size, len(gzip.compress(path.read_bytes(), 9))))
    return rows


def machine() -> str:
    chromium = subprocess.run([shutil.which("chromium") or "/usr/bin/chromium", "--version"], capture_output=True,
                              text=True).stdout.strip()
    return (f"Machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}; Python "
            f"{platform.python_version()} on {platform.system()} {platform.release()}; {chromium} (headless); "
            "server: gunicorn, 2 workers × 4 threads, on the same machine.")


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a database loaded with scripts/atlas reference load")
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        cold_layer = timed_get(f"{base}/api/layers/wards-2024?metric=all-crime&measure=count&method=natural_breaks&k=5")
        cold_points = timed_get(f"{base}/api/crime/points?metric=all-crime%2Casb")
        warm_up(base)
        warm_points = timed_get(f"{base}/api/crime/points?metric=all-crime%2Casb")
        scenarios = [
            ("laptop 1280×860", f"{base}/?basemap=none", {"width": 1280, "height": 860}, 1, False),
            ("phone 360×740, CPU ÷4", f"{base}/?basemap=none", {"width": 360, "height": 740}, 4, False),
            ("laptop, hotspots on (heat + markers, every record)",
             f"{base}/?basemap=none&heat=1&markers=1&hmetric=all-crime,asb", {"width": 1280, "height": 860}, 1, True),
            ("phone, hotspots on, CPU ÷4",
             f"{base}/?basemap=none&heat=1&markers=1&hmetric=all-crime,asb", {"width": 360, "height": 740}, 4, True),
        ]
        results: dict[str, list[Load]] = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                 headless=True, args=CHROMIUM_ARGS)
            for name, url, viewport, slowdown, hotspots in scenarios:
                results[name] = [cold_load(browser, url, viewport, slowdown, hotspots) for _ in range(args.runs)]
                print(f"{name}: done", file=sys.stderr)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    lines = [SECTION_TITLE, "",
             "The map page (`/?basemap=none`, the 22 wards of 2024 shaded by all recorded crime) loaded cold in "
             "Debian's headless Chromium through Playwright, against the real Maidstone data (16,496 police.uk "
             "records). Times are from navigation start, medians of "
             f"{args.runs} cold loads (new browser context each time): first contentful paint, the classified layer "
             "drawn (`atlas:layer-drawn`), the controls live (`atlas:ready`) and time to interactive (approx.: "
             f"`atlas:ready` or the end of the last long task before {QUIET_MS} ms without one). The server's layer "
             "and points caches are warm, as on a running service.", "",
             machine(), "",
             "Reproduce, with the Maidstone data loaded (e.g. after `scripts/run`, whose private cluster listens on "
             "port 54330): `DATABASE_URL=postgresql://atlas_app:$(cat var/db-passwords/atlas_app)@127.0.0.1:54330/"
             "atlas .venv/bin/python benchmarks/bench_client.py --write` (without `--write` it only prints).", "",
             "| scenario | first paint | layer drawn | ready | TTI (approx.) | JS loaded | API data |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, loads in results.items():
        lines.append(f"| {name} | {ms(median([x.fcp for x in loads]))} | {ms(median([x.layer for x in loads]))} | "
                     f"{ms(median([x.ready for x in loads]))} | {ms(median([x.tti for x in loads]))} | "
                     f"{kib(int(median([x.js_bytes for x in loads])))} | "
                     f"{kib(int(median([x.api_bytes for x in loads])))} |")
    lines += ["", "Hotspots with every record (`hmetric=all-crime,asb`; the markers are only built when the map is "
              "first zoomed to 14 or closer):", "",
              "| scenario | points | heat map drawn (from navigation) "
              "| zoom to 15: markers built and drawn (from the zoom) |",
              "|---|---:|---:|---:|"]
    for name, loads in results.items():
        if "hotspots" in loads[0].extra:
            lines.append(f"| {name} | {int(loads[0].extra['points']):,} | "
                         f"{ms(median([x.extra['hotspots'] for x in loads]))} | "
                         f"{ms(median([x.extra['markers'] for x in loads]))} |")
    lines += ["", f"Server, first request after a start (cache cold): the default layer {ms(cold_layer)}, every "
              f"point {ms(cold_points)}; points from the cache {ms(warm_points)} (gzipped GeoJSON).", "",
              "JavaScript payload (files as served; gzip -9 for reference, the app serves them uncompressed):", "",
              "| what | files | bytes | gzip |", "|---|---:|---:|---:|"]
    rows = payload_rows()
    for name, files, size, zipped in rows:
        lines.append(f"| {name} | {files} | {size:,} | {zipped:,} |")
    first = [r for r in rows if "first use" not in r[0]]
    lines.append(f"| **first load (ours + leaflet)** | {sum(r[1] for r in first)} | {sum(r[2] for r in first):,} | "
                 f"{sum(r[3] for r in first):,} |")
    lines.append(f"| all, with the hotspot libraries | {sum(r[1] for r in rows)} | {sum(r[2] for r in rows):,} | "
                 f"{sum(r[3] for r in rows):,} |")
    worst = max(median([x.layer for x in loads]) for loads in results.values())
    lines += ["", f"Target: the shaded wards within {TARGET_MS:,} ms. "
              + (f"This run meets it: at most {ms(worst)} to the layer drawn." if worst < TARGET_MS
                 else f"This run misses it: {ms(worst)} to the layer drawn.")]
    text = "\n".join(line if line.startswith(("|", "#")) else textwrap.fill(line, 118, break_long_words=False,
                                                                          break_on_hyphens=False)
                     for line in lines) + "\n"
    print(text)
    if args.write:
        print(f"written to {write_section(SECTION_TITLE, text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
