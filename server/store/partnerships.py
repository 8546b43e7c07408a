"""SQL for partnerships: who they are, which boundary sets they show and the area they cover."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = """p.slug, p.name, p.lad_codes, p.parent_slug, p.is_default, p.default_set,
    CASE WHEN p.area IS NULL THEN NULL ELSE
        json_build_array(ST_XMin(p.area), ST_YMin(p.area), ST_XMax(p.area), ST_YMax(p.area)) END AS bbox,
    coalesce((SELECT array_agg(s.set_id ORDER BY s.position) FROM partnership_sets s
              WHERE s.partnership_slug = p.slug), '{}') AS set_ids"""


def upsert_partnership(session: Session, slug: str, name: str, lad_codes: Sequence[str],
                       parent_slug: str | None = None, is_default: bool = False) -> None:
    """Create or rename a partnership; making it the default takes that from any other (one default)."""
    if is_default:
        session.execute(text("UPDATE partnerships SET is_default = false WHERE is_default AND slug <> :slug"),
                        {"slug": slug})
    session.execute(text("""
        INSERT INTO partnerships (slug, name, lad_codes, parent_slug, is_default)
        VALUES (:slug, :name, :lads, :parent, :is_default)
        ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, lad_codes = EXCLUDED.lad_codes,
            parent_slug = EXCLUDED.parent_slug, is_default = EXCLUDED.is_default"""),
                    {"slug": slug, "name": name, "lads": list(lad_codes), "parent": parent_slug,
                     "is_default": is_default})


def replace_partnership_sets(session: Session, slug: str, set_ids: Sequence[str], default_set: str | None) -> None:
    """The sets the partnership shows, in order, and the one its map opens on; then its area from that set."""
    session.execute(text("DELETE FROM partnership_sets WHERE partnership_slug = :slug"), {"slug": slug})
    for position, set_id in enumerate(set_ids):
        session.execute(text("INSERT INTO partnership_sets (partnership_slug, set_id, position) "
                             "VALUES (:slug, :set_id, :position)"),
                        {"slug": slug, "set_id": set_id, "position": position})
    session.execute(text("UPDATE partnerships SET default_set = :default_set WHERE slug = :slug"),
                    {"slug": slug, "default_set": default_set})
    refresh_area(session, slug)


def refresh_area(session: Session, slug: str) -> None:
    """The partnership's area: the union of its default set's areas (None while it has none)."""
    session.execute(text("""
        UPDATE partnerships p SET area = (
            SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(a.geom)), 3))
            FROM areas a WHERE a.set_id = p.default_set)
        WHERE p.slug = :slug"""), {"slug": slug})


def list_partnerships(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(f"SELECT {_COLUMNS} FROM partnerships p ORDER BY p.is_default DESC, p.name"))
    return [dict(r) for r in rows.mappings()]


def get_partnership(session: Session, slug: str) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {_COLUMNS} FROM partnerships p WHERE p.slug = :slug"),
                          {"slug": slug}).mappings().first()
    return dict(row) if row else None


def default_partnership(session: Session) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {_COLUMNS} FROM partnerships p WHERE p.is_default")).mappings().first()
    return dict(row) if row else None


def partnership_outline(session: Session, slug: str) -> dict[str, Any] | None:
    """The area as GeoJSON geometry (RFC 7946: lon/lat, counter-clockwise outer rings), or None."""
    value = session.execute(text("SELECT ST_AsGeoJSON(ST_ForcePolygonCCW(area), 6) FROM partnerships "
                                 "WHERE slug = :slug"), {"slug": slug}).scalar()
    return json.loads(value) if value else None


def partnership_set_rows(session: Session, slug: str) -> list[dict[str, Any]]:
    """The partnership's boundary sets in order: id, kind, title, validity and number of areas."""
    rows = session.execute(text("""
        SELECT s.id, s.kind, s.title, s.valid_from, s.valid_to,
               (SELECT count(*) FROM areas a WHERE a.set_id = s.id) AS feature_count
        FROM partnership_sets ps JOIN boundary_sets s ON s.id = ps.set_id
        WHERE ps.partnership_slug = :slug ORDER BY ps.position"""), {"slug": slug}).mappings().all()
    return [dict(r) for r in rows]


def area_km2(session: Session, slug: str) -> float | None:
    return session.execute(text("SELECT ST_Area(area::geography) / 1e6 FROM partnerships WHERE slug = :slug"),
                           {"slug": slug}).scalar()


def default_set(session: Session) -> str | None:
    """The set the default partnership's map opens on."""
    return session.execute(text("SELECT default_set FROM partnerships WHERE is_default")).scalar()


def sets_of_kind(session: Session, kind: str, slug: str | None = None) -> list[str]:
    """The partnership's sets of this kind ('ward', 'lsoa'), in its order; the default partnership's without slug."""
    return list(session.execute(text("""
        SELECT ps.set_id FROM partnership_sets ps
        JOIN partnerships p ON p.slug = ps.partnership_slug
        JOIN boundary_sets s ON s.id = ps.set_id AND s.kind = :kind
        WHERE CASE WHEN CAST(:slug AS text) IS NULL THEN p.is_default ELSE p.slug = :slug END
        ORDER BY ps.position"""), {"kind": kind, "slug": slug}).scalars())


def lsoa_set_beside(session: Session, set_id: str) -> str | None:
    """The LSOA set of the partnership that shows set_id (the default partnership first, when several do)."""
    return session.execute(text("""
        SELECT o.set_id FROM partnership_sets m
        JOIN partnerships p ON p.slug = m.partnership_slug
        JOIN partnership_sets o ON o.partnership_slug = m.partnership_slug
        JOIN boundary_sets s ON s.id = o.set_id AND s.kind = 'lsoa'
        WHERE m.set_id = :set ORDER BY p.is_default DESC, p.slug, o.position LIMIT 1"""), {"set": set_id}).scalar()
