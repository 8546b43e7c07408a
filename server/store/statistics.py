"""SQL for published statistics (the partnership's own tables), populations and the data version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StatisticRow:
    area_code: str
    year: int
    value: float | None
    month: int | None = None


def replace_metric(session: Session, metric: str, geography: str, rows: list[StatisticRow], source: str) -> int:
    session.execute(text("DELETE FROM statistics WHERE metric = :m AND geography = :g"), {"m": metric, "g": geography})
    session.execute(
        text("INSERT INTO statistics (metric, geography, area_code, year, month, value, source) "
             "VALUES (:metric, :geography, :area_code, :year, :month, :value, :source)"),
        [{"metric": metric, "geography": geography, "source": source, **row.__dict__} for row in rows])
    return len(rows)


def metric_source(session: Session, metric: str) -> str | None:
    return session.execute(text("SELECT min(source) FROM statistics WHERE metric = :m"), {"m": metric}).scalar()


def metric_years(session: Session, metric: str) -> list[int]:
    return list(session.execute(text("SELECT DISTINCT year FROM statistics WHERE metric = :m ORDER BY year"),
                                {"m": metric}).scalars())


def metric_values(session: Session, metric: str, year: int) -> dict[str, float | None]:
    """Yearly values by area code (rows without a month)."""
    rows = session.execute(
        text("SELECT area_code, value FROM statistics WHERE metric = :m AND year = :y AND month IS NULL"),
        {"m": metric, "y": year})
    return dict(rows.all())


def monthly_series(session: Session, metric: str) -> list[dict]:
    rows = session.execute(
        text("SELECT area_code, year, month, value FROM statistics WHERE metric = :m AND month IS NOT NULL "
             "ORDER BY year, month, area_code"), {"m": metric}).mappings()
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class Population:
    values: dict[str, float]
    year: int | None
    derived: bool
    source: str


def replace_populations(session: Session, set_id: str, values: dict[str, float], year: int, source: str,
                        derived: bool) -> int:
    session.execute(text("DELETE FROM populations WHERE set_id = :s"), {"s": set_id})
    session.execute(
        text("INSERT INTO populations (set_id, area_code, year, population, derived, source) "
             "VALUES (:s, :code, :year, :population, :derived, :source)"),
        [{"s": set_id, "code": code, "year": year, "population": population, "derived": derived, "source": source}
         for code, population in values.items()])
    return len(values)


def populations(session: Session, set_id: str) -> Population | None:
    rows = session.execute(
        text("SELECT area_code, population, year, derived, source FROM populations WHERE set_id = :s"),
        {"s": set_id}).mappings().all()
    if not rows:
        return None
    return Population(values={r["area_code"]: r["population"] for r in rows}, year=rows[0]["year"],
                      derived=any(r["derived"] for r in rows), source=rows[0]["source"])


def hotspot_data_version(session: Session) -> int:
    """Bumped by writes to the hotspot layers, places and points of the partnership this transaction acts for only
    (never by the public data, nor by another partnership's writes: migration 0015)."""
    return session.execute(text("SELECT coalesce((SELECT version FROM partnership_hotspot_versions "
                                "WHERE partnership_slug = atlas_partnership()), 0)")).scalar_one()


def data_version(session: Session) -> int:
    """Bumped by a trigger on every write to the data tables: the cache key of every derived response."""
    return session.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar_one()
