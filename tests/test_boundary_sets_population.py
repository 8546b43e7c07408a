"""GET /api/boundary-sets says which sets have a population loaded: the map's default measure is the rate per 1,000
residents where there is one, else density per km²."""

from __future__ import annotations

from sqlalchemy import text

from server.store.db import transaction


def test_each_set_says_whether_a_population_is_loaded(client, engine):
    with transaction(engine) as session:
        loaded = dict(session.execute(text(
            "SELECT set_id, count(*) FROM populations GROUP BY set_id")).all())
    sets = {s["id"]: s for s in client.get("/api/boundary-sets").get_json()["boundary_sets"]}
    assert sets and set(loaded) <= set(sets)
    for set_id, item in sets.items():
        if set_id in loaded:
            assert item["population"]["areas"] == loaded[set_id] and item["population"]["year"] > 2000
        else:
            assert item["population"] is None
    assert sets["wards-2024"]["population"]["areas"] == 22 and sets["lsoa-2011"]["population"] is None
