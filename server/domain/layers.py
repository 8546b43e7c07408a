"""Classified map layers: the values of a metric for a period over a boundary set, classed and coloured.

A request is resolved in four steps: the metric's values for the period (counted from police.uk records,
or read from the partnership's tables and, for other boundary sets, interpolated), the measure (count,
density, rate, change), the classification, and the FeatureCollection with its legend and metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server.domain import accuracy, interpolation
from server.domain import classify as classification
from server.domain.crime_data import loaded_span, metric_catalogue, months_loaded_in, parsed_period
from server.domain.crime_provenance import month_provenance
from server.domain.errors import DomainError, NotFoundError
from server.domain.legend_labels import label_legend
from server.domain.metrics import POLICE_SOURCE, Metric
from server.domain.periods import (
    Period,
    covered_in_words,
    months_in_words,
    year_period,
)
from server.domain.seed_tables import CLUSTER_GEOGRAPHY, WARD_GEOGRAPHY
from server.store import boundaries as boundary_store
from server.store import coverage as coverage_store
from server.store import crime as crime_store
from server.store import frames
from server.store import police_api as police_api_store
from server.store import statistics as statistics_store

MEASURES = {
    "count": "count",
    "density": "per km²",
    "rate": "per 1,000 residents",
    "change": "change on the base period",
    "pct_change": "% change on the base period",
}
# What the map calls each measure (GET /api/registries); a new measure adds its unit above and its title here.
MEASURE_TITLES = {
    "count": "Count",
    "density": "Density (per km²)",
    "rate": "Rate per 1,000 residents",
    "change": "Change on previous period",
    "pct_change": "% change on previous period",
}
CHANGE_MEASURES = ("change", "pct_change")
MIN_SHARE_INSIDE_SOURCE = 0.5  # of an area's extent, for a re-estimated figure to be given it
SEED_WARD_SET = "wards-2013"
# Details (how the error was measured) are in the layer's metadata.estimate and in BENCHMARKS.md.
ESTIMATE_NOTE = ("estimated for these boundaries (published for {source}): each area ± its held-out error, "
                 "median ±{median:.0f}%, up to ±{worst:.0f}%")
SEED_SOURCE = "Safer Maidstone Partnership, Strategic Assessment 2024/25, Appendix 2 (transcribed in geodata/seed/)"


class LayerError(DomainError, ValueError):
    """A request that cannot be answered as asked (HTTP 400); the message lists what is valid."""


class LayerNotFound(NotFoundError, LookupError):
    """No such boundary set (HTTP 404)."""


@dataclass(frozen=True)
class LayerRequest:
    set_id: str
    metric: str = "all-crime"
    period: str | None = None
    measure: str = "count"
    base: str | None = None
    method: str = "natural_breaks"
    k: int = 5
    palette: str | None = None
    breaks: tuple[float, ...] | None = None
    clusters: bool = False


@dataclass
class Values:
    """A metric's values for one period, keyed like the features (area code or cluster number)."""

    by_key: dict[str, float | None]
    period: Period
    data_date: str
    source: str
    interpolation: str | None = None
    notes: list[str] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)  # where each month's records came from
    relative_error: dict[str, float] | None = None  # re-estimates: each key's held-out error (0.1 = ±10 %)
    months_with_data: list[date] | None = None  # police.uk months inside the period; None for yearly tables


@dataclass
class Geography:
    """The features of the layer and what the measures need to know about them."""

    set_info: dict[str, Any]
    features: list[dict[str, Any]]
    area_km2: dict[str, float]
    members: dict[str, list[str]] | None  # cluster key -> member ward codes; None for areas


