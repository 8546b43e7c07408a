"""Map classification (server/domain/classify.py) checked against mapclassify. No database needed."""

from __future__ import annotations

import csv
import itertools
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import mapclassify
import numpy as np
import pytest

from server.config import ROOT
from server.domain.classify import (
    COLORBLIND_SAFE,
    DEFAULT_DIVERGING,
    DEFAULT_SEQUENTIAL,
    DIVERGING,
    METHODS,
    PALETTES,
    SEQUENTIAL,
    Classification,
    ClassificationError,
    classify,
    palette,
    palette_kind,
)

# mapclassify warns that numba is missing (FisherJenks then runs in pure Python) and about ties in quantiles.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CRIME_DIR = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")) / "geodata" / "crime"
WARD_CRIMES_2023 = [271, 81, 217, 129, 618, 687, 396, 175, 166, 693, 802, 396, 472, 933, 3272, 81, 80, 560, 214,
                    788, 1274, 705, 521, 593, 469, 181]
SAMPLE_SIZE = 250  # mapclassify.FisherJenks is O(k·n²) in pure Python here: keep n small
HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")

MAPCLASSIFY: dict[str, Callable[[np.ndarray, int], mapclassify.classifiers.MapClassifier]] = {
    "natural_breaks": lambda y, k: mapclassify.FisherJenks(y, k=k),
    "quantiles": lambda y, k: mapclassify.Quantiles(y, k=k),
    "equal_interval": lambda y, k: mapclassify.EqualInterval(y, k=k),
    "std_mean": lambda y, _k: mapclassify.StdMean(y),
    "head_tail": lambda y, _k: mapclassify.HeadTailBreaks(y),
    "pretty": lambda y, k: mapclassify.PrettyBreaks(y, k=k),
    "maximum_breaks": lambda y, k: mapclassify.MaximumBreaks(y, k=k),
}


