"""Serving under load, today's code against the code as shipped before (a git worktree of --baseline), side by side
in one run on loopback: a mixed load of wrk clients, 4 of them sending heavy unique Gi* requests, while single
connections measure /api/health and a warm layer. With --big, the Kent and all-forces police.uk files are imported
first and a cold 22-ward layer and /api/metrics are timed.

Each variant gets its own throwaway PostgreSQL cluster under /tmp with the Maidstone reference data, and is served
as scripts/run serves it (baseline: 2 sync gunicorn workers; now: threaded workers and a job worker).
Needs: wrk (Debian), the project's .venv, ../shared. Run from the repository root:
    .venv/bin/python benchmarks/bench_serving.py [--clients 50,200] [--duration 15] [--big] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import ROOT, worktree_at, write_section

SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
BIG_FILES = ("kent-street-2022-01-to-11.csv.gz", "all-forces-street-2022-06.csv.gz")
UNLIMITED = ",".join(f"{b}=100000000/60" for b in ("analysis", "maps", "exports", "figure-packs", "uploads"))

# Today's mix: layers with varied parameters, features, metrics, crime points, static maps, health.
METRICS = ("all-crime", "asb", "burglary", "violence-and-sexual-offences", "vehicle-crime", "shoplifting")
PERIODS = ("2022", "2022-06", "2022-01/2022-06", "2022-07/2022-11")
MIX = ([f"/api/layers/{s}?metric={m}&period={p}&k={k}" for s in ("wards-2024", "wards-2013", "lsoa-2011")
        for m in METRICS for p in PERIODS for k in (4, 5)]
       + [f"/api/boundary-sets/{s}/features" for s in ("wards-2024", "wards-2013", "lsoa-2011")] * 8
       + ["/api/metrics"] * 16 + [f"/api/crime/points?metric={m}&period=2022-06" for m in METRICS] * 2
       + [f"/api/maps/wards-2024.png?metric={m}&period={p}&width=800&height=600&dpi=100" for m in METRICS[:3]
          for p in PERIODS[:2]] + ["/api/health"] * 16)
WARM_LAYER = "/api/layers/wards-2024?metric=all-crime&period=2022"
HEAVY = "/api/hotspots/gi?geography=hex&cell=300&permutations=999&period=2022-06&seed="


@dataclass
class Wrk:
    requests_per_s: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    requests: int
    server_errors: int = 0
    completed: int = 0


@dataclass
class Variant:
    name: str
    code: Path
    workers: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Wrk]] = field(default_factory=dict)
    big: dict[str, float] = field(default_factory=dict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="33f4e6a", help="the commit as shipped before (default 33f4e6a)")
    parser.add_argument("--clients", default="4,50,200", help="wrk connections of the mixed load, comma separated "
                                                             "(4: the heavy clients alone)")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each load run (default 15)")
    parser.add_argument("--big", action="store_true", help="also import the Kent and all-forces files and time a "
                                                          "cold layer and /api/metrics")
    parser.add_argument("--write", action="store_true", help="record the results in BENCHMARKS.md")
    parser.add_argument("--workers", type=int, default=2, help="today's gunicorn workers (default 2, as scripts/run)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8, as scripts/run)")
    parser.add_argument("--only-now", action="store_true", help="today's code only, to try settings (no table)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@contextmanager
def cluster(scratch: Path):
    """A throwaway PostgreSQL cluster (trust on loopback: a benchmark's, nothing to protect) with database atlas."""
    data, port = scratch / "pgdata", free_port()
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(scratch, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "atlas", "--auth=trust", "-E", "UTF8",
                               "--locale=C.UTF-8"), check=True, stdout=subprocess.DEVNULL)
    subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(scratch / "pg.log"), "-w", "-o",
                               f"-p {port} -c listen_addresses=127.0.0.1 -k {scratch} -c fsync=off "
                               "-c synchronous_commit=off -c max_connections=300", "start"),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run(as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "atlas",
                                   "atlas"), check=True)
        yield f"postgresql://atlas@127.0.0.1:{port}/atlas"
    finally:
        subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                       stdout=subprocess.DEVNULL)


