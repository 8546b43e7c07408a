"""Partnerships described in data: the default one (Maidstone) is registered with its sets and area, and a bad
description is refused with a message naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.domain.partnerships import PartnershipDefinitionError, read_definition
from server.domain.reference import PARTNERSHIP_DIR
from server.store import partnerships as store
from server.store.db import transaction


def test_the_default_partnership_comes_from_its_description(engine: Engine) -> None:
    definition = read_definition(PARTNERSHIP_DIR / "maidstone.json")
    with transaction(engine) as session:
        default = store.default_partnership(session)
    assert default is not None
    assert (default["slug"], default["name"], default["lad_codes"]) == (
        definition.slug, definition.name, list(definition.lad_codes))
    assert default["set_ids"] == [s.meta.id for s in definition.sets]
    assert default["default_set"] == definition.default_set


def test_the_published_tables_are_loaded_for_the_sets_the_description_names(engine: Engine) -> None:
    """Clusters, the borough-wide series and the derived populations follow the description, not code."""
    definition = read_definition(PARTNERSHIP_DIR / "maidstone.json")
    assert definition.clusters and definition.seed
    with engine.connect() as connection:
        clustered = dict(connection.execute(text(
            "SELECT set_id, bool_and(derived) FROM ward_clusters GROUP BY set_id")).all())
        borough = set(connection.execute(text(
            "SELECT DISTINCT area_code FROM statistics WHERE geography = 'borough'")).scalars())
        populated = dict(connection.execute(text(
            "SELECT set_id, bool_and(derived) FROM populations GROUP BY set_id")).all())
    assert clustered[definition.clusters.set_id] is False
    assert all(clustered[target] for target in definition.clusters.derive_to)
    assert borough == {definition.seed.district_code}
    assert {definition.seed.ward_set, *definition.seed.population_derive_to} <= set(populated)


def test_the_area_is_the_union_of_the_default_sets_areas(engine: Engine) -> None:
    with engine.connect() as connection:
        _slug, inside, area_km2, union_km2 = connection.execute(text("""
            SELECT p.slug,
                   bool_and(ST_Covers(ST_Buffer(p.area::geography, 1)::geometry, ST_PointOnSurface(a.geom))),
                   ST_Area(p.area::geography) / 1e6, ST_Area(ST_Union(a.geom)::geography) / 1e6
            FROM partnerships p JOIN areas a ON a.set_id = p.default_set
            WHERE p.is_default GROUP BY p.slug, p.area""")).one()
    assert inside
    assert area_km2 == pytest.approx(union_km2, rel=1e-6)
    assert 300 < area_km2 < 450  # Maidstone borough is about 393 km²


@pytest.mark.parametrize(("change", "message"), [
    ({"slug": "Bad Slug"}, "a slug is 2-40 lower-case letters"),
    ({"lad_codes": ["E07000110", "X1"]}, "'X1': give one or more ONS local authority district codes"),
    ({"lad_codes": []}, "district codes none"),
    ({"default_set": "wards-1999"}, "default_set 'wards-1999' is not one of its boundary_sets"),
    ({"clusters": {"set": "wards-1999", "file": "c.csv", "source": "s"}},
     "clusters 'wards-1999' is not one of its boundary_sets"),
    ({"seed_statistics": {"ward_set": "wards-2013", "district_code": "Z1", "population_year": 2021}},
     "'Z1': give one or more ONS local authority district codes"),
    ({"name": None, "slug": "ok"}, None),
])
def test_a_bad_description_is_refused_naming_the_field(tmp_path: Path, change: dict, message: str | None) -> None:
    data = json.loads((PARTNERSHIP_DIR / "maidstone.json").read_text(encoding="utf-8"))
    data.update(change)
    if change.get("name", "") is None:
        del data["name"]
        message = "'name'"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PartnershipDefinitionError) as raised:
        read_definition(path)
    assert message in str(raised.value)
    assert str(raised.value).startswith("broken.json: ")
