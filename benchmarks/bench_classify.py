"""Benchmark natural breaks: our classify() against jenkspy and mapclassify.FisherJenks.

Times classify(values, "natural_breaks", k) on n lognormal values (median of several runs) and jenkspy on the same
values; mapclassify.FisherJenks is O(k·n²) in pure Python here, so it is timed at a smaller n together with ours and
jenkspy at that n. Checks that the breaks agree, prints a Markdown table and, with --write, puts it in BENCHMARKS.md.

Run from the repository root: .venv/bin/python benchmarks/bench_classify.py [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import write_section  # noqa: E402

from server.domain.classify import classify  # noqa: E402

SECTION_TITLE = "## Classification (natural breaks)"
TARGET_MS = 200


@dataclass
class Timing:
    n: int
    implementation: str
    runs: int
    median_seconds: float
    breaks: list[float]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="values to classify (default 100000)")
    parser.add_argument("--compare-n", type=int, default=3_000,
                        help="values for the comparison with mapclassify.FisherJenks, which is O(k·n²) (default 3000)")
    parser.add_argument("--k", type=int, default=5, help="number of classes (default 5)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of the fast implementations (default 7)")
    parser.add_argument("--slow-repeats", type=int, default=3,
                        help="runs of jenkspy at --n and of mapclassify.FisherJenks (default 3)")
    parser.add_argument("--seed", type=int, default=20240501, help="seed of the lognormal sample")
    parser.add_argument("--write", action="store_true", help="put the results in BENCHMARKS.md at the repository root")
    return parser.parse_args()


def median_time(run: Callable[[], list[float]], repeats: int) -> tuple[float, list[float]]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        breaks = run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), breaks


def ours(values: np.ndarray, k: int) -> Callable[[], list[float]]:
    return lambda: classify(values, "natural_breaks", k).breaks


def jenkspy_breaks(values: np.ndarray, k: int) -> Callable[[], list[float]]:
    import jenkspy

    return lambda: [float(b) for b in jenkspy.jenks_breaks(values, n_classes=k)[1:]]  # drop its leading minimum


def mapclassify_breaks(values: np.ndarray, k: int) -> Callable[[], list[float]]:
    import mapclassify

    return lambda: mapclassify.FisherJenks(values, k=k).bins.tolist()


def within_class_sum_of_squares(values: np.ndarray, breaks: list[float]) -> float:
    classes = np.searchsorted(np.asarray(breaks), values, side="left")
    sums = np.bincount(classes, weights=values)
    counts = np.bincount(classes)
    squares = np.bincount(classes, weights=values * values)
    return float(np.sum(squares - sums * sums / np.maximum(counts, 1)))


def agreement(values: np.ndarray, reference: Timing, other: Timing) -> str:
    if np.allclose(other.breaks, reference.breaks, rtol=1e-12, atol=0):
        return "identical"
    ours_ss = within_class_sum_of_squares(values, reference.breaks)
    theirs_ss = within_class_sum_of_squares(values, other.breaks)
    return f"differ: sum of squares {(theirs_ss - ours_ss) / ours_ss:+.2e} relative to ours"


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = model.group(1) if model else cpu
    import jenkspy
    import kmeans1d
    import mapclassify

    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"nproc {nproc}, {cpu}; Python {platform.python_version()} on {platform.system()} {platform.release()}; "
            f"numpy {np.__version__}, kmeans1d {kmeans1d.__version__}, jenkspy {jenkspy.__version__}, "
            f"mapclassify {mapclassify.__version__} (numba {'on' if mapclassify.classifiers.HAS_NUMBA else 'off'})")


def markdown_table(values_by_n: dict[int, np.ndarray], timings: list[Timing]) -> str:
    ours_by_n = {t.n: t for t in timings if t.implementation.startswith("csp-atlas")}
    rows = ["| n | implementation | runs | median | time / ours | breaks vs ours |",
            "|---:|---|---:|---:|---:|---|"]
    for timing in timings:
        reference = ours_by_n[timing.n]
        is_ours = timing is reference
        rows.append(
            f"| {timing.n:,} | {timing.implementation} | {timing.runs} | {format_seconds(timing.median_seconds)} | "
            f"{'1' if is_ours else f'{timing.median_seconds / reference.median_seconds:,.1f}×'} | "
            f"{'—' if is_ours else agreement(values_by_n[timing.n], reference, timing)} |"
        )
    return "\n".join(rows)


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def section(args: argparse.Namespace, table: str, big: Timing) -> str:
    verdict = "meets" if big.median_seconds * 1000 < TARGET_MS else "misses"
    return f"""{SECTION_TITLE}

`classify(values, "natural_breaks", k={args.k})` (server/domain/classify.py: exact Fisher-Jenks by optimal 1-D k-means
with kmeans1d, O(k·n)) against jenkspy (C, O(k·n²)) and mapclassify.FisherJenks (O(k·n²); pure Python here because
numba is not installed). Lognormal values (seed {args.seed}); times are medians; ours includes sorting, class
assignment and the per-class table, the others compute breaks only.

Machine: {machine_info()}.

Reproduce: `.venv/bin/python benchmarks/bench_classify.py --write` (without `--write` it only prints the table).

{table}

Target: classifying 100,000 values under {TARGET_MS} ms. This run {verdict} it:
{format_seconds(big.median_seconds)} for {big.n:,} values.
"""


def main() -> None:
    args = parse_args()
    warnings.simplefilter("ignore", UserWarning)  # mapclassify: "Numba not installed"
    rng = np.random.default_rng(args.seed)
    values_by_n = {args.n: rng.lognormal(3, 1, args.n), args.compare_n: rng.lognormal(3, 1, args.compare_n)}
    plan = [
        (args.n, "csp-atlas classify (kmeans1d)", ours, args.repeats),
        (args.n, "jenkspy.jenks_breaks", jenkspy_breaks, args.slow_repeats),
        (args.compare_n, "csp-atlas classify (kmeans1d)", ours, args.repeats),
        (args.compare_n, "mapclassify.FisherJenks", mapclassify_breaks, args.slow_repeats),
        (args.compare_n, "jenkspy.jenks_breaks", jenkspy_breaks, args.repeats),
    ]
    timings = []
    for n, name, implementation, repeats in plan:
        print(f"timing {name} on {n:,} values ({repeats} runs)...", file=sys.stderr, flush=True)
        seconds, breaks = median_time(implementation(values_by_n[n], args.k), repeats)
        timings.append(Timing(n, name, repeats, seconds, breaks))

    table = markdown_table(values_by_n, timings)
    print(table)
    if args.write:
        print(f"wrote {write_section(section(args, table, timings[0]))}", file=sys.stderr)


if __name__ == "__main__":
    main()