def random_samples(seeds: tuple[int, ...] = (0, 1, 2, 3)) -> dict[str, np.ndarray]:
    samples = {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        samples[f"uniform-{seed}"] = rng.uniform(0, 1000, SAMPLE_SIZE)
        samples[f"lognormal-{seed}"] = rng.lognormal(3, 1, SAMPLE_SIZE)
        samples[f"integers-{seed}"] = rng.integers(0, 40, SAMPLE_SIZE).astype(float)  # many duplicates
        samples[f"poisson-{seed}"] = rng.poisson(6, SAMPLE_SIZE).astype(float)  # ties and zeros
    return samples


def lsoa_crime_counts() -> np.ndarray:
    """Street crimes per LSOA over the 2022 monthly Kent files (95 LSOAs)."""
    files = sorted(CRIME_DIR.glob("2022-*-kent-street.csv"))
    if not files:
        pytest.skip(f"no 2022 crime files in {CRIME_DIR}")
    counts: Counter[str] = Counter()
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            counts.update(row["LSOA code"] for row in csv.DictReader(handle) if row["LSOA code"])
    return np.array(list(counts.values()), dtype=float)


def within_class_sum_of_squares(values: np.ndarray, breaks: list[float] | np.ndarray) -> float:
    classes = np.searchsorted(np.asarray(breaks), values, side="left")
    return sum(float(((values[classes == c] - values[classes == c].mean()) ** 2).sum()) for c in np.unique(classes))


def optimal_sum_of_squares(values: np.ndarray, k: int) -> float:
    """Brute force over every split of the sorted values into k runs (small inputs only)."""
    ordered = np.sort(values)
    cut_points = np.flatnonzero(np.diff(ordered)) + 1  # only between different values
    best = np.inf
    for cuts in itertools.combinations(cut_points.tolist(), k - 1):
        runs = np.split(ordered, cuts)
        best = min(best, sum(float(((run - run.mean()) ** 2).sum()) for run in runs))
    return best


def assert_same_as_mapclassify(values: np.ndarray, method: str, k: int) -> None:
    ours = classify(values, method, k)
    theirs = MAPCLASSIFY[method](values, k)
    assert ours.k == len(theirs.bins)
    assert np.allclose(ours.breaks, theirs.bins, rtol=1e-12, atol=0), (method, k, ours.breaks, theirs.bins.tolist())
    assert ours.assignments == theirs.yb.tolist()
    assert [c["count"] for c in ours.classes] == theirs.counts.tolist()


# --- natural breaks: exact Fisher-Jenks ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "values"), random_samples().items())
def test_natural_breaks_equal_fisher_jenks_on_random_samples(name: str, values: np.ndarray) -> None:
    assert_same_as_mapclassify(values, "natural_breaks", 5)


@pytest.mark.parametrize("k", [3, 8])
@pytest.mark.parametrize(("name", "values"), random_samples(seeds=(4,)).items())
def test_natural_breaks_equal_fisher_jenks_for_other_k(name: str, values: np.ndarray, k: int) -> None:
    assert_same_as_mapclassify(values, "natural_breaks", k)


@pytest.mark.parametrize("k", range(2, 10))
def test_natural_breaks_equal_fisher_jenks_on_lsoa_crime_counts(k: int) -> None:
    counts = lsoa_crime_counts()
    assert counts.size == 95
    assert_same_as_mapclassify(counts, "natural_breaks", k)


@pytest.mark.parametrize("k", range(2, 10))
def test_natural_breaks_equal_fisher_jenks_on_ward_crimes(k: int) -> None:
    assert_same_as_mapclassify(np.array(WARD_CRIMES_2023, dtype=float), "natural_breaks", k)


def test_natural_breaks_of_ward_crimes() -> None:
    result = classify(WARD_CRIMES_2023, "natural_breaks", 5)
    assert result.breaks == [271.0, 618.0, 933.0, 1274.0, 3272.0]
    assert [c["count"] for c in result.classes] == [10, 8, 6, 1, 1]


def test_natural_breaks_are_optimal_where_mapclassify_float32_sums_are_not() -> None:
    """mapclassify's Fisher-Jenks accumulates in float32; here that picks a partition that is not optimal.

    Brute force over every partition shows ours is the optimum; mapclassify's is 0.0095 worse."""
    values = np.array([103.1, 92.1, 96.4, 87.7, 79.4, 84.6, 119.5, 104.3, 81.2, 76.5, 104.2, 101.3, 109.7, 93.2, 86.3,
                       103.7, 79.0, 129.7, 112.9, 79.4, 90.8, 84.7, 89.8, 114.1, 94.0, 104.5, 74.8, 97.7, 111.6, 102.0,
                       66.7, 120.4, 122.4, 76.6, 118.7, 116.1, 106.4, 102.6, 111.4, 122.0])
    ours = classify(values, "natural_breaks", 4).breaks
    theirs = mapclassify.FisherJenks(values, k=4).bins
    assert ours == [81.2, 97.7, 111.6, 129.7]
    assert theirs.tolist() == [81.2, 96.4, 109.7, 129.7]
    best = optimal_sum_of_squares(values, 4)
    assert within_class_sum_of_squares(values, ours) == pytest.approx(best, rel=1e-12)
    assert within_class_sum_of_squares(values, theirs) > best + 0.009


def test_natural_breaks_tie_between_optimal_partitions() -> None:
    """Two partitions with the same sum of squares: mapclassify's float32 rounding picks one, we pick the other."""
    values = np.array([0, 0, 2, 2, 2, 3, 3, 4, 5, 5, 5, 5], dtype=float)
    ours = classify(values, "natural_breaks", 2).breaks
    theirs = mapclassify.FisherJenks(values, k=2).bins.tolist()
    assert (ours, theirs) == ([3.0, 5.0], [2.0, 5.0])
    best = optimal_sum_of_squares(values, 2)
    assert within_class_sum_of_squares(values, ours) == pytest.approx(best, rel=1e-12)
    assert within_class_sum_of_squares(values, theirs) == pytest.approx(best, rel=1e-12)


def test_natural_breaks_never_worse_than_fisher_jenks() -> None:
    """Many small samples, tied and untied: the same breaks as mapclassify, or an equal or smaller sum of squares."""
    rng = np.random.default_rng(7)
    differing = 0
    for trial in range(150):
        values = rng.poisson(4, 30).astype(float) if trial % 2 else np.round(rng.normal(100, 20, 30), 1)
        k = int(min(5, np.unique(values).size))
        ours = classify(values, "natural_breaks", k).breaks
        theirs = mapclassify.FisherJenks(values, k=k).bins
        if not np.allclose(ours, theirs, rtol=1e-12, atol=0):
            differing += 1
            assert within_class_sum_of_squares(values, ours) <= within_class_sum_of_squares(values, theirs) + 1e-9
    assert differing <= 10  # ties are uncommon: a handful of the 150 at most


def test_natural_breaks_handles_duplicates_at_class_edges() -> None:
    values = [0, 0, 0, 0, 1, 1, 1, 5, 5, 6, 20, 20, 20, 21]
    result = classify(values, "natural_breaks", 3)
    theirs = mapclassify.FisherJenks(np.array(values, dtype=float), k=3)
    assert result.breaks == theirs.bins.tolist() == [1.0, 6.0, 21.0]
    assert result.assignments == theirs.yb.tolist()


# --- the other methods against mapclassify ------------------------------------------------------------------------


def comparison_data() -> dict[str, np.ndarray]:
    data = random_samples(seeds=(0, 1, 2))
    data["wards"] = np.array(WARD_CRIMES_2023, dtype=float)
    data["lognormal-skewed"] = np.random.default_rng(11).lognormal(2, 1.5, 400)
    return data


@pytest.mark.parametrize("method", ["quantiles", "equal_interval", "maximum_breaks", "pretty"])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_methods_with_k_equal_mapclassify(method: str, k: int) -> None:
    for values in comparison_data().values():
        if method == "pretty" and len(mapclassify.PrettyBreaks(values, k=k).bins) > 9:
            continue  # covered by test_pretty_breaks_stay_within_nine_classes
        assert_same_as_mapclassify(values, method, k)


@pytest.mark.parametrize("method", ["std_mean", "head_tail"])
def test_methods_without_k_equal_mapclassify(method: str) -> None:
    for values in [*comparison_data().values(), lsoa_crime_counts()]:
        if method == "head_tail" and len(mapclassify.HeadTailBreaks(values).bins) > 9:
            continue  # covered by test_head_tail_keeps_at_most_k_classes
        assert_same_as_mapclassify(values, method, 9)


def test_all_methods_on_lsoa_crime_counts() -> None:
    counts = lsoa_crime_counts()
    for method in ["quantiles", "equal_interval", "maximum_breaks", "pretty"]:
        assert_same_as_mapclassify(counts, method, 5)


def test_quantiles_with_ties_give_fewer_classes_and_say_so() -> None:
    values = [0.0] * 60 + list(range(1, 41))
    result = classify(values, "quantiles", 5)
    theirs = mapclassify.Quantiles(np.array(values, dtype=float), k=5)
    assert result.breaks == theirs.bins.tolist() == [0.0, 0.3999999999999986, 20.200000000000003, 40.0]
    assert result.k == len(theirs.bins) == 4  # mapclassify's own `k` attribute still says 5 here
    assert result.requested_k == 5
    assert result.notes == [f"quantiles gave {result.k} classes, not 5: tied values share quantile breaks"]


def test_head_tail_keeps_at_most_k_classes() -> None:
    values = np.random.default_rng(3).lognormal(3, 1, 5000)
    all_heads = mapclassify.HeadTailBreaks(values).bins
    assert len(all_heads) > 5
    result = classify(values, "head_tail", 5)
    assert result.k == 5
    assert result.breaks == [*all_heads[:4].tolist(), float(values.max())]
    assert result.notes == [f"head/tail breaks found {len(all_heads)} classes; the top {len(all_heads) - 4} are "
                            "merged to keep k=5"]


def test_head_tail_fewer_classes_than_k_is_noted() -> None:
    result = classify(WARD_CRIMES_2023, "head_tail", 7)
    assert result.k == len(mapclassify.HeadTailBreaks(np.array(WARD_CRIMES_2023, dtype=float)).bins) < 7
    assert result.notes and result.notes[0].startswith(f"head_tail gave {result.k} classes, not 7")


def test_pretty_breaks_stay_within_nine_classes() -> None:
    values = np.random.default_rng(0).uniform(0.9, 10.1, 100)
    assert len(mapclassify.PrettyBreaks(values, k=9).bins) > 9  # its `k` attribute stays 9
    result = classify(values, "pretty", 9)
    assert result.k <= 9
    assert "more than 9 classes" in result.notes[0]


def test_std_mean_keeps_empty_classes_below_the_minimum() -> None:
    result = classify(WARD_CRIMES_2023, "std_mean")
    assert result.breaks == mapclassify.StdMean(np.array(WARD_CRIMES_2023, dtype=float)).bins.tolist()
    assert result.classes[0]["count"] == 0
    assert result.classes[0]["lower"] <= result.classes[0]["upper"] < min(WARD_CRIMES_2023)


def test_user_defined_appends_the_maximum_like_mapclassify() -> None:
    values = np.array(WARD_CRIMES_2023, dtype=float)
    result = classify(values, "user_defined", breaks=[100, 500, 1000])
    theirs = mapclassify.UserDefined(values, [100, 500, 1000])
    assert result.breaks == theirs.bins.tolist() == [100.0, 500.0, 1000.0, 3272.0]
    assert result.assignments == theirs.yb.tolist()
    assert (result.k, result.requested_k) == (4, 3)
    assert result.notes == ["added the maximum value 3272 as the top break: the highest break given (1000) is below it"]


def test_user_defined_breaks_above_the_maximum_are_kept() -> None:
    result = classify([1, 2, 3, 50], "user_defined", breaks=[2, 100])
    assert result.breaks == [2.0, 100.0]
    assert result.assignments == [0, 0, 1, 1]
    assert result.notes == []


# --- no data, zeros, fewer classes ---------------------------------------------------------------------------------


def test_missing_values_get_no_class_and_take_no_part_in_the_breaks() -> None:
    values = np.random.default_rng(5).lognormal(3, 1, 200)
    with_gaps: list[float | None] = values.tolist()
    for position in (0, 17, 18, 120):
        with_gaps.insert(position, None)
    with_gaps.append(float("nan"))
    for method in ("natural_breaks", "quantiles", "equal_interval"):
        result = classify(with_gaps, method, 5)
        expected = classify(values, method, 5)
        assert result.breaks == expected.breaks
        assert result.no_data_count == 5
        assert [a for a in result.assignments if a is not None] == expected.assignments
        assert [i for i, a in enumerate(result.assignments) if a is None] == [0, 17, 18, 120, 204]
        assert sum(c["count"] for c in result.classes) == 200


def test_zeros_are_values_not_missing() -> None:
    result = classify([0, 0, 0, None, 4, 5, 6, 40, 41], "natural_breaks", 3)
    assert result.no_data_count == 1
    assert result.assignments == [0, 0, 0, None, 1, 1, 1, 2, 2]
    assert result.classes[0] == {"index": 0, "lower": 0.0, "upper": 0.0, "count": 3}


def test_fewer_distinct_values_than_k_reduces_k_with_a_note() -> None:
    result = classify([1, 1, 2, 2, 3, None], "natural_breaks", 5)
    assert (result.k, result.requested_k) == (3, 5)
    assert result.breaks == [1.0, 2.0, 3.0]
    assert result.assignments == [0, 0, 1, 1, 2, None]
    assert result.notes == ["k reduced from 5 to 3: only 3 distinct values"]


@pytest.mark.parametrize("method", [m for m in METHODS if m != "user_defined"])
def test_a_single_distinct_value_is_one_class(method: str) -> None:
    result = classify([7, 7, None, 7], method, 4)
    assert result.k == 1
    assert result.classes == [{"index": 0, "lower": 7.0, "upper": 7.0, "count": 3}]
    assert result.assignments == [0, 0, None, 0]
    assert result.notes == ["k reduced from 4 to 1: only 1 distinct value"]


@pytest.mark.parametrize("method", METHODS)
def test_all_missing_is_no_data(method: str) -> None:
    breaks = [1.0] if method == "user_defined" else None
    result = classify([None, float("nan"), None], method, 5, breaks)
    assert result == Classification(method, 0, 1 if breaks else 5, [], [], [None, None, None], 3, ["no data"])
    assert result.as_legend([])["classes"] == []


def test_empty_input_is_no_data() -> None:
    result = classify([])
    assert (result.k, result.assignments, result.no_data_count, result.notes) == (0, [], 0, ["no data"])


# --- errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 10, 2.5, True, "5"])
def test_invalid_k_is_refused_naming_the_range(k: object) -> None:
    with pytest.raises(ClassificationError, match="k must be a whole number from 2 to 9"):
        classify([1, 2, 3], "quantiles", k)  # type: ignore[arg-type]


def test_unknown_method_is_refused_listing_the_methods() -> None:
    with pytest.raises(ClassificationError) as error:
        classify([1, 2, 3], "jenks")
    assert "unknown classification method 'jenks'" in str(error.value)
    assert all(method in str(error.value) for method in METHODS)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (None, "needs breaks"),
        ([], "needs breaks"),
        ([5, 3], "sorted and strictly increasing"),
        ([1, 1, 2], "sorted and strictly increasing"),
        ([1, float("nan")], "finite numbers"),
        (["a", "b"], "must be numbers"),
        (list(range(1, 11)), "at most 9 breaks"),
    ],
)
def test_invalid_user_breaks_are_refused(breaks: list | None, message: str) -> None:
    with pytest.raises(ClassificationError, match=message):
        classify([1, 2, 3], "user_defined", breaks=breaks)