def build_layer(session: Session, request: LayerRequest) -> dict[str, Any]:
    geography = _geography(session, request)
    metric = _metric(session, request.metric)
    _check_presentation(request, metric)
    period = _period(session, metric, request.period)
    current = metric_values(session, metric, geography, period)
    base = None
    if request.measure in CHANGE_MEASURES:
        base_period = parsed_period(request.base, LayerError) if request.base else period.previous()
        base = metric_values(session, metric, geography, base_period)
        _check_whole_periods(current, base)
    values = _estimates_rounded(request, metric, current, _measure(session, request, metric, geography, current,
                                                                   base))
    return _collection(request, metric, geography, values, current, base, _placement_counts(session, metric, period))


# --- the request --------------------------------------------------------------------------------------


def _geography(session: Session, request: LayerRequest) -> Geography:
    set_info = boundary_store.get_boundary_set(session, request.set_id)
    if set_info is None:
        raise LayerNotFound(f"no boundary set '{request.set_id}'")
    if request.clusters:
        if set_info["kind"] != "ward":
            raise LayerNotFound(f"'{request.set_id}' is a {set_info['kind']} set; clusters exist for ward sets only")
        features = boundary_store.cluster_features(session, request.set_id)
        for feature in features:
            feature["properties"]["code"] = str(feature["properties"]["number"])
        return Geography(set_info, features,
                         {f["properties"]["code"]: f["properties"]["area_km2"] for f in features},
                         {f["properties"]["code"]: f["properties"]["members"] for f in features})
    features = boundary_store.area_features(session, request.set_id)
    return Geography(set_info, features, {f["id"]: f["properties"]["area_km2"] for f in features}, None)


def _metric(session: Session, metric_id: str) -> Metric:
    metrics = metric_catalogue(session)
    if metric_id not in metrics:
        raise LayerError(f"unknown metric '{metric_id}'; valid metrics: {', '.join(sorted(metrics))}")
    return metrics[metric_id]


def _check_presentation(request: LayerRequest, metric: Metric) -> None:
    if request.measure not in MEASURES:
        raise LayerError(f"unknown measure '{request.measure}'; valid measures: {', '.join(MEASURES)}")
    if metric.kind == "rate" and request.measure in ("count", "density"):
        raise LayerError(f"'{metric.id}' is published as a rate per 1,000 residents; use measure=rate, "
                         "change or pct_change")
    if request.method not in classification.METHODS:
        raise LayerError(f"unknown method '{request.method}'; valid methods: {', '.join(classification.METHODS)}")
    if not classification.MIN_K <= request.k <= classification.MAX_K:
        raise LayerError(f"k must be from {classification.MIN_K} to {classification.MAX_K}, not {request.k}")
    if request.method == "user_defined" and not request.breaks:
        raise LayerError("method=user_defined needs breaks=, e.g. breaks=10,50,100")
    if request.palette:
        try:
            classification.palette(request.palette, 3)
        except classification.ClassificationError as error:
            raise LayerError(str(error)) from None


def _period(session: Session, metric: Metric, text: str | None) -> Period:
    if text:
        return parsed_period(text, LayerError)
    if metric.is_police:
        return loaded_span(session, LayerError)
    years = statistics_store.metric_years(session, metric.id)
    if not years:
        raise LayerError(f"no figures are loaded for '{metric.id}'")
    return year_period(years[-1])


# --- values -------------------------------------------------------------------------------------------


def metric_values(session: Session, metric: Metric, geography: Geography, period: Period) -> Values:
    if metric.is_police:
        return _police_values(session, metric, geography, period)
    return _seed_values(session, metric, geography, period)


def _police_values(session: Session, metric: Metric, geography: Geography, period: Period) -> Values:
    months = months_loaded_in(session, period, LayerError)
    counts = crime_store.count_by_area(session, geography.set_info["id"], period.start, period.end,
                                       list(metric.include_types) if metric.include_types else None,
                                       list(metric.exclude_types) or None)
    notes = list(metric.notes)
    if len(months) < period.months:
        notes.append(f"police.uk data covers {len(months)} of the {period.months} months of {period.label}")
    covered = coverage_store.covered_area_codes(session, geography.set_info["id"], period.start, period.end)
    notes += _coverage_notes(session, period, len(counts) - len(covered))
    known = {code: (float(count) if code in covered else None) for code, count in counts.items()}
    by_key = _sum_members(known, geography.members) if geography.members else known
    fetched = police_api_store.api_months(session, months[0], months[-1])
    return Values(by_key, period, f"{months[-1]:%Y-%m}", POLICE_SOURCE, notes=notes,
                  provenance=month_provenance(months, fetched), months_with_data=months)


