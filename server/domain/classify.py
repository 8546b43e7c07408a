"""Map classification for choropleths, and the ColorBrewer palettes to colour them (no web framework, no database).

Class breaks follow mapclassify's definitions: `breaks` are the upper bounds of the classes, and a value goes into
the first class whose upper bound it does not exceed (so class i holds breaks[i-1] < value <= breaks[i]).
Missing values (None or NaN) are "no data": they get no class and take no part in finding the breaks.

`natural_breaks` is exact Fisher-Jenks (the classes that minimise the within-class sum of squared deviations),
found by optimal 1-D k-means in O(k·n) with `kmeans1d` instead of mapclassify's O(k·n²) dynamic programme.
mapclassify accumulates its sums in float32, so where two partitions are tied (or within float32 rounding of
each other) it may pick a different, equally good or slightly worse, partition; this module always returns the
partition that is optimal in float64. See tests/test_classify.py for the comparison.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import kmeans1d
import numpy as np

from server.domain.errors import DomainError

MIN_K = 2
MAX_K = 9


class ClassificationError(DomainError, ValueError):
    """A classification that cannot be made as asked; the message says what is valid."""


@dataclass
class Classification:
    """The result of `classify`: breaks, per-class counts and the class of every input value (None = no data)."""

    method: str
    k: int
    requested_k: int
    breaks: list[float]
    classes: list[dict]
    assignments: list[int | None]
    no_data_count: int
    notes: list[str] = field(default_factory=list)

    def as_legend(self, colors: list[str]) -> dict:
        """The legend for a map: one colour per class, in class order (e.g. `palette(name, classification.k)`)."""
        if len(colors) != self.k:
            raise ClassificationError(f"a legend for {self.k} classes needs {self.k} colours, got {len(colors)}")
        return {
            "method": self.method,
            "k": self.k,
            "breaks": list(self.breaks),
            "classes": [{**each_class, "color": color} for each_class, color in zip(self.classes, colors, strict=True)],
            "no_data_count": self.no_data_count,
            "notes": list(self.notes),
        }


def classify(
    values: Sequence[float | None],
    method: str = "natural_breaks",
    k: int = 5,
    breaks: Sequence[float] | None = None,
) -> Classification:
    """Classify `values` into `k` classes (2 to 9) by `method` (one of METHODS).

    `breaks` (upper bounds, strictly increasing) are required by, and only allowed with, "user_defined"; there the
    number of classes comes from the breaks and `k` is not used. Some methods give another number of classes
    (never more than 9): std_mean's classes are fixed, head_tail uses k as a maximum, quantiles with ties and
    pretty's rounding can give fewer or (pretty) more. `k` and `notes` say what was done and why.
    """
    _check_method(method)
    if METHODS[method].find_breaks is None:
        user_breaks = _checked_user_breaks(breaks)
        requested_k = len(user_breaks)
    else:
        _check_k(k)
        if breaks is not None:
            raise ClassificationError(f"breaks are only used by the user_defined method, not by {method}")
        requested_k = int(k)

    data = _as_float_array(values)
    has_data = ~np.isnan(data)
    valid = np.sort(data[has_data])
    no_data_count = int(data.size - valid.size)
    if valid.size == 0:
        return Classification(method, 0, requested_k, [], [], [None] * data.size, no_data_count, ["no data"])

    notes: list[str] = []
    if METHODS[method].find_breaks is None:
        class_breaks = _user_defined_breaks(valid, user_breaks, notes)
    else:
        class_breaks = _method_breaks(valid, method, k, notes)

    class_of_valid = np.searchsorted(class_breaks, data[has_data], side="left")
    return Classification(
        method=method,
        k=len(class_breaks),
        requested_k=requested_k,
        breaks=class_breaks.tolist(),
        classes=_class_table(class_breaks, class_of_valid, float(valid[0])),
        assignments=_assignments(has_data, class_of_valid),
        no_data_count=no_data_count,
        notes=notes,
    )


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ClassificationError(f"unknown classification method '{method}'; valid methods are {', '.join(METHODS)}")


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not MIN_K <= k <= MAX_K:
        raise ClassificationError(f"k must be a whole number from {MIN_K} to {MAX_K} (got {k!r})")


def _checked_user_breaks(breaks: Sequence[float] | None) -> np.ndarray:
    if breaks is None or len(breaks) == 0:
        raise ClassificationError("the user_defined method needs breaks: the upper bound of each class")
    try:
        as_array = np.asarray(breaks, dtype=float)
    except (TypeError, ValueError) as error:
        raise ClassificationError(f"breaks must be numbers (got {list(breaks)!r})") from error
    if as_array.ndim != 1 or not np.all(np.isfinite(as_array)):
        raise ClassificationError(f"breaks must be a list of finite numbers (got {list(breaks)!r})")
    if np.any(np.diff(as_array) <= 0):
        raise ClassificationError(f"breaks must be sorted and strictly increasing (got {as_array.tolist()})")
    if as_array.size > MAX_K:
        raise ClassificationError(f"at most {MAX_K} breaks ({MAX_K} classes) are allowed (got {as_array.size})")
    return as_array


def _as_float_array(values: Sequence[float | None]) -> np.ndarray:
    """Values as float64, with None as NaN; anything that is not a number, or is infinite, is refused."""
    try:
        data = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ClassificationError(f"values must be numbers or None (no data): {error}") from error
    if data.ndim != 1:
        raise ClassificationError(f"values must be a flat list of numbers (got {data.ndim} dimensions)")
    infinite = np.flatnonzero(np.isinf(data))
    if infinite.size:
        raise ClassificationError(f"values must be finite numbers or None; value {infinite[0]} is {data[infinite[0]]}")
    return data


def _user_defined_breaks(valid: np.ndarray, user_breaks: np.ndarray, notes: list[str]) -> np.ndarray:
    """mapclassify.UserDefined: the user's breaks, with the maximum appended when they stop below it."""
    highest_value = float(valid[-1])
    class_breaks = np.asarray(_mapclassify().UserDefined(valid, user_breaks).bins, dtype=float)
    if class_breaks.size > user_breaks.size:
        notes.append(
            f"added the maximum value {highest_value:g} as the top break: the highest break given "
            f"({user_breaks[-1]:g}) is below it"
        )
    if class_breaks.size > MAX_K:
        raise ClassificationError(
            f"at most {MAX_K} classes are allowed: {user_breaks.size} breaks below the maximum value "
            f"({highest_value:g}) make {class_breaks.size}"
        )
    return class_breaks


