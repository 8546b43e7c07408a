"""The map with England's 32,844 LSOAs classified (all crime, June 2022, every force) in headless Chromium: the client
as it is now (vector tiles above 2,000 areas, client/src/area-layer.js) against the client of a baseline commit
(one GeoJSON layer of every polygon, drawn as SVG), in one run on one server set-up.

Figures per client, medians of --runs cold loads (a new browser context each): first draw (navigation start to the
layer drawn: for tiles, every tile in view painted), the longest task blocking the page while it loads, the frame of
a pan and of a zoom (from the call to the second animation frame after it) and the time until the tiles or paths
settle, a click answered (pointer down to the popup in the page), and the JavaScript heap after the load (after a
garbage collection, through the DevTools protocol).

A throwaway PostgreSQL cluster under /tmp gets the Maidstone reference data, England's LSOAs and the all-forces
police.uk file for June 2022 from ../shared/bench-data. From the repository root (Debian's chromium, wrk not needed):
    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_map_england.py [--runs 3] [--baseline 40bbb53] [--write]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_features import BENCH_DATA, ENGLAND, ROOT, cli, environment, load_england, wait_for
from bench_serving import PG_BIN, cluster, free_port
from report import worktree_at, write_section

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Chromium 156 starts its omnibox popup (a WebUI page in a renderer of its own) with every new window, so with each
# cold load here: 2.4 s of CPU on a 2-core machine, in the middle of the page's first draw (a Chrome trace of one
# load). A browser in use starts it once. --omnibox-popup keeps it, to see its effect.
NO_OMNIBOX_POPUP = "--disable-features=WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup"
SECTION_TITLE = "## The map with England's LSOAs"
QUERY = f"set={ENGLAND}&metric=all-crime&period=2022-06&basemap=none&view=7/52.7/-1.6"
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: 'longtask', buffered: true });
"""
SETTLED = """() => {
  const tiles = [...document.querySelectorAll('.vector-areas canvas.leaflet-tile')];
  if (document.querySelector('.vector-areas')) return tiles.length > 0 && tiles.every(
      (t) => t.classList.contains('leaflet-tile-loaded'));
  return document.querySelector('#map[data-layer-state=ready]') !== null;
}"""
FRAME = """async (move) => {
  const map = window.cspAtlas.map;
  const start = performance.now();
  if (move === 'pan') map.panBy([240, 160], { animate: false });
  else map.setZoom(map.getZoom() + 1, { animate: false });
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
}"""
CLICK_WATCH = """() => {
  window.__clicked = new Promise((resolve) => {
    document.addEventListener('pointerdown', () => {
      const start = performance.now();
      const seen = () => {
        if (document.querySelector('.leaflet-popup-content')) { resolve(performance.now() - start); return true; }
        return false;
      };
      if (!seen()) new MutationObserver((_, observer) => { if (seen()) observer.disconnect(); })
        .observe(document.body, { childList: true, subtree: true });
    }, { capture: true, once: true });
  });
}"""


@dataclass
class Load:
    first_draw: float
    longest_task: float
    pan_frame: float
    pan_settled: float
    zoom_frame: float
    zoom_settled: float
    click: float
    heap_mb: float
    drawn_as: str


def settle(page) -> float:
    start = page.evaluate("performance.now()")
    page.wait_for_function(SETTLED, timeout=180_000, polling=16)
    return page.evaluate("performance.now()") - start


def one_load(browser, base: str) -> Load:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.add_init_script(LONG_TASKS)
    try:
        page.goto(f"{base}/?{QUERY}", timeout=300_000)
        page.wait_for_selector("#map[data-layer-state=ready]", timeout=300_000)
        page.wait_for_function(SETTLED, timeout=300_000, polling=16)
        drawn_as = page.evaluate("window.cspAtlas.layer()?.drawnAs ?? 'geojson'")  # the baseline has no drawnAs
        drawn = page.evaluate("""Math.max(...['atlas:layer-drawn', 'atlas:tiles-drawn'].map(
            (n) => performance.getEntriesByName(n)[0]?.startTime ?? 0))""")
        page.wait_for_timeout(500)
        longest = max((d for _, d in page.evaluate("window.__longTasks")), default=0)
        pan = page.evaluate(FRAME, "pan")
        pan_settled = settle(page)
        zoom = page.evaluate(FRAME, "zoom")
        zoom_settled = settle(page)
        page.evaluate(CLICK_WATCH)
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        click = page.evaluate("window.__clicked")
        session = context.new_cdp_session(page)
        session.send("HeapProfiler.collectGarbage")
        heap = session.send("Runtime.getHeapUsage")["usedSize"] / 1e6
        return Load(drawn, longest, pan, pan_settled, zoom, zoom_settled, click, heap, drawn_as)
    finally:
        context.close()


