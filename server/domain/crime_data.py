"""What the loaded police.uk records offer: the metrics (one per crime type present, besides the groups and the
partnership's tables) and the period a request means, checked against the months loaded.

Each caller names the error it refuses with (`error`), so a layer, an analysis or a summary keeps its own kind of
refusal (a figure pack, say, reports a LayerError as a figure it could not produce)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from server.domain.errors import DomainError, NotFoundError
from server.domain.metrics import Metric, catalogue
from server.domain.periods import Period, PeriodError, parse_period
from server.store import crime as crime_store
from server.store import statistics as statistics_store

NOTHING_LOADED = "no police.uk crime records are loaded yet"


def metric_catalogue(session: Session) -> dict[str, Metric]:
    """Every metric a map can show, with one per police.uk crime type loaded."""
    return catalogue([(slug, name) for slug, name, _count in crime_store.crime_types(session)])


def describe_metric(session: Session, metric: Metric, measures: list[str]) -> dict[str, Any]:
    """A metric as GET /api/metrics lists it: what it is, the periods loaded and the measures it can be shown in."""
    item = {"id": metric.id, "title": metric.title, "source": metric.source, "unit": metric.unit,
            "kind": metric.kind, "geography": metric.geography, "description": metric.description,
            "notes": list(metric.notes)}
    if metric.is_police:
        months = crime_store.available_months(session)
        item["periods"] = {"first_month": f"{months[0]:%Y-%m}" if months else None,
                           "last_month": f"{months[-1]:%Y-%m}" if months else None}
        item["boundary_sets"] = "any"
        item["measures"] = measures
    else:
        item["periods"] = {"years": statistics_store.metric_years(session, metric.id)}
        item["measures"] = ["rate", "change", "pct_change"] if metric.kind == "rate" else measures
    return item


def metric_detail(session: Session, metric_id: str, measures: list[str]) -> dict[str, Any]:
    """One metric as listed, and for the partnership's tables also their published figures."""
    metrics = metric_catalogue(session)
    if metric_id not in metrics:
        raise NotFoundError(f"no metric '{metric_id}'")
    item = describe_metric(session, metrics[metric_id], measures)
    if not metrics[metric_id].is_police:
        item["series"] = statistics_store.monthly_series(session, metric_id)
    return item


def police_metric(metrics: dict[str, Metric], metric_id: str, error: type[DomainError] = DomainError) -> Metric:
    """A metric with locations (police.uk records), for points and the analyses of them."""
    if metric_id not in metrics:
        police = sorted(m.id for m in metrics.values() if m.is_police)
        raise error(f"unknown metric '{metric_id}'; metrics with locations: {', '.join(police)}")
    metric = metrics[metric_id]
    if not metric.is_police:
        raise error(f"'{metric_id}' is a published table of the partnership's figures with no locations; only "
                    "police.uk metrics such as all-crime, asb, vbc, cas or a crime type have them")
    return metric


def type_filters(metric: Metric) -> tuple[list[str] | None, list[str] | None]:
    """The crime types a police.uk metric takes (None: all) and those it leaves out (None: none)."""
    return (list(metric.include_types) if metric.include_types else None), (list(metric.exclude_types) or None)


def parsed_period(text: str, error: type[DomainError] = DomainError) -> Period:
    try:
        return parse_period(text)
    except PeriodError as refused:
        raise error(str(refused)) from None


def loaded_span(session: Session, error: type[DomainError] = DomainError) -> Period:
    """Every loaded month: the period a request means when it names none."""
    return _span(crime_store.available_months(session), error)


def months_loaded_in(session: Session, period: Period, error: type[DomainError] = DomainError) -> list[date]:
    """The loaded months inside `period`; refused when there is none."""
    return _within(crime_store.available_months(session), period, error)


def crime_period(session: Session, text: str | None,
                 error: type[DomainError] = DomainError) -> tuple[Period, list[date]]:
    """The period `text` names (default: every loaded month) and the loaded months inside it."""
    loaded = crime_store.available_months(session)
    span = _span(loaded, error)
    period = parsed_period(text, error) if text else span
    return period, _within(loaded, period, error)


def _span(loaded: list[date], error: type[DomainError]) -> Period:
    if not loaded:
        raise error(NOTHING_LOADED)
    return Period(loaded[0], loaded[-1])


def _within(loaded: list[date], period: Period, error: type[DomainError]) -> list[date]:
    months = [month for month in loaded if period.contains(month)]
    if not months:
        span = f"{loaded[0]:%Y-%m} to {loaded[-1]:%Y-%m}" if loaded else "none"
        raise error(f"no police.uk records for {period.label}; loaded months: {span}")
    return months