def _coverage_notes(session: Session, period: Period, uncovered: int) -> list[str]:
    """Why areas show "No data": outside the districts the imported files cover, or covered for only part of
    the period."""
    if not uncovered:
        return []
    notes = [f"{uncovered} areas lie outside the police.uk data imported for {period.label}: No data, not 0"]
    by_district = coverage_store.district_months(session, period.start, period.end)
    loaded = max(by_district.values(), default=0)
    partial = sorted(d for d, months in by_district.items() if months < loaded)
    if partial:
        notes.append(f"records for {', '.join(partial)} cover only some months of {period.label}: No data there")
    return notes


def _seed_values(session: Session, metric: Metric, geography: Geography, period: Period) -> Values:
    years = statistics_store.metric_years(session, metric.id)
    if period.whole_year is None or period.whole_year not in years:
        raise LayerError(f"'{metric.id}' has yearly figures for {', '.join(map(str, years))}; "
                         f"use period=YYYY, not '{period.label}'")
    year = period.whole_year
    raw = statistics_store.metric_values(session, metric.id, year)
    values = Values({}, period, f"Strategic Assessment 2024/25 (figures for {year})", SEED_SOURCE)
    set_id = geography.set_info["id"]
    if metric.geography == CLUSTER_GEOGRAPHY:
        if not (geography.members and set_id == SEED_WARD_SET):
            raise LayerError(f"'{metric.id}' gives figures for the ward clusters of {SEED_WARD_SET}; "
                             f"ask for /api/layers/{SEED_WARD_SET}/clusters")
        values.by_key = dict(raw)
        return values
    if metric.geography != WARD_GEOGRAPHY:
        raise LayerError(f"'{metric.id}' is a borough-wide series with no map; see GET /api/metrics/{metric.id}")
    if geography.set_info["kind"] != "ward":
        raise LayerError(f"'{metric.id}' gives figures for wards; it cannot be mapped on '{set_id}' "
                         "(splitting ward figures into smaller areas would invent detail)")
    ward_values = raw if set_id == SEED_WARD_SET else _interpolated(session, metric, set_id, raw, values)
    if geography.members:
        if values.relative_error is not None:
            values.relative_error = _cluster_errors(ward_values, values.relative_error, geography.members)
        ward_values = _cluster_values(session, metric, set_id, ward_values, geography.members)
    values.by_key = ward_values
    return values