def test_user_breaks_making_ten_classes_are_refused() -> None:
    with pytest.raises(ClassificationError, match="at most 9 classes"):
        classify([1, 2, 3, 100], "user_defined", breaks=[1, 2, 3, 4, 5, 6, 7, 8, 9])


def test_breaks_with_another_method_are_refused() -> None:
    with pytest.raises(ClassificationError, match="only used by the user_defined method"):
        classify([1, 2, 3], "quantiles", 3, breaks=[1, 2])


@pytest.mark.parametrize("values", [[1, float("inf"), 3], ["a", 2, 3], [[1, 2], [3, 4]]])
def test_values_that_are_not_finite_numbers_are_refused(values: list) -> None:
    with pytest.raises(ClassificationError):
        classify(values)


# --- legend --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [m for m in METHODS if m != "user_defined"])
def test_legend_counts_add_up_to_the_valid_values(method: str) -> None:
    values = [*np.random.default_rng(9).lognormal(3, 1, 120).round().tolist(), None, None, 0.0]
    result = classify(values, method, 5)
    legend = result.as_legend(palette(DEFAULT_SEQUENTIAL, result.k))
    assert sum(c["count"] for c in legend["classes"]) == 121
    assert legend["no_data_count"] == 2
    assert set(legend) == {"method", "k", "breaks", "classes", "no_data_count", "notes"}
    assert [c["upper"] for c in legend["classes"]] == legend["breaks"]
    # class 0 starts at the lowest value, or lower where its upper bound is (std_mean's empty bottom classes)
    assert legend["classes"][0]["lower"] == min(0.0, legend["breaks"][0])
    assert all(c["lower"] == legend["breaks"][i - 1] for i, c in enumerate(legend["classes"]) if i)
    assert [c["color"] for c in legend["classes"]] == palette(DEFAULT_SEQUENTIAL, result.k)