def environment(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "CSP_ATLAS_SECRET_KEY": "bench", "SHARED_DIR": str(SHARED),
            "CSP_ATLAS_RATE_LIMITS": UNLIMITED, "CSP_ATLAS_JOBS": "queue"}


def cli(variant: Variant, url: str, *args: str) -> None:
    subprocess.run([str(PYTHON), "-m", "server.cli", *args], cwd=variant.code, env=environment(url), check=True,
                   stdout=subprocess.DEVNULL)


@contextmanager
def served(variant: Variant, url: str):
    port = free_port()
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", *variant.workers, "--timeout", "30",
               "server:create_app()"]
    server = subprocess.Popen(command, cwd=variant.code, env=environment(url), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    jobs = None
    if variant.name == "now":
        jobs = subprocess.Popen([str(PYTHON), "-m", "server.cli", "jobs", "worker"], cwd=variant.code,
                                env=environment(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        for process in (server, jobs):
            if process:
                process.terminate()
                process.wait(30)


# Every script counts 5xx answers per wrk thread; done() adds them up (and the heavy client's finished results).
LUA_COUNTING = """
server_errors = 0
completed = 0
local threads = {}
thread_id = 0
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end
function done(summary, latency, requests)
  local errors, finished = 0, 0
  for _, t in ipairs(threads) do
    errors = errors + t:get("server_errors")
    finished = finished + t:get("completed")
  end
  io.write(string.format("SERVER_ERRORS %d\\nCOMPLETED %d\\n", errors, finished))
end
"""

# A heavy client as the API asks clients to behave: a unique Gi* request; on 202 it polls the job's URL every half
# second (Retry-After says 2) until the job is done, then fetches the result, and only then asks for the next one.
# One connection per wrk thread, so each has its own state.
LUA_HEAVY = """
local n, next_path, polling, fetching = 0, nil, false, false
request = function()
  if next_path then return wrk.format("GET", next_path) end
  n = n + 1
  return wrk.format("GET", "%s" .. (thread_id * 200000000 + math.random(1, 100000) * 1000 + n %% 1000))
end
delay = function() if polling then return 500 end return 0 end
response = function(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  if status == 202 then
    next_path, polling, fetching = headers["Location"], true, false
  elseif polling and status == 200 then
    if string.find(body, '"status":"done"', 1, true) then
      next_path, polling, fetching = string.match(body, '"result":"([^"]+)"'), false, true
    elseif string.find(body, '"status":"failed"', 1, true) then
      next_path, polling = nil, false
    end
  else
    if status == 200 then completed = completed + 1 end
    next_path, polling, fetching = nil, false, false
  end
end
"""


def lua_script(path: Path, urls: list[str] | None, heavy: bool = False) -> Path:
    if heavy:
        body = LUA_HEAVY % HEAVY
    elif urls:
        listed = ",\n".join(f'"{u}"' for u in urls)
        body = f"""
            local urls = {{ {listed} }}
            local i = 0
            request = function()
              i = i + 1
              return wrk.format("GET", urls[(i % #urls) + 1], {{["Accept-Encoding"] = "gzip"}})
            end
            response = function(status, headers, body)
              if status >= 500 then server_errors = server_errors + 1 end
            end"""
    else:
        body = """
            response = function(status, headers, body)
              if status >= 500 then server_errors = server_errors + 1 end
            end"""
    path.write_text(LUA_COUNTING + textwrap.dedent(body))
    return path


def wrk(base: str, connections: int, duration: int, script: Path, path: str = "/",
        threads: int = 1) -> subprocess.Popen:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s",
               "--latency", "-s", str(script)]
    return subprocess.Popen([*command, f"{base}{path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def to_ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output: str) -> Wrk:
    def grab(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, output)
        return found.group(1) if found else default

    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Wrk(requests_per_s=float(grab(r"Requests/sec:\s+([\d.]+)")),
               non_2xx=int(grab(r"Non-2xx or 3xx responses: (\d+)")), socket_errors=socket_errors,
               server_errors=int(grab(r"SERVER_ERRORS (\d+)")), completed=int(grab(r"COMPLETED (\d+)")),
               p50_ms=to_ms(grab(r"50%\s+([\d.]+\w+)", "0ms")), p99_ms=to_ms(grab(r"99%\s+([\d.]+\w+)", "0ms")),
               requests=int(grab(r"(\d+) requests in")))


def warm(base: str) -> None:
    for url in dict.fromkeys(MIX):
        urllib.request.urlopen(f"{base}{url}", timeout=120).read()


def mixed_load(base: str, clients: int, duration: int, scratch: Path) -> dict[str, Wrk]:
    single = lua_script(scratch / "single.lua", None)
    runs = {
        # 4 clients: the heavy ones alone, to see what they do to cheap requests without the mix's own queue
        "mix": wrk(base, max(clients - 4, 1), duration if clients > 4 else 1, lua_script(scratch / "mix.lua", MIX)),
        "heavy": wrk(base, 4, duration, lua_script(scratch / "heavy.lua", None, heavy=True), threads=4),
        "health": wrk(base, 1, duration, single, path="/api/health"),
        "warm layer": wrk(base, 1, duration, single, path=WARM_LAYER),
    }
    return {name: parse_wrk(run.communicate()[0]) for name, run in runs.items()}


def timed_get(base: str, url: str) -> float:
    began = time.perf_counter()
    urllib.request.urlopen(f"{base}{url}", timeout=300).read()
    return (time.perf_counter() - began) * 1000


def big_data(variant: Variant, url: str, base: str) -> None:
    files = [str(SHARED / "bench-data" / name) for name in BIG_FILES]
    began = time.perf_counter()
    cli(variant, url, "crime", "import", *files)
    variant.big["import_s"] = time.perf_counter() - began
    variant.big["cold_layer_ms"] = timed_get(base, "/api/layers/wards-2024?metric=all-crime&period=2022-06&k=6")
    variant.big["metrics_ms"] = statistics.median(timed_get(base, "/api/metrics") for _ in range(5))


def run_variant(variant: Variant, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix=f"bench-serving-{variant.name}-") as scratch_dir:
        scratch = Path(scratch_dir)
        with cluster(scratch) as url:
            cli(variant, url, "db", "upgrade")
            cli(variant, url, "reference", "load")
            with served(variant, url) as base:
                warm(base)
                for clients in (int(c) for c in args.clients.split(",")):
                    print(f"{variant.name}: {clients} clients for {args.duration} s", file=sys.stderr)
                    variant.results[str(clients)] = mixed_load(base, clients, args.duration, scratch)
                if args.big:
                    print(f"{variant.name}: importing {', '.join(BIG_FILES)}", file=sys.stderr)
                    big_data(variant, url, base)


def table(variants: list[Variant]) -> str:
    rows = ["| clients | variant | mix req/s | mix p50 | mix p99 | heavy done | health p50 | health p99 | "
            "warm layer p50 | 5xx | non-2xx | socket errors |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for clients in variants[0].results:
        for v in variants:
            r = v.results[clients]
            errors = sum(w.non_2xx for w in r.values())
            server_errors = sum(w.server_errors for w in r.values())
            sockets = sum(w.socket_errors for w in r.values())
            mix = (f"{r['mix'].requests_per_s:,.1f} | {r['mix'].p50_ms:,.1f} ms | {r['mix'].p99_ms:,.0f} ms"
                   if int(clients) > 4 else "— | — | —")
            rows.append(f"| {clients} | {v.name} | {mix} | {r['heavy'].completed} | {r['health'].p50_ms:,.1f} ms | "
                        f"{r['health'].p99_ms:,.1f} ms | {r['warm layer'].p50_ms:,.1f} ms | {server_errors} | "
                        f"{errors} | {sockets} |")
    return "\n".join(rows)


def targets(now: Variant) -> str:
    """Issue 10's figures for today's code, each met or missed."""
    lines = []
    for clients, r in now.results.items():
        errors = sum(w.server_errors for w in r.values())
        health, warm = r["health"].p99_ms, r["warm layer"].p50_ms
        lines.append(f"- {clients} clients: {errors} server errors (target 0); /api/health p99 {health:,.1f} ms "
                     f"({'met' if health <= 50 else 'missed'}, target ≤ 50 ms); warm layer p50 {warm:,.1f} ms "
                     f"({'met' if warm <= 20 else 'missed'}, target ≤ 20 ms).")
    if now.big:
        lines.append(f"- With the big files: cold 22-ward layer {now.big['cold_layer_ms']:,.0f} ms (target ≤ 100 ms), "
                     f"/api/metrics {now.big['metrics_ms']:,.1f} ms (target ≤ 20 ms).")
    return "\n".join(lines)


def ratio(now: Variant, baseline: Variant, clients: str) -> float:
    return now.results[clients]["mix"].requests_per_s / max(baseline.results[clients]["mix"].requests_per_s, 1e-9)


def section(args: argparse.Namespace, variants: list[Variant]) -> str:
    baseline, now = variants
    ratios = ", ".join(f"{c} clients {ratio(now, baseline, c):,.1f}×" for c in now.results if int(c) > 4)
    text = f"""## Serving under load

Today's code ("now": gunicorn {args.workers} threaded workers × {args.threads} threads, the shared PostgreSQL cache,
responses held in each process served without a query once it has heard the data version, heavy work in a job worker
at lower CPU priority) against the code as shipped before ("baseline", commit {args.baseline}: 2 sync workers, a
per-worker cache), each on its own throwaway cluster with the Maidstone data, in one run. wrk on loopback,
{args.duration} s per run: the mix (layers with varied parameters, features, metrics, crime points, static maps,
health; gzip accepted) on all clients but 4; 4 clients send unique Gi* requests (300 m hexagons, 999 permutations, a
new seed each, so none is cached) and, when one is queued (202), poll its job every 0.5 s and fetch the result before
asking for the next ("heavy done" counts results received); one more connection each measures /api/health and a warm
layer. "5xx" counts server errors (503 included) over all connections. Rate limits are lifted for the run.

Machine: nproc {os.cpu_count()}, {platform.machine()}; Python {platform.python_version()};
PostgreSQL {PG_BIN.parent.name}.

Reproduce: `.venv/bin/python benchmarks/bench_serving.py --clients {args.clients} --duration {args.duration}\
{' --big' if args.big else ''} --write`

{table(variants)}

Throughput of the mix, now / baseline: {ratios}. The 4-client rows are the heavy clients alone (no mix).

{targets(now)}
"""
    if args.big:
        text += "\nWith the Kent (Jan–Nov 2022) and all-forces (June 2022) files imported:\n\n"
        text += "| variant | import | cold 22-ward layer | /api/metrics (median of 5) |\n|---|---:|---:|---:|\n"
        for v in variants:
            text += (f"| {v.name} | {v.big['import_s']:.1f} s | {v.big['cold_layer_ms']:,.0f} ms | "
                     f"{v.big['metrics_ms']:,.1f} ms |\n")
    return text


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    with worktree_at(args.baseline) as old_code:
        variants = [Variant("baseline", old_code, ["--workers", "2"]),
                    Variant("now", ROOT, ["--workers", str(args.workers), "--worker-class", "gthread",
                                          "--threads", str(args.threads)])]
        for variant in variants[1:] if args.only_now else variants:
            run_variant(variant, args)
    if args.only_now:
        for clients, runs in variants[1].results.items():
            for name, result in runs.items():
                print(clients, name, result)
        print(variants[1].big)
        return
    text = section(args, variants)
    print(text)
    if args.write:
        print(f"recorded in {write_section('## Serving under load', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