def _method_breaks(valid: np.ndarray, method: str, k: int, notes: list[str]) -> np.ndarray:
    """Breaks for every method but user_defined. k is first reduced to the number of distinct values (except for
    std_mean, whose classes do not depend on k); a different number of classes from the method is noted."""
    distinct_count = int(np.count_nonzero(np.diff(valid))) + 1
    if distinct_count == 1:
        notes.append(f"k reduced from {k} to 1: only 1 distinct value")
        return valid[-1:].copy()
    usable_k = k
    if distinct_count < k and method != "std_mean":
        notes.append(f"k reduced from {k} to {distinct_count}: only {distinct_count} distinct values")
        usable_k = distinct_count

    notes_before = len(notes)
    class_breaks = np.unique(np.asarray(METHODS[method].find_breaks(valid, usable_k, notes), dtype=float))
    if class_breaks[-1] < valid[-1]:
        class_breaks = np.append(class_breaks, valid[-1])
    if class_breaks.size != usable_k and len(notes) == notes_before:
        reason = METHODS[method].fewer_classes_reason
        notes.append(f"{method} gave {class_breaks.size} classes, not {usable_k}: {reason}")
    return class_breaks


def natural_breaks(sorted_values: np.ndarray, k: int) -> np.ndarray:
    """Fisher-Jenks breaks (upper bound of each class) of sorted values with at least k distinct values.

    Optimal 1-D k-means minimises the same within-class sum of squares as Fisher-Jenks; on sorted input its
    clusters are runs of neighbouring values, and each class's upper bound is the largest value in its cluster.
    With k no more than the number of distinct values, an optimal partition never splits equal values.
    """
    cluster_of_value = np.asarray(kmeans1d.cluster(sorted_values, k).clusters)
    upper_bounds = np.full(k, -np.inf)
    np.maximum.at(upper_bounds, cluster_of_value, sorted_values)
    return np.sort(upper_bounds[np.isfinite(upper_bounds)])


def _natural_breaks(valid: np.ndarray, k: int, _notes: list[str]) -> np.ndarray:
    return natural_breaks(valid, k)


