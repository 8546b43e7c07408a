"""Counts of police.uk records read from two summary tables instead of the half-million-row record table: records per
month and crime type (crime_month_counts) and placed records per boundary area, month and crime type
(crime_area_counts). Triggers on crime_records and crime_placements keep both exact on every insert, COPY, delete and
update, whoever writes (migration 0013_crime_summaries); `rebuild` recomputes them from scratch for a writer that
bypasses the triggers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def rebuild(session: Session) -> None:
    """Recompute both summaries from crime_records and crime_placements (in the caller's transaction)."""
    session.execute(text("SELECT crime_summaries_rebuild()"))


def _filter(alias: str, month_from: date, month_to: date, crime_type_slugs: list[str] | None,
            exclude_slugs: list[str] | None) -> tuple[str, dict[str, Any]]:
    clauses = [f"{alias}.month BETWEEN :month_from AND :month_to"]
    params: dict[str, Any] = {"month_from": month_from.replace(day=1), "month_to": month_to}
    if crime_type_slugs is not None:
        clauses.append(f"{alias}.crime_type_slug = ANY(:include_slugs)")
        params["include_slugs"] = list(crime_type_slugs)
    if exclude_slugs:
        clauses.append(f"{alias}.crime_type_slug <> ALL(:exclude_slugs)")
        params["exclude_slugs"] = list(exclude_slugs)
    return " AND ".join(clauses), params


def count_by_area(session: Session, set_id: str, month_from: date, month_to: date,
                  crime_type_slugs: list[str] | None = None,
                  exclude_slugs: list[str] | None = None) -> dict[str, int]:
    """Records per area code of a set (every area, zero included) for months month_from..month_to inclusive."""
    where, params = _filter("c", month_from, month_to, crime_type_slugs, exclude_slugs)
    rows = session.execute(text(f"""
        SELECT a.code, coalesce(sum(c.records), 0)::bigint FROM areas a
        LEFT JOIN crime_area_counts c ON c.set_id = a.set_id AND c.area_code = a.code AND {where}
        WHERE a.set_id = :set
        GROUP BY a.code ORDER BY a.code"""), {**params, "set": set_id}).all()
    return {code: count for code, count in rows}


def available_months(session: Session) -> list[date]:
    return list(session.execute(text(
        "SELECT DISTINCT month FROM crime_month_counts WHERE records > 0 ORDER BY month")).scalars())


def crime_types(session: Session) -> list[tuple[str, str, int]]:
    """(slug, name as published, number of records), most frequent first."""
    rows = session.execute(text("""
        SELECT crime_type_slug, min(crime_type), sum(records)::bigint FROM crime_month_counts WHERE records > 0
        GROUP BY crime_type_slug ORDER BY sum(records) DESC, crime_type_slug""")).all()
    return [(slug, name, count) for slug, name, count in rows]


def unplaced_counts(session: Session, set_ids: list[str], month_from: date, month_to: date,
                    crime_type_slugs: list[str] | None = None,
                    exclude_slugs: list[str] | None = None) -> dict[str, int]:
    """Per boundary set, records of the period with no area in that set (no-location records included)."""
    where, params = _filter("m", month_from, month_to, crime_type_slugs, exclude_slugs)
    records = session.execute(text(f"SELECT coalesce(sum(records), 0)::bigint FROM crime_month_counts m "
                                   f"WHERE {where}"), params).scalar_one()
    where, params = _filter("c", month_from, month_to, crime_type_slugs, exclude_slugs)
    placed = dict(session.execute(text(f"""
        SELECT c.set_id, sum(c.records)::bigint FROM crime_area_counts c WHERE {where} GROUP BY c.set_id"""),
        params).all())
    return {set_id: records - placed.get(set_id, 0) for set_id in set_ids}


def no_location_count(session: Session, month_from: date, month_to: date,
                      crime_type_slugs: list[str] | None = None,
                      exclude_slugs: list[str] | None = None) -> int:
    """Records of the period that police.uk published without coordinates."""
    where, params = _filter("m", month_from, month_to, crime_type_slugs, exclude_slugs)
    return session.execute(text(f"SELECT coalesce(sum(no_location), 0)::bigint FROM crime_month_counts m "
                                f"WHERE {where}"), params).scalar_one()


def month_summary(session: Session) -> list[dict[str, Any]]:
    """Per month: records, of which anti-social behaviour, and without location."""
    rows = session.execute(text("""
        SELECT month, sum(records)::bigint AS records,
               coalesce(sum(records) FILTER (WHERE crime_type_slug = 'anti-social-behaviour'), 0)::bigint AS asb,
               sum(no_location)::bigint AS no_location
        FROM crime_month_counts WHERE records > 0 GROUP BY month ORDER BY month""")).mappings().all()
    return [dict(r) for r in rows]
