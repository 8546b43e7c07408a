"""Loading boundary files: formats, CRS handling, every rejection, repair and atomic replacement."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import LineString, Point, Polygon
from sqlalchemy import Engine, text

from server.domain import boundary_files
from server.domain.boundary_files import BoundaryFileError, read_boundary_file, store_boundary_set
from server.store import boundaries as store
from server.store.db import transaction
from tests.conftest import GEODATA

WARDS_2013 = GEODATA / "maidstone_wards_2013.geojson"


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return gpd.read_file(WARDS_2013)


def zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, *, drop: tuple[str, ...] = (),
                     name: str = "wards") -> Path:
    shp_dir = folder / "shp"
    shp_dir.mkdir(exist_ok=True)
    frame.to_file(shp_dir / f"{name}.shp")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for member in sorted(shp_dir.iterdir()):
            if member.suffix not in drop:
                zf.write(member, f"{name}/{member.name}")
    return archive


def load(engine: Engine, set_id: str, path: Path, code: str = "WD13CD", name: str = "WD13NM",
         crs: str | None = None) -> store.LoadReport:
    data = read_boundary_file(path, code_field=code, name_field=name, crs=crs)
    meta = store.BoundarySetMeta(id=set_id, kind="ward", title=set_id, code_field=code, name_field=name)
    with transaction(engine) as session:
        return store_boundary_set(session, meta, data)


def problems_of(path: Path, **kwargs) -> str:
    kwargs.setdefault("code_field", "WD13CD")
    kwargs.setdefault("name_field", "WD13NM")
    with pytest.raises(BoundaryFileError) as caught:
        read_boundary_file(path, **kwargs)
    return caught.value.message


def area_by_code(engine: Engine, set_id: str) -> dict[str, float]:
    with transaction(engine) as session:
        rows = session.execute(text("SELECT code, area_km2 FROM areas WHERE set_id = :s"), {"s": set_id})
        return dict(rows.all())


def test_zipped_bng_shapefile_loads_with_areas_matching_postgis_on_the_source(
        engine, wards, tmp_path, scratch_set):
    archive = zipped_shapefile(wards.to_crs(27700), tmp_path)
    report = load(engine, scratch_set, archive)
    assert report.features == 26
    assert "27700" in report.source_crs
    loaded = area_by_code(engine, scratch_set)
    source = json.loads(WARDS_2013.read_text())
    with transaction(engine) as session:
        for feature in source["features"]:
            expected = session.execute(
                text("SELECT ST_Area(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)::geography) / 1e6"),
                {"g": json.dumps(feature["geometry"])}).scalar_one()
            code = feature["properties"]["WD13CD"]
            assert loaded[code] == pytest.approx(expected, rel=0.005), code


def test_geopackage_and_geojson_load(engine, wards, tmp_path, scratch_set):
    gpkg = tmp_path / "wards.gpkg"
    wards.to_crs(27700).to_file(gpkg, layer="wards", driver="GPKG")
    assert load(engine, scratch_set, gpkg).features == 26
    geojson = tmp_path / "wards.geojson"
    wards.to_file(geojson, driver="GeoJSON")
    report = load(engine, scratch_set, geojson)
    assert report.replaced and report.features == 26


def test_new_wards_tile_the_borough_like_the_old_ones(engine):
    with transaction(engine) as session:
        row = session.execute(text("""
            SELECT set_id, sum(area_km2) AS total, ST_Area(ST_Union(geom)::geography) / 1e6 AS union_area
            FROM areas WHERE set_id IN ('wards-2013', 'wards-2024') GROUP BY set_id""")).mappings().all()
    by_set = {r["set_id"]: r for r in row}
    old, new = by_set["wards-2013"], by_set["wards-2024"]
    assert new["union_area"] == pytest.approx(old["union_area"], rel=0.005)
    assert new["total"] == pytest.approx(new["union_area"], rel=0.005), "the 2024 wards overlap"


def test_shapefile_without_prj_needs_a_crs(engine, wards, tmp_path, scratch_set):
    archive = zipped_shapefile(wards.to_crs(27700), tmp_path, drop=(".prj",))
    message = problems_of(archive)
    assert "no coordinate reference system" in message and "EPSG:27700" in message
    assert load(engine, scratch_set, archive, crs="EPSG:27700").features == 26


def test_crs_that_contradicts_the_file_is_refused(wards, tmp_path):
    archive = zipped_shapefile(wards.to_crs(27700), tmp_path)
    assert "declares" in problems_of(archive, crs="EPSG:4326")


@pytest.mark.parametrize("missing", [".shx", ".dbf", ".shp"])
def test_zip_missing_a_shapefile_member(wards, tmp_path, missing):
    archive = zipped_shapefile(wards, tmp_path, drop=(missing,))
    message = problems_of(archive)
    assert ("no .shp" in message) if missing == ".shp" else (missing in message and "missing" in message)


def test_corrupt_files_are_named(tmp_path):
    broken_zip = tmp_path / "wards.zip"
    broken_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert "wards.zip: not a readable zip archive" in problems_of(broken_zip)
    broken_gpkg = tmp_path / "wards.gpkg"
    broken_gpkg.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    assert "wards.gpkg: unreadable or corrupt file" in problems_of(broken_gpkg)
    assert "unsupported file type '.csv'" in problems_of(tmp_path / "wards.csv")


def test_unknown_field_lists_the_fields_that_exist(tmp_path, wards):
    path = tmp_path / "wards.geojson"
    wards.to_file(path, driver="GeoJSON")
    message = problems_of(path, code_field="WD24CD")
    assert "field 'WD24CD' not found" in message
    assert "WD13CD, WD13CDO, WD13NM" in message


def write_features(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def feature(code: str | None, geometry) -> dict:
    return {"type": "Feature", "properties": {"WD13CD": code, "WD13NM": f"Ward {code}"},
            "geometry": None if geometry is None else geometry.__geo_interface__}


SQUARE = Polygon([(0.50, 51.25), (0.51, 51.25), (0.51, 51.26), (0.50, 51.26)])


def test_each_bad_feature_is_named_with_its_reason(tmp_path):
    path = write_features(tmp_path / "bad.geojson", [
        feature("E1", SQUARE),
        feature("E1", SQUARE),
        feature("", SQUARE),
        feature("E3", None),
        feature("E4", Point(0.5, 51.2)),
        feature("E5", LineString([(0.5, 51.2), (0.6, 51.3)])),
    ])
    message = problems_of(path)
    assert "feature 2 (E1): duplicate WD13CD (also feature 1)" in message
    assert "feature 3: empty WD13CD" in message
    assert "feature 4 (E3): empty or missing geometry" in message
    assert "feature 5 (E4): geometry is a Point" in message
    assert "feature 6 (E5): geometry is a LineString" in message


def test_geometry_outside_england_suggests_a_wrong_crs(tmp_path, wards):
    # British National Grid coordinates in a GeoJSON file, which by definition is lon/lat.
    bng = wards.to_crs(27700)
    path = write_features(tmp_path / "mislabelled.geojson",
                          [feature(code, geometry) for code, geometry in zip(bng.WD13CD, bng.geometry, strict=True)])
    message = problems_of(path)
    assert "lies outside England" in message and "coordinate reference system is probably wrong" in message


def test_empty_file_is_refused(tmp_path):
    assert "no features" in problems_of(write_features(tmp_path / "empty.geojson", []))


def test_zip_with_unsafe_member_paths(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/wards.shp", b"x")
        zf.writestr("/abs/wards.dbf", b"x")
    message = problems_of(archive)
    assert "'../../etc/wards.shp' has an absolute or parent-directory path" in message
    assert "'/abs/wards.dbf'" in message


def test_zip_that_unpacks_too_large(tmp_path, wards, monkeypatch):
    archive = zipped_shapefile(wards, tmp_path)
    monkeypatch.setattr(boundary_files, "MAX_ZIP_UNCOMPRESSED_BYTES", 1024)
    assert "unpacks to" in problems_of(archive)


def test_invalid_polygon_is_repaired_and_counted(engine, tmp_path, scratch_set):
    bowtie = Polygon([(0.50, 51.25), (0.52, 51.27), (0.52, 51.25), (0.50, 51.27)])
    path = write_features(tmp_path / "bowtie.geojson", [feature("E9", bowtie), feature("E8", SQUARE)])
    report = load(engine, scratch_set, path)
    assert report.repaired == 1
    with transaction(engine) as session:
        valid = session.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM areas WHERE set_id = :s"),
                                {"s": scratch_set}).scalar()
    assert valid


def test_failed_reload_leaves_the_old_set_untouched(engine, wards, tmp_path, scratch_set):
    good = tmp_path / "good.geojson"
    wards.to_file(good, driver="GeoJSON")
    load(engine, scratch_set, good)
    before = area_by_code(engine, scratch_set)
    # A file that passes validation but fails inside the transaction (a polygon that collapses).
    sliver = Polygon([(0.50, 51.25), (0.51, 51.25), (0.52, 51.25), (0.50, 51.25)])
    bad = write_features(tmp_path / "bad.geojson", [feature("E7", SQUARE), feature("E6", sliver)])
    with pytest.raises(BoundaryFileError, match="no area once made valid"):
        load(engine, scratch_set, bad)
    assert area_by_code(engine, scratch_set) == before