def _interpolated(session: Session, metric: Metric, set_id: str, raw: dict[str, float | None],
                  values: Values) -> dict[str, float | None]:
    """Re-estimate 2013-ward figures for another ward set, weighted by where police.uk crime points are."""
    source = frames.areas(session, SEED_WARD_SET)
    target = frames.areas(session, set_id)
    extensive = {k: v for k, v in raw.items() if v is not None}
    if metric.kind == "rate":
        population = _population(session, SEED_WARD_SET)
        extensive = {k: v * population[k] / 1000 for k, v in extensive.items() if k in population}
    lsoas = frames.areas(session, accuracy.LSOA_SET) if boundary_store.get_boundary_set(
        session, accuracy.LSOA_SET) else None
    result = interpolation.interpolate(interpolation.BEST_METHOD, source, target, extensive,
                                       frames.crime_points(session), lsoas)
    values.relative_error = _held_out_relative_errors(session, set_id, list(result.values))
    source_title = (boundary_store.get_boundary_set(session, SEED_WARD_SET) or {}).get("title", SEED_WARD_SET)
    target_title = (boundary_store.get_boundary_set(session, set_id) or {}).get("title", set_id)
    values.interpolation = f"{result.description}, from {source_title} to {target_title}"
    errors = sorted(values.relative_error.values())
    values.notes.append(ESTIMATE_NOTE.format(source=source_title, median=errors[len(errors) // 2] * 100,
                                             worst=errors[-1] * 100))
    estimates = _inside_source(source, target, result.values, values, source_title)
    if metric.kind != "rate":
        return estimates
    target_population = _population(session, set_id)
    values.notes.append("rate = interpolated crimes ÷ the population of each area × 1,000")
    return {k: (v / target_population[k] * 1000 if v is not None and target_population.get(k) else None)
            for k, v in estimates.items()}


def _inside_source(source, target, estimates: dict[str, float], values: Values,
                   source_title: str) -> dict[str, float | None]:
    """Estimates only for areas that lie mostly inside the areas the figures are for: elsewhere there are no
    figures to share out, so "No data" (a share of a border ward would be a false, low number)."""
    shares = interpolation.share_inside(source, target)
    outside = {code for code, share in shares.items() if share < MIN_SHARE_INSIDE_SOURCE}
    if outside:
        values.notes.append(f"{len(outside)} areas lie outside the areas the figures are for ({source_title}): "
                            "No data")
    return {code: (None if code in outside else value) for code, value in estimates.items()}


def _held_out_relative_errors(session: Session, set_id: str, codes: list[str]) -> dict[str, float]:
    """Each area's held-out error of the method (the larger of both directions); an area never counted in either
    direction gets the worst error of any area, so no re-estimate goes without an interval."""
    errors = accuracy.held_out_errors(session, interpolation.BEST_METHOD, SEED_WARD_SET, set_id)
    if not errors:
        raise LayerError(f"no police.uk records are loaded, so figures for {SEED_WARD_SET} cannot be re-estimated "
                         f"for '{set_id}' with an interval")
    worst = max(errors.values())
    return {code: errors.get(code, worst) / 100 for code in codes}


def _cluster_errors(ward_values: dict[str, float | None], errors: dict[str, float],
                    members: dict[str, list[str]]) -> dict[str, float]:
    """A cluster's relative error: its members' errors weighted by their values (the sum of their intervals)."""
    result = {}
    for key, codes in members.items():
        present = [(ward_values.get(c) or 0.0, errors.get(c, 0.0)) for c in codes]
        total = sum(value for value, _error in present)
        result[key] = sum(value * error for value, error in present) / total if total else max(
            (error for _value, error in present), default=0.0)
    return result


def _cluster_values(session: Session, metric: Metric, set_id: str, ward_values: dict[str, float | None],
                    members: dict[str, list[str]]) -> dict[str, float | None]:
    if metric.kind != "rate":
        return _sum_members(ward_values, members)
    population = _population(session, set_id)
    result: dict[str, float | None] = {}
    for key, codes in members.items():
        people = sum(population.get(c, 0) for c in codes)
        crimes = sum((ward_values.get(c) or 0) * population.get(c, 0) / 1000 for c in codes)
        result[key] = crimes / people * 1000 if people else None
    return result


def _sum_members(values: dict[str, float | None], members: dict[str, list[str]]) -> dict[str, float | None]:
    sums: dict[str, float | None] = {}
    for key, codes in members.items():
        present = [values[c] for c in codes if values.get(c) is not None]
        # a sum over some members only would be a false, low number
        sums[key] = float(sum(present)) if present and len(present) == len(codes) else None
    return sums


def _population(session: Session, set_id: str) -> dict[str, float]:
    found = statistics_store.populations(session, set_id)
    if found is None:
        raise LayerError(f"no population is loaded for '{set_id}', so rates cannot be computed; load one with "
                         "'scripts/atlas population load FILE --set " + set_id + "'")
    return found.values


# --- measures -----------------------------------------------------------------------------------------


def _measure(session: Session, request: LayerRequest, metric: Metric, geography: Geography, current: Values,
             base: Values | None) -> dict[str, float | None]:
    if request.measure in CHANGE_MEASURES:
        assert base is not None
        return _change(current.by_key, base.by_key, percent=request.measure == "pct_change")
    if request.measure == "count" or metric.kind == "rate":
        return current.by_key
    if request.measure == "density":
        return {k: (v / geography.area_km2[k] if v is not None and geography.area_km2.get(k) else None)
                for k, v in current.by_key.items()}
    population = _population(session, geography.set_info["id"])
    _note_derived_population(session, geography.set_info["id"], current)
    if geography.members:
        population = {key: (sum(population[c] for c in codes) if all(population.get(c) for c in codes) else None)
                      for key, codes in geography.members.items()}
    unknown = [k for k, v in current.by_key.items() if v is not None and not population.get(k)]
    if unknown:
        current.notes.append(f"{len(unknown)} areas have no population loaded: their rate is No data")
    return {k: (v / population[k] * 1000 if v is not None and population.get(k) else None)
            for k, v in current.by_key.items()}


def _note_derived_population(session: Session, set_id: str, current: Values) -> None:
    """A rate over an estimated population is itself an estimate: say so."""
    found = statistics_store.populations(session, set_id)
    if found is not None and found.derived:
        current.notes.append(f"rates use an estimated population, not a count: {found.source}")


def _change(current: dict[str, float | None], base: dict[str, float | None], percent: bool) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for key, now in current.items():
        before = base.get(key)
        if now is None or before is None:
            result[key] = None
        elif percent:
            result[key] = (now - before) / before * 100 if before else None
        else:
            result[key] = now - before
    return result


def _check_whole_periods(current: Values, base: Values) -> None:
    """A change between periods of which one lacks months of police.uk data compares unequal spans: refused."""
    for values in (current, base):
        if values.months_with_data is not None and len(values.months_with_data) < values.period.months:
            raise LayerError(f"police.uk data covers {len(values.months_with_data)} of the {values.period.months} "
                             f"months of {values.period.label}, so a change would compare unequal spans; choose "
                             "a period and base with data for every month")


def _estimates_rounded(request: LayerRequest, metric: Metric, current: Values,
                       values: dict[str, float | None]) -> dict[str, float | None]:
    """Re-estimated counts as whole numbers (their decimals would claim a precision they do not have), rounded by
    largest remainder so that they still add up to the (rounded) total."""
    if not current.interpolation or request.measure != "count" or metric.kind == "rate":
        return values
    known = {k: v for k, v in values.items() if v is not None}
    floors = {k: math.floor(v) for k, v in known.items()}
    short = round(sum(known.values())) - sum(floors.values())
    by_remainder = sorted(known, key=lambda k: (floors[k] - known[k], k))
    for key in by_remainder[:max(short, 0)]:
        floors[key] += 1
    return {k: (float(floors[k]) if k in floors else None) for k in values}


# --- the response -------------------------------------------------------------------------------------


def _classify(request: LayerRequest, values: list[float | None]) -> classification.Classification:
    try:
        return classification.classify(values, request.method, request.k,
                                       list(request.breaks) if request.breaks else None)
    except classification.ClassificationError as error:
        raise LayerError(str(error)) from None


def class_colors(request: LayerRequest, result: classification.Classification) -> tuple[str, list[str]]:
    """The palette name and one colour per class; change is shown diverging around zero (increase red)."""
    if result.k == 0:
        return request.palette or classification.DEFAULT_SEQUENTIAL, []
    if request.measure in CHANGE_MEASURES:
        name = request.palette or classification.DEFAULT_DIVERGING
        return name, _diverging_colors(name, result.classes)
    name = request.palette or classification.DEFAULT_SEQUENTIAL
    return name, classification.palette(name, result.k)


def _diverging_colors(name: str, classes: list[dict]) -> list[str]:
    below = sum(1 for c in classes if c["upper"] < 0)
    above = sum(1 for c in classes if c["lower"] >= 0 and c["upper"] > 0)
    side = max(below, above, 1)
    if 2 * side + 1 > classification.MAX_K:
        return classification.palette(name, len(classes), reverse=True)
    scheme = classification.palette(name, 2 * side + 1, reverse=True)  # reversed: blue = fall, red = rise
    middle = side
    colors = []
    for index, each in enumerate(classes):
        if each["upper"] < 0:
            colors.append(scheme[middle - (below - index)])
        elif each["lower"] >= 0 and each["upper"] > 0:
            colors.append(scheme[middle + (index - (len(classes) - above)) + 1])
        else:
            colors.append(scheme[middle])
    return colors


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    ordered = sorted((v, k) for k, v in values.items() if v is not None)
    ordered.reverse()
    return {key: position + 1 for position, (_value, key) in enumerate(ordered)}


def _placement_counts(session: Session, metric: Metric, period: Period) -> dict[str, Any] | None:
    if not metric.is_police:
        return None
    include = list(metric.include_types) if metric.include_types else None
    exclude = list(metric.exclude_types) or None
    return {"unplaced_by_boundary_set": crime_store.unplaced_counts(session, period.start, period.end, include,
                                                                    exclude),
            "no_location": crime_store.no_location_count(session, period.start, period.end, include, exclude)}


def _feature_key(feature: dict[str, Any]) -> str:
    return feature["properties"]["code"]


def _collection(request: LayerRequest, metric: Metric, geography: Geography, values: dict[str, float | None],
                current: Values, base: Values | None, placement: dict[str, Any] | None) -> dict[str, Any]:
    keys = [_feature_key(f) for f in geography.features]
    result = _classify(request, [values.get(key) for key in keys])
    palette_name, colors = class_colors(request, result)
    ranks = _ranks({key: values.get(key) for key in keys})
    intervals = _intervals(request, values, current, base)
    features = []
    for feature, key, klass in zip(geography.features, keys, result.assignments, strict=True):
        properties = {**feature["properties"], "value": _rounded(values.get(key)), "class": klass,
                      "color": colors[klass] if klass is not None else None, "rank": ranks.get(key),
                      "rank_of": len(ranks)}
        if base is not None:
            properties["value_current"] = _rounded(current.by_key.get(key))
            properties["value_base"] = _rounded(base.by_key.get(key))
        if key in intervals:
            low, high, error = intervals[key]
            properties.update(estimate_low=_rounded(low), estimate_high=_rounded(high),
                              estimate_error_pct=_rounded(error * 100) if error is not None else None)
        features.append({**feature, "properties": properties})
    legend = _rounded_legend(result.as_legend(colors))
    unit = _unit(metric, request.measure) + (" (estimates)" if current.interpolation else "")
    legend.update(palette=palette_name, title=metric.title, unit=unit,
                  estimated=_estimate_metadata(current, base) is not None)
    label_legend(legend, [f["properties"]["value"] for f in features], request.measure in CHANGE_MEASURES)
    return {"type": "FeatureCollection", "features": features, "legend": legend,
            "metadata": _metadata(request, metric, geography, current, base, placement)}


def _intervals(request: LayerRequest, values: dict[str, float | None], current: Values, base: Values | None
               ) -> dict[str, tuple[float, float, float | None]]:
    """(low, high, relative error) of each re-estimated value; a change spans the extremes of both intervals."""
    if current.relative_error is None and (base is None or base.relative_error is None):
        return {}
    now_error = current.relative_error or {}
    result: dict[str, tuple[float, float, float | None]] = {}
    for key, value in values.items():
        if value is None:
            continue
        if request.measure not in CHANGE_MEASURES:
            error = now_error.get(key, 0.0)
            result[key] = (max(0.0, value * (1 - error)), value * (1 + error), error)
            continue
        assert base is not None
        now, before = current.by_key.get(key), base.by_key.get(key)
        if now is None or before is None:
            continue
        base_error = (base.relative_error or {}).get(key, 0.0)
        now_low, now_high = max(0.0, now * (1 - now_error.get(key, 0.0))), now * (1 + now_error.get(key, 0.0))
        before_low, before_high = max(0.0, before * (1 - base_error)), before * (1 + base_error)
        if request.measure == "change":
            result[key] = (now_low - before_high, now_high - before_low, None)
        elif before_low > 0:
            result[key] = ((now_low / before_high - 1) * 100, (now_high / before_low - 1) * 100, None)
    return result


def _rounded_legend(legend: dict[str, Any]) -> dict[str, Any]:
    """Bounds to 4 decimals for display; classes were assigned with the exact breaks."""
    legend["breaks"] = [_rounded(b) for b in legend["breaks"]]
    for each in legend["classes"]:
        each["lower"], each["upper"] = _rounded(each["lower"]), _rounded(each["upper"])
    return legend


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _unit(metric: Metric, measure: str) -> str:
    if measure == "change":
        return f"change in {metric.unit}"
    if measure == "pct_change":
        return f"% change in {metric.unit}"
    if metric.kind == "rate" or measure == "count":
        return metric.unit
    return f"{metric.unit} {MEASURES[measure]}"


def _estimate_metadata(current: Values, base: Values | None) -> dict[str, Any] | None:
    errors = current.relative_error or (base.relative_error if base else None)
    if not errors:
        return None
    ordered = sorted(errors.values())
    return {"method": interpolation.BEST_METHOD, "description": interpolation.METHODS[interpolation.BEST_METHOD],
            "interval": ("± the held-out absolute % error of the method in this area: police.uk counts "
                         f"re-estimated from {SEED_WARD_SET} and compared with direct counts, each half of the "
                         "loaded months counted with the other half as weights; the larger of the two errors. "
                         "A change (or % change) spans both periods' intervals at their opposite ends: an outer "
                         "bound, since both periods are re-estimated with the same weights"),
            "median_error_pct": round(ordered[len(ordered) // 2] * 100, 1),
            "worst_error_pct": round(ordered[-1] * 100, 1),
            "columns": ["estimate_low", "estimate_high", "estimate_error_pct"]}


def _period_text(values: Values) -> str:
    if values.months_with_data is None:
        return months_in_words(values.period.start, values.period.end)
    return covered_in_words(values.period, values.months_with_data)


def _metadata(request: LayerRequest, metric: Metric, geography: Geography, current: Values, base: Values | None,
              placement: dict[str, Any] | None) -> dict[str, Any]:
    info = geography.set_info
    metadata = {
        "metric": {"id": metric.id, "title": metric.title, "source": metric.source},
        "period": current.period.label,
        "period_text": _period_text(current),
        "base_period": base.period.label if base else None,
        "measure": request.measure,
        "unit": _unit(metric, request.measure),
        "boundary_set": {"id": info["id"], "title": info["title"], "kind": info["kind"],
                         "valid_from": info["valid_from"].isoformat() if info["valid_from"] else None,
                         "valid_to": info["valid_to"].isoformat() if info["valid_to"] else None,
                         "licence": info["licence"]},
        "geography": "clusters" if request.clusters else "areas",
        "source": current.source,
        "data_date": current.data_date,
        "interpolation": current.interpolation,
        "estimate": _estimate_metadata(current, base),
        "notes": current.notes + (base.notes if base else []),
        "provenance": list(dict.fromkeys(current.provenance + (base.provenance if base else []))),
    }
    if placement is not None:
        metadata["records"] = placement
    return metadata
