"""Opt-in (run with --scale): Swale set up with the README's command from ../shared/bench-data, then the Kent file
imported once. Swale's 25 wards classified by its 2022 crime must equal a point-in-polygon count of the Kent file
made here with geopandas, plus only the few records whose point lies in no Swale ward polygon (a gap between
generalised outlines) but whose police.uk LSOA is Swale's; and Maidstone's layer must be what it would be without
Swale."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Point
from sqlalchemy import Engine, text

from server.cli import cli
from server.domain.layers import LayerRequest, build_layer
from server.domain.police_import import import_police_files, open_police_files
from server.store import crime as crime_store
from server.store.db import transaction
from tests.conftest import SHARED

BENCH = SHARED / "bench-data"
KENT = BENCH / "kent-street-2022-01-to-11.csv.gz"
WARDS = BENCH / "kent_wards_2013.geojson"
SWALE = "E07000113"
PERIOD = "2022-01/2022-11"
README_COMMAND = ["partnership", "create", "swale", "--lad", SWALE, "--name", "Swale Community Safety Partnership",
                  "--wards", str(WARDS), "--lsoas", str(BENCH / "england_lsoa_2011.geojson.gz"),
                  "--imd", str(BENCH / "imd2019_lsoa.csv")]


def layer_values(engine: Engine, set_id: str, without_swale: bool = False) -> dict[str, float | None]:
    """The all-crime layer's values; without_swale: as they would be had Swale never been set up (its sets removed
    and the set's records placed again, in a transaction rolled back afterwards)."""
    with transaction(engine) as session:
        if without_swale:
            session.execute(text("DELETE FROM partnerships WHERE slug = 'swale'"))
            session.execute(text("DELETE FROM boundary_sets WHERE id LIKE 'swale-%'"))
            crime_store.place_records(session, [set_id])
        layer = build_layer(session, LayerRequest(set_id=set_id, metric="all-crime", period=PERIOD))
        session.rollback()
    return {f["properties"]["code"]: f["properties"]["value"] for f in layer["features"]}


def swale_wards() -> gpd.GeoDataFrame:
    wards = gpd.read_file(WARDS)
    return wards[wards["LAD_CODE"] == SWALE][["WD13CD", "geometry"]]


def placed_by_code(engine: Engine) -> list[tuple[str, str, Point]]:
    """(ward, LSOA name, point) of the crimes of the period placed in Swale's wards other than by their point."""
    with transaction(engine) as session:
        rows = session.execute(text("""
            SELECT p.area_code, r.lsoa_name, ST_X(r.geom), ST_Y(r.geom) FROM crime_placements p
            JOIN crime_records r ON r.id = p.record_id
            WHERE p.set_id = 'swale-wards-2013' AND p.method <> 'within' AND r.geom IS NOT NULL
              AND r.month BETWEEN '2022-01-01' AND '2022-11-01' AND r.crime_type_slug <> 'anti-social-behaviour'""")
                               ).all()
    return [(code, name, Point(lon, lat)) for code, name, lon, lat in rows]


def point_in_polygon_counts() -> dict[str, int]:
    """Crimes (not ASB) of the Kent file per Swale ward: a record is stored once per Crime ID (rows without one are
    each a record), and a point on a shared border counts for the ward with the lower code, as the import does."""
    rows = pd.read_csv(KENT, dtype=str)
    rows = rows[rows["Crime ID"].isna() | ~rows["Crime ID"].duplicated()]
    rows = rows[rows["Longitude"].notna() & (rows["Crime type"] != "Anti-social behaviour")]
    points = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["Longitude"].astype(float),
                                                                rows["Latitude"].astype(float)), crs=4326)
    wards = swale_wards()
    joined = gpd.sjoin(points, wards, predicate="intersects").sort_values("WD13CD")
    joined = joined[~joined.index.duplicated(keep="first")]
    counts = joined.groupby("WD13CD").size()
    return {code: int(counts.get(code, 0)) for code in wards["WD13CD"]}


@pytest.mark.scale
def test_swale_set_up_from_the_readme_counts_the_kent_file_as_a_point_in_polygon_count(engine: Engine) -> None:
    import_ids: list[int] = []
    try:
        created = CliRunner().invoke(cli, README_COMMAND)
        assert created.exit_code == 0, created.output
        summary = import_police_files(engine, open_police_files([(KENT, KENT.name)]))
        import_ids = [part.import_id for part in summary.files]
        swale = layer_values(engine, "swale-wards-2013")
        assert len(swale) == 25
        expected = point_in_polygon_counts()
        assert sum(expected.values()) > 10_000
        by_code = placed_by_code(engine)
        assert len(by_code) <= 5 and all(name.startswith("Swale ") for _code, name, _point in by_code)
        assert not gpd.sjoin(gpd.GeoDataFrame(geometry=[point for *_rest, point in by_code], crs=4326),
                             swale_wards(), predicate="intersects").shape[0], "placed by code inside a ward"
        for code, _name, _point in by_code:
            expected[code] += 1
        assert swale == {code: float(count) for code, count in expected.items()}
        maidstone = layer_values(engine, "wards-2024")
        assert maidstone == layer_values(engine, "wards-2024", without_swale=True)
        assert sum(maidstone.values()) > 10_000
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM crime_records WHERE import_id = ANY(:ids)"), {"ids": import_ids})
            session.execute(text("DELETE FROM crime_imports WHERE id = ANY(:ids)"), {"ids": import_ids})
            session.execute(text("DELETE FROM partnerships WHERE slug = 'swale'"))
            session.execute(text("DELETE FROM boundary_sets WHERE id LIKE 'swale-%'"))
