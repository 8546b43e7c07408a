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
    """The set the map opens on for the partnership this transaction acts for (the default one outside a request)."""
    return session.execute(text("SELECT default_set FROM partnerships WHERE slug = atlas_partnership()")).scalar()


def sets_of_kind(session: Session, kind: str, slug: str | None = None) -> list[str]:
    """The partnership's sets of this kind ('ward', 'lsoa'), in its order; without slug, those of the partnership
    this transaction acts for (the default one outside a request)."""
    return list(session.execute(text("""
        SELECT ps.set_id FROM partnership_sets ps
        JOIN partnerships p ON p.slug = ps.partnership_slug
        JOIN boundary_sets s ON s.id = ps.set_id AND s.kind = :kind
        WHERE p.slug = coalesce(CAST(:slug AS text), atlas_partnership())
        ORDER BY ps.position"""), {"kind": kind, "slug": slug}).scalars())


def lsoa_set_beside(session: Session, set_id: str) -> str | None:
    """The LSOA set of the partnership that shows set_id (the acting, then the default partnership first, when
    several do)."""
    return session.execute(text("""
        SELECT o.set_id FROM partnership_sets m
        JOIN partnerships p ON p.slug = m.partnership_slug
        JOIN partnership_sets o ON o.partnership_slug = m.partnership_slug
        JOIN boundary_sets s ON s.id = o.set_id AND s.kind = 'lsoa'
        WHERE m.set_id = :set ORDER BY p.slug = atlas_partnership() DESC, p.is_default DESC, p.slug, o.position
        LIMIT 1"""), {"set": set_id}).scalar()


def exists(session: Session, slug: str) -> bool:
    return session.execute(text("SELECT EXISTS (SELECT 1 FROM partnerships WHERE slug = :slug)"),
                           {"slug": slug}).scalar_one()


def sets_of(session: Session, slug: str) -> list[dict[str, Any]]:
    """The boundary sets a partnership shows, in its order, with what the map needs to offer them."""
    rows = session.execute(text("""
        SELECT b.id, b.kind, b.title, b.valid_from, b.valid_to,
               EXISTS (SELECT 1 FROM ward_clusters c WHERE c.set_id = b.id) AS has_clusters
        FROM partnership_sets s JOIN boundary_sets b ON b.id = s.set_id
        WHERE s.partnership_slug = :slug ORDER BY s.position"""), {"slug": slug}).mappings()
    return [dict(r) for r in rows]


def hidden_sets(session: Session, set_ids: Sequence[str]) -> list[str]:
    """Of these boundary set ids, those that exist but that the partnership this transaction acts for does not show
    (atlas_shows_set, migration 0015)."""
    return list(session.execute(text("""
        SELECT id FROM boundary_sets WHERE id = ANY(:ids) AND NOT atlas_shows_set(id) ORDER BY id"""),
        {"ids": list(set_ids)}).scalars())


def acting_name(session: Session) -> str | None:
    """The name of the partnership this transaction acts for (maps, figure packs and briefings print it)."""
    return session.execute(text("SELECT name FROM partnerships WHERE slug = atlas_partnership()")).scalar()


# police.uk moves each record to a nearby map point, some of them just over a district boundary: a record counts as
# in the area within 0.003 degrees of it (about 200 m east-west and 330 m north-south in England).
AREA_TOLERANCE_DEGREES = 0.003


def in_area(geometry: str) -> str:
    """SQL: `geometry` lies in the area of the partnership the transaction acts for (true while it has none). The
    area is an uncorrelated subquery, computed once per statement, so the spatial index on `geometry` serves."""
    area = "(SELECT area FROM partnerships WHERE slug = atlas_partnership())"
    return f"(ST_DWithin({geometry}, {area}, {AREA_TOLERANCE_DEGREES}) OR {area} IS NULL)"


def adopt_set(session: Session, set_id: str) -> None:
    """A set uploaded for the partnership this transaction acts for becomes one of its sets (last in its order),
    unless a partnership lists it already."""
    session.execute(text("""
        INSERT INTO partnership_sets (partnership_slug, set_id, position)
        SELECT atlas_partnership(), CAST(:id AS varchar), coalesce((SELECT max(position) + 1 FROM partnership_sets
                                                  WHERE partnership_slug = atlas_partnership()), 0)
        WHERE atlas_partnership() IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM partnership_sets WHERE set_id = CAST(:id AS varchar))"""), {"id": set_id})
