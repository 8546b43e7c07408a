"""Class labels as people read them, one formatter for the web legend (served as `label`), PNG exports and
static maps, so that every output prints the same ranges.

Classes include their upper bound. When every value and bound is a whole number (counts), the next class starts
one above the previous upper bound ("155 – 327", "328 – 518"); otherwise bounds print as they are, with at most
two significant decimals (the client's `formatNumber` rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NO_DATA_LABEL = "No data"
MINUS = "\u2212"  # a true minus sign, to stand beside the plus of a change


def format_number(value: float | None, signed: bool = False) -> str:
    """695 -> "695", 705.79 -> "705.8", 1.234 -> "1.23", 0.1234 -> "0.123"; thousands separated by commas."""
    if value is None:
        return NO_DATA_LABEL
    size = abs(value)
    digits = 0 if float(value).is_integer() else 1 if size >= 100 else 2 if size >= 1 else 3
    text = f"{size:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    if value < 0 and text != "0":
        return (MINUS if signed else "-") + text
    return f"+{text}" if signed and value > 0 else text


def whole_numbers(values: Iterable[float | None], classes: list[dict[str, Any]]) -> bool:
    bounds = [b for c in classes for b in (c["lower"], c["upper"])]
    return all(v is None or float(v).is_integer() for v in [*values, *bounds])


def class_labels(classes: list[dict[str, Any]], values: Iterable[float | None], signed: bool = False) -> list[str]:
    """One range label per class, e.g. ["0 – 154", "155 – 327", "328 – 518"]."""
    integers = whole_numbers(values, classes)
    labels = []
    for index, each in enumerate(classes):
        lower = each["lower"] + 1 if index > 0 and integers else each["lower"]
        if lower >= each["upper"]:
            labels.append(format_number(each["upper"], signed))
        else:
            labels.append(f"{format_number(lower, signed)} – {format_number(each['upper'], signed)}")
    return labels


def label_legend(legend: dict[str, Any], values: Iterable[float | None], signed: bool) -> dict[str, Any]:
    """Adds `label` to each class and `no_data_label` to the legend (named classes keep their own labels)."""
    ranged = [c for c in legend["classes"] if "label" not in c]
    for each, label in zip(ranged, class_labels(ranged, values, signed), strict=True):
        each["label"] = label
    legend["no_data_label"] = NO_DATA_LABEL
    return legend