def test_legend_needs_one_colour_per_class() -> None:
    result = classify(WARD_CRIMES_2023, k=5)
    with pytest.raises(ClassificationError, match="needs 5 colours, got 4"):
        result.as_legend(palette("Blues", 4))


# --- palettes ------------------------------------------------------------------------------------------------------


def test_palettes_have_k_hex_colours_for_every_k() -> None:
    assert set(PALETTES) == set(SEQUENTIAL) | set(DIVERGING)
    for name in PALETTES:
        for k in range(2, 10):
            colours = palette(name, k)
            assert len(colours) == k
            assert all(HEX_COLOUR.match(colour) for colour in colours), (name, k, colours)
            assert len(set(colours)) == k


def test_known_colorbrewer_colours() -> None:
    assert palette("YlOrRd", 5) == ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
    assert palette("RdBu", 3) == ["#ef8a62", "#f7f7f7", "#67a9cf"]
    assert palette("Blues", 9)[-1] == "#08306b"


def test_two_classes_use_the_outer_colours_of_three() -> None:
    for name in PALETTES:
        three = palette(name, 3)
        assert palette(name, 2) == [three[0], three[-1]]


def test_reversed_diverging_palette_makes_increases_red() -> None:
    assert palette("RdBu", 5, reverse=True) == palette("RdBu", 5)[::-1]
    assert palette("RdBu", 5, reverse=True)[-1] == "#ca0020"


def test_palette_kinds_and_colour_blind_defaults() -> None:
    assert palette_kind(DEFAULT_SEQUENTIAL) == "sequential"
    assert palette_kind(DEFAULT_DIVERGING) == "diverging"
    assert {DEFAULT_SEQUENTIAL, DEFAULT_DIVERGING} <= COLORBLIND_SAFE
    assert all(palette_kind(name) == "sequential" for name in SEQUENTIAL)
    assert all(palette_kind(name) == "diverging" for name in DIVERGING)


def test_unknown_palette_is_refused_listing_the_names() -> None:
    for call in (lambda: palette("Viridis", 5), lambda: palette_kind("Viridis")):
        with pytest.raises(ClassificationError) as error:
            call()
        assert "unknown palette 'Viridis'" in str(error.value)
        assert all(name in str(error.value) for name in PALETTES)


@pytest.mark.parametrize("k", [0, 10])
def test_palette_k_out_of_range_is_refused(k: int) -> None:
    with pytest.raises(ClassificationError, match="from 2 to 9"):
        palette("Blues", k)


def test_a_single_class_left_by_ties_or_rounding_gets_the_darkest_colour() -> None:
    assert palette("Blues", 1) == [palette("Blues", 3)[-1]]