@contextmanager
def client_code(commit: str | None) -> Iterator[Path]:
    """The repository, or a worktree of `commit` sharing this one's npm packages."""
    if commit is None:
        yield ROOT
        return
    with worktree_at(commit) as path:
        (path / "client" / "node_modules").symlink_to(ROOT / "client" / "node_modules")
        yield path


@contextmanager
def served_in(code: Path, command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    process = subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(probe)
        yield
    finally:
        process.terminate()
        process.wait(30)


def measure(url: str, code: Path, runs: int, chromium_args: list[str]) -> list[Load]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # gunicorn puts its working directory first on sys.path: started in `code`, it serves that code
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
               "--worker-class", "gthread", "--threads", "8", "--timeout", "300", "--pythonpath", str(code),
               "server:create_app()"]
    loads = []
    with served_in(code, command, environment(url), f"{base}/api/health"), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             headless=True, args=chromium_args)
        one_load(browser, base)  # fills the server's caches, as on a running service
        for index in range(runs):
            loads.append(one_load(browser, base))
            print(f"{code.name}: load {index + 1}: {loads[-1]}", file=sys.stderr)
        browser.close()
    return loads


def row(name: str, loads: list[Load]) -> str:
    def med(field: str) -> float:
        return statistics.median(getattr(load, field) for load in loads)
    drawn_as = ", ".join(sorted({load.drawn_as for load in loads}))
    return (f"| {name} ({drawn_as}) | {med('first_draw'):,.0f} ms | {med('longest_task'):,.0f} ms | "
            f"{med('pan_frame'):,.0f} ms "
            f"({med('pan_settled'):,.0f} ms) | {med('zoom_frame'):,.0f} ms ({med('zoom_settled'):,.0f} ms) | "
            f"{med('click'):,.0f} ms | {med('heap_mb'):,.0f} MB |")


def section(args: argparse.Namespace, results: dict[str, list[Load]]) -> str:
    flags = (f" --runs {args.runs}" + (f" --baseline {args.baseline}" if args.baseline else "")
             + (" --omnibox-popup" if args.omnibox_popup else ""))
    popup = ("kept (--omnibox-popup)" if args.omnibox_popup else
             f"off (`{NO_OMNIBOX_POPUP}`: Chromium 156 starts it in\na renderer of its own with each new window, "
             "2.4 s of CPU during each cold load here; a browser in use starts it once)")
    rows = "\n".join(row(name, loads) for name, loads in results.items())
    return f"""## The map with England's LSOAs

England's 32,844 LSOAs classified (all crime, June 2022, every force's records placed) in Debian's headless Chromium
(1280 × 860, basemap none, the whole of England in view at zoom 7), served by gunicorn (2 workers × 8 threads) after
one warm-up load. Medians of {args.runs} cold loads (new browser context). First draw: navigation start to the layer
drawn (tiles: every tile in view painted). Longest task: the longest main-thread task during the load. Pan and zoom:
the call to the second animation frame after it (in brackets: until the tiles or paths in view are drawn). Click:
pointer down to the popup. Heap: JavaScript heap after the load and a garbage collection. Chromium's omnibox popup:
{popup}.

Targets: first draw ≤ 1.5 s, pan or zoom frame ≤ 100 ms, click ≤ 100 ms, heap ≤ 150 MB.

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()}; PostgreSQL
{PG_BIN.parent.name}; shared with other work, so figures move by up to ±30 % between runs.

Reproduce: `flock /tmp/bench.lock .venv/bin/python benchmarks/bench_map_england.py{flags} --write`

| client | first draw | longest task | pan frame (settled) | zoom frame (settled) | click | heap |
|---|---:|---:|---:|---:|---:|---:|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="cold loads per client (default 3)")
    parser.add_argument("--baseline", help="also measure the client of this commit (e.g. 40bbb53, before tiles)")
    parser.add_argument("--omnibox-popup", action="store_true", help="leave Chromium's omnibox popup on")
    parser.add_argument("--write", action="store_true", help="record the results in BENCHMARKS.md")
    args = parser.parse_args()
    results: dict[str, list[Load]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-map-england-") as scratch_dir:
        scratch = Path(scratch_dir)
        with cluster(scratch) as url:
            cli(url, "db", "upgrade")
            cli(url, "reference", "load")
            geojson = scratch / "england_lsoa_2011.geojson"
            geojson.write_bytes(gzip.decompress((BENCH_DATA / "england_lsoa_2011.geojson.gz").read_bytes()))
            load_england(url, geojson)
            cli(url, "crime", "import", str(BENCH_DATA / "all-forces-street-2022-06.csv.gz"))
            chromium_args = CHROMIUM_ARGS + ([] if args.omnibox_popup else [NO_OMNIBOX_POPUP])
            results["this commit"] = measure(url, ROOT, args.runs, chromium_args)
            if args.baseline:
                with client_code(args.baseline) as code:
                    results[f"commit {args.baseline}"] = measure(url, code, args.runs, chromium_args)
    text = section(args, results)
    print(text)
    if args.write:
        print(f"recorded in {write_section(SECTION_TITLE, text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