def _quantile_breaks(valid: np.ndarray, k: int, _notes: list[str]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not enough unique values": reported in our notes instead
        return _mapclassify().Quantiles(valid, k=k).bins


def _equal_interval_breaks(valid: np.ndarray, k: int, _notes: list[str]) -> np.ndarray:
    return _mapclassify().EqualInterval(valid, k=k).bins


def _std_mean_breaks(valid: np.ndarray, _k: int, _notes: list[str]) -> np.ndarray:
    return _mapclassify().StdMean(valid).bins


def _head_tail_breaks(valid: np.ndarray, k: int, notes: list[str]) -> np.ndarray:
    """mapclassify.HeadTailBreaks, with k as the most classes: beyond k, the heads are merged into the top class."""
    class_breaks = np.asarray(_mapclassify().HeadTailBreaks(valid).bins, dtype=float)
    if class_breaks.size <= k:
        return class_breaks
    notes.append(f"head/tail breaks found {class_breaks.size} classes; the top {class_breaks.size - k + 1} are "
                 f"merged to keep k={k}")
    return np.append(class_breaks[: k - 1], valid[-1])


def _pretty_breaks(valid: np.ndarray, k: int, notes: list[str]) -> np.ndarray:
    """mapclassify.PrettyBreaks; if rounding gives more than MAX_K classes, the largest k that stays within it."""
    pretty_classifier = _mapclassify().PrettyBreaks
    class_breaks = pretty_classifier(valid, k=k).bins
    usable_k = k
    while class_breaks.size > MAX_K and usable_k > MIN_K:
        usable_k -= 1
        class_breaks = pretty_classifier(valid, k=usable_k).bins
    if usable_k != k:
        notes.append(f"pretty breaks for k={k} give more than {MAX_K} classes; used the breaks for k={usable_k} "
                     f"({class_breaks.size} classes)")
    return class_breaks


def _maximum_breaks(valid: np.ndarray, k: int, _notes: list[str]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "insufficient number of unique diffs"
        return _mapclassify().MaximumBreaks(valid, k=k).bins


BreakFinder = Callable[[np.ndarray, int, list[str]], np.ndarray]


@dataclass(frozen=True)
class Method:
    """A classification method: its name for people, how it finds breaks (None: the user gives them) and why it may
    give another number of classes than the k asked for (for the note that says so)."""

    title: str
    find_breaks: BreakFinder | None
    fewer_classes_reason: str = ""


# The classification methods, in the order the map offers them. Adding one is adding its entry here.
METHODS: dict[str, Method] = {
    "natural_breaks": Method("Natural breaks (Jenks)", _natural_breaks,
                             "the optimal partition has fewer non-empty classes"),
    "quantiles": Method("Quantiles (equal counts)", _quantile_breaks, "tied values share quantile breaks"),
    "equal_interval": Method("Equal intervals", _equal_interval_breaks, "some intervals coincide"),
    "std_mean": Method("Standard deviations from the mean", _std_mean_breaks,
                       "std_mean classes are fixed at the mean ± 1 and 2 standard deviations; k is not used"),
    "head_tail": Method("Head/tail breaks", _head_tail_breaks,
                        "head/tail breaks stop when the head can no longer be split"),
    "pretty": Method("Rounded (“pretty”) breaks", _pretty_breaks,
                     "pretty breaks are rounded to 1, 2 or 5 times a power of ten"),
    "maximum_breaks": Method("Maximum breaks", _maximum_breaks,
                             "some of the largest gaps between values give the same break"),
    "user_defined": Method("User defined (breaks given)", None),
}


def _mapclassify() -> ModuleType:
    """mapclassify, imported on first use: it takes over a second to import (scikit-learn and pandas)."""
    import mapclassify

    return mapclassify


def _class_table(class_breaks: np.ndarray, class_of_valid: np.ndarray, lowest_value: float) -> list[dict]:
    """Bounds and counts per class. Class 0 starts at the lowest value (or at its own upper bound if that is lower,
    as with std_mean's empty bottom class), class i at breaks[i-1]."""
    counts = np.bincount(class_of_valid, minlength=class_breaks.size)
    lower_bounds = [min(lowest_value, float(class_breaks[0])), *class_breaks[:-1].tolist()]
    return [
        {"index": index, "lower": lower, "upper": upper, "count": int(count)}
        for index, (lower, upper, count) in enumerate(zip(lower_bounds, class_breaks.tolist(), counts, strict=True))
    ]


def _assignments(has_data: np.ndarray, class_of_valid: np.ndarray) -> list[int | None]:
    class_or_missing = np.full(has_data.size, -1, dtype=np.int64)
    class_or_missing[has_data] = class_of_valid
    return [None if index < 0 else index for index in class_or_missing.tolist()]


# --- Palettes -------------------------------------------------------------------------------------------------
# Colours from ColorBrewer 2.0 (Cynthia Brewer, Mark Harrower and The Pennsylvania State University,
# colorbrewer2.org), classes 3 to 9, lightest/first colour for the lowest class.

SEQUENTIAL = ("YlOrRd", "OrRd", "Reds", "Blues", "Greens", "Purples", "YlGnBu", "PuBuGn", "Greys", "BuPu")
DIVERGING = ("RdBu", "PuOr", "BrBG", "PiYG", "RdYlBu")
DEFAULT_SEQUENTIAL = "YlOrRd"
# ColorBrewer's diverging schemes run from the first-named hue (low) to the last (high): RdBu is red for the lowest
# class. For change maps, use palette("RdBu", k, reverse=True) so that increases are red.
DEFAULT_DIVERGING = "RdBu"
# Every scheme offered here is marked colour-blind safe by ColorBrewer (for all class counts); schemes it does not
# mark safe (Spectral, RdYlGn, RdGy, the qualitative ones) are left out.
COLORBLIND_SAFE = frozenset(SEQUENTIAL + DIVERGING)

_COLORBREWER: dict[str, dict[int, tuple[str, ...]]] = {
    "YlOrRd": {
        3: ("#ffeda0", "#feb24c", "#f03b20"),
        4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
        5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
        6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
        7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
        8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
        9: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
    },
    "OrRd": {
        3: ("#fee8c8", "#fdbb84", "#e34a33"),
        4: ("#fef0d9", "#fdcc8a", "#fc8d59", "#d7301f"),
        5: ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"),
        6: ("#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"),
        7: ("#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"),
        8: ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"),
        9: ("#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"),
    },
    "Reds": {
        3: ("#fee0d2", "#fc9272", "#de2d26"),
        4: ("#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"),
        5: ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
        6: ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15"),
        7: ("#fee5d9", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#99000d"),
        8: ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#99000d"),
        9: ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"),
    },
    "Blues": {
        3: ("#deebf7", "#9ecae1", "#3182bd"),
        4: ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"),
        5: ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
        6: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
        7: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
        8: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
        9: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
    },
    "Greens": {
        3: ("#e5f5e0", "#a1d99b", "#31a354"),
        4: ("#edf8e9", "#bae4b3", "#74c476", "#238b45"),
        5: ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
        6: ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c"),
        7: ("#edf8e9", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#005a32"),
        8: ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#005a32"),
        9: ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"),
    },
    "Purples": {
        3: ("#efedf5", "#bcbddc", "#756bb1"),
        4: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#6a51a3"),
        5: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
        6: ("#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"),
        7: ("#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"),
        8: ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"),
        9: ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"),
    },
    "YlGnBu": {
        3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
        4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
        5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
        6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
        7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        8: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        9: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"),
    },
    "PuBuGn": {
        3: ("#ece2f0", "#a6bddb", "#1c9099"),
        4: ("#f6eff7", "#bdc9e1", "#67a9cf", "#02818a"),
        5: ("#f6eff7", "#bdc9e1", "#67a9cf", "#1c9099", "#016c59"),
        6: ("#f6eff7", "#d0d1e6", "#a6bddb", "#67a9cf", "#1c9099", "#016c59"),
        7: ("#f6eff7", "#d0d1e6", "#a6bddb", "#67a9cf", "#3690c0", "#02818a", "#016450"),
        8: ("#fff7fb", "#ece2f0", "#d0d1e6", "#a6bddb", "#67a9cf", "#3690c0", "#02818a", "#016450"),
        9: ("#fff7fb", "#ece2f0", "#d0d1e6", "#a6bddb", "#67a9cf", "#3690c0", "#02818a", "#016c59", "#014636"),
    },
    "Greys": {
        3: ("#f0f0f0", "#bdbdbd", "#636363"),
        4: ("#f7f7f7", "#cccccc", "#969696", "#525252"),
        5: ("#f7f7f7", "#cccccc", "#969696", "#636363", "#252525"),
        6: ("#f7f7f7", "#d9d9d9", "#bdbdbd", "#969696", "#636363", "#252525"),
        7: ("#f7f7f7", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525"),
        8: ("#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525"),
        9: ("#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525", "#000000"),
    },
    "BuPu": {
        3: ("#e0ecf4", "#9ebcda", "#8856a7"),
        4: ("#edf8fb", "#b3cde3", "#8c96c6", "#88419d"),
        5: ("#edf8fb", "#b3cde3", "#8c96c6", "#8856a7", "#810f7c"),
        6: ("#edf8fb", "#bfd3e6", "#9ebcda", "#8c96c6", "#8856a7", "#810f7c"),
        7: ("#edf8fb", "#bfd3e6", "#9ebcda", "#8c96c6", "#8c6bb1", "#88419d", "#6e016b"),
        8: ("#f7fcfd", "#e0ecf4", "#bfd3e6", "#9ebcda", "#8c96c6", "#8c6bb1", "#88419d", "#6e016b"),
        9: ("#f7fcfd", "#e0ecf4", "#bfd3e6", "#9ebcda", "#8c96c6", "#8c6bb1", "#88419d", "#810f7c", "#4d004b"),
    },
    "RdBu": {
        3: ("#ef8a62", "#f7f7f7", "#67a9cf"),
        4: ("#ca0020", "#f4a582", "#92c5de", "#0571b0"),
        5: ("#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"),
        6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
        7: ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"),
        8: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
        9: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
    },
    "PuOr": {
        3: ("#f1a340", "#f7f7f7", "#998ec3"),
        4: ("#e66101", "#fdb863", "#b2abd2", "#5e3c99"),
        5: ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"),
        6: ("#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"),
        7: ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"),
        8: ("#b35806", "#e08214", "#fdb863", "#fee0b6", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
        9: ("#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
    },
    "BrBG": {
        3: ("#d8b365", "#f5f5f5", "#5ab4ac"),
        4: ("#a6611a", "#dfc27d", "#80cdc1", "#018571"),
        5: ("#a6611a", "#dfc27d", "#f5f5f5", "#80cdc1", "#018571"),
        6: ("#8c510a", "#d8b365", "#f6e8c3", "#c7eae5", "#5ab4ac", "#01665e"),
        7: ("#8c510a", "#d8b365", "#f6e8c3", "#f5f5f5", "#c7eae5", "#5ab4ac", "#01665e"),
        8: ("#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#c7eae5", "#80cdc1", "#35978f", "#01665e"),
        9: ("#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#f5f5f5", "#c7eae5", "#80cdc1", "#35978f", "#01665e"),
    },
    "PiYG": {
        3: ("#e9a3c9", "#f7f7f7", "#a1d76a"),
        4: ("#d01c8b", "#f1b6da", "#b8e186", "#4dac26"),
        5: ("#d01c8b", "#f1b6da", "#f7f7f7", "#b8e186", "#4dac26"),
        6: ("#c51b7d", "#e9a3c9", "#fde0ef", "#e6f5d0", "#a1d76a", "#4d9221"),
        7: ("#c51b7d", "#e9a3c9", "#fde0ef", "#f7f7f7", "#e6f5d0", "#a1d76a", "#4d9221"),
        8: ("#c51b7d", "#de77ae", "#f1b6da", "#fde0ef", "#e6f5d0", "#b8e186", "#7fbc41", "#4d9221"),
        9: ("#c51b7d", "#de77ae", "#f1b6da", "#fde0ef", "#f7f7f7", "#e6f5d0", "#b8e186", "#7fbc41", "#4d9221"),
    },
    "RdYlBu": {
        3: ("#fc8d59", "#ffffbf", "#91bfdb"),
        4: ("#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"),
        5: ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"),
        6: ("#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4"),
        7: ("#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4"),
        8: ("#d73027", "#f46d43", "#fdae61", "#fee090", "#e0f3f8", "#abd9e9", "#74add1", "#4575b4"),
        9: ("#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf", "#e0f3f8", "#abd9e9", "#74add1", "#4575b4"),
    },
}


def _with_two_classes(schemes: dict[str, dict[int, tuple[str, ...]]]) -> dict[str, dict[int, tuple[str, ...]]]:
    """ColorBrewer starts at 3 classes; 2 classes use the outer colours of the 3-class scheme, and the single class
    that ties or rounding can leave (e.g. pretty breaks of a narrow range) uses its darkest."""
    return {name: {1: (sizes[3][-1],), 2: (sizes[3][0], sizes[3][-1]), **sizes} for name, sizes in schemes.items()}


PALETTES: dict[str, dict[int, tuple[str, ...]]] = _with_two_classes(_COLORBREWER)


def palette(name: str, k: int, reverse: bool = False) -> list[str]:
    """The k colours (hex, "#rrggbb") of a ColorBrewer scheme, lowest class first (highest first if reverse)."""
    if name not in PALETTES:
        raise ClassificationError(f"unknown palette '{name}'; valid palettes are {', '.join(PALETTES)}")
    if k != 1:
        _check_k(k)
    colors = list(PALETTES[name][k])
    return colors[::-1] if reverse else colors


def palette_kind(name: str) -> str:
    """"sequential" or "diverging"."""
    if name in SEQUENTIAL:
        return "sequential"
    if name in DIVERGING:
        return "diverging"
    raise ClassificationError(f"unknown palette '{name}'; valid palettes are {', '.join(PALETTES)}")
