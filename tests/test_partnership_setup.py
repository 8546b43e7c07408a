"""Setting up a partnership from a file of many districts (`partnership create`): the features of its district codes
are selected, loaded like any boundary file and listed as its sets; re-running changes nothing; every refusal names
the file and the reason and leaves nothing behind; a county partnership spans several districts.

The "national" files are built here from Maidstone's wards and LSOAs, split into two made-up districts."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from server.cli import cli
from server.domain.boundary_files import BoundaryFileError
from server.domain.partnership_setup import (
    DistrictFile,
    PartnershipSetupError,
    checked_setup,
    create_partnership,
)
from server.domain.partnerships import PartnershipDefinitionError
from server.store import partnerships as partnership_store
from server.store.db import transaction
from tests.conftest import GEODATA

NORTH, SOUTH = "E07000901", "E07000902"  # made-up district codes: Maidstone's areas split in two


@pytest.fixture(scope="module")
def district_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """wards.geojson (WD13CD, WD13NM, LAD_CODE), lsoas.geojson.gz (LSOA11CD, LSOA11NM, LAD_CODE) and imd.csv: the
    northern half of Maidstone's wards and LSOAs (by their centre's latitude) in NORTH, the rest in SOUTH."""
    folder = tmp_path_factory.mktemp("districts")
    paths = {}
    for key, file, name in (("wards", "maidstone_wards_2013.geojson", "wards.geojson"),
                            ("lsoas", "maidstone_lsoa_2011.geojson", "lsoas.geojson")):
        frame = gpd.read_file(GEODATA / file)
        middle = frame.geometry.representative_point().y.median()
        frame["LAD_CODE"] = [NORTH if y > middle else SOUTH for y in frame.geometry.representative_point().y]
        frame.to_file(folder / name, driver="GeoJSON")
        paths[key] = folder / name
    gzipped = folder / "lsoas.geojson.gz"
    gzipped.write_bytes(gzip.compress(paths["lsoas"].read_bytes()))
    paths["lsoas"] = gzipped
    paths["imd"] = GEODATA / "maidstone_imd2019.csv"
    return paths


def expected_codes(path: Path, code_field: str, lads: set[str]) -> set[str]:
    frame = gpd.read_file(f"/vsigzip/{path}" if path.suffix == ".gz" else path)
    return set(frame.loc[frame["LAD_CODE"].isin(lads), code_field])


@pytest.fixture
def slugs(engine: Engine) -> Iterator[list[str]]:
    """Slugs for the test's partnerships; they and their sets are removed afterwards (children first)."""
    made: list[str] = []
    yield made
    with transaction(engine) as session:
        for slug in reversed(made):
            session.execute(text("DELETE FROM partnerships WHERE slug = :slug"), {"slug": slug})
            session.execute(text("DELETE FROM boundary_sets WHERE id LIKE :prefix"), {"prefix": f"{slug}-%"})


def new_slug(slugs: list[str]) -> str:
    slugs.append(f"t{uuid.uuid4().hex[:10]}")
    return slugs[-1]


def setup_of(files: dict[str, Path], slug: str, lads: list[str], **changes):
    wards = DistrictFile(changes.pop("wards", files["wards"]), changes.pop("ward_lad_field", "LAD_CODE"),
                         "WD13CD", "WD13NM")
    lsoas = DistrictFile(changes.pop("lsoas", files["lsoas"]), "LAD_CODE", "LSOA11CD", "LSOA11NM")
    return checked_setup(slug, changes.pop("name", f"Test partnership {slug}"), lads,
                         changes.pop("parent", None), wards=wards, lsoas=lsoas, imd=changes.pop("imd", files["imd"]))


def stored_state(engine: Engine, slug: str) -> dict:
    with transaction(engine) as session:
        sets = session.execute(text("SELECT id, source_checksum, loaded_at, "
                                    "(SELECT array_agg(code ORDER BY code) FROM areas a WHERE a.set_id = s.id) "
                                    "FROM boundary_sets s WHERE id LIKE :prefix ORDER BY id"),
                               {"prefix": f"{slug}-%"}).all()
        return {"partnership": partnership_store.get_partnership(session, slug), "sets": [tuple(r) for r in sets]}


def test_the_districts_features_are_selected_by_code(engine: Engine, district_files, slugs) -> None:
    slug = new_slug(slugs)
    report = create_partnership(engine, setup_of(district_files, slug, [NORTH]), log=lambda _m: None)
    assert report.created
    with transaction(engine) as session:
        found = partnership_store.get_partnership(session, slug)
        wards = set(session.execute(text("SELECT code FROM areas WHERE set_id = :s"),
                                    {"s": f"{slug}-wards-2013"}).scalars())
        lsoas = set(session.execute(text("SELECT code FROM areas WHERE set_id = :s"),
                                    {"s": f"{slug}-lsoa-2011"}).scalars())
        kinds = dict(session.execute(text("SELECT id, kind FROM boundary_sets WHERE id LIKE :p"),
                                     {"p": f"{slug}-%"}).all())
        deprived = session.execute(text("SELECT count(*) FROM lsoa_deprivation WHERE lsoa_code = ANY(:c)"),
                                   {"c": list(lsoas)}).scalar_one()
    assert wards == expected_codes(district_files["wards"], "WD13CD", {NORTH}) and 10 <= len(wards) <= 16
    assert lsoas == expected_codes(district_files["lsoas"], "LSOA11CD", {NORTH}) and 40 <= len(lsoas) <= 55
    assert kinds == {f"{slug}-wards-2013": "ward", f"{slug}-lsoa-2011": "lsoa"}
    assert deprived == len(lsoas)
    assert found["lad_codes"] == [NORTH] and found["default_set"] == f"{slug}-wards-2013"
    assert found["set_ids"] == [f"{slug}-wards-2013", f"{slug}-lsoa-2011"] and not found["is_default"]
    assert found["bbox"] is not None


def test_running_it_again_changes_nothing(engine: Engine, district_files, slugs) -> None:
    slug = new_slug(slugs)
    create_partnership(engine, setup_of(district_files, slug, [SOUTH]), log=lambda _m: None)
    before = stored_state(engine, slug)
    again = create_partnership(engine, setup_of(district_files, slug, [SOUTH]), log=lambda _m: None)
    assert not again.created
    assert [outcome for _set, outcome in again.sets] == ["up to date", "up to date"]
    assert again.deprivation == "up to date"
    assert stored_state(engine, slug) == before


def test_a_county_partnership_spans_its_districts_and_owns_district_ones(engine: Engine, district_files,
                                                                         slugs) -> None:
    county, district = new_slug(slugs), new_slug(slugs)
    create_partnership(engine, setup_of(district_files, county, [NORTH, SOUTH]), log=lambda _m: None)
    create_partnership(engine, setup_of(district_files, district, [SOUTH], parent=county), log=lambda _m: None)
    with transaction(engine) as session:
        counts = dict(session.execute(text("SELECT set_id, count(*) FROM areas WHERE set_id LIKE ANY(:p) "
                                           "GROUP BY set_id"), {"p": [f"{county}-%", f"{district}-%"]}).all())
        km2 = {slug: partnership_store.area_km2(session, slug) for slug in (county, district)}
        child = partnership_store.get_partnership(session, district)
    assert counts[f"{county}-wards-2013"] == 26 and counts[f"{county}-lsoa-2011"] == 95
    assert counts[f"{district}-wards-2013"] < 26
    assert child["parent_slug"] == county and child["lad_codes"] == [SOUTH]
    assert 300 < km2[county] < 450 and km2[district] < km2[county]


def refusal(engine: Engine, setup) -> str:
    with pytest.raises((BoundaryFileError, PartnershipSetupError)) as raised:
        create_partnership(engine, setup, log=lambda _m: None)
    return str(raised.value)


BROKEN = {"lsoas.geojson": '{"type": "FeatureCollection", "features": [', "imd.csv": "lsoa11cd,Rank\nE01024320,5\n"}


@pytest.mark.parametrize(("lads", "changes", "expected"), [
    ([NORTH, "E07000999"], {}, ["wards.geojson: ", "no feature has LAD_CODE E07000999",
                                f"the file has 2 codes: {NORTH}, {SOUTH}"]),
    ([NORTH], {"ward_lad_field": "LAD24CD"},
     ["wards.geojson: ", "field 'LAD24CD' not found; the file has fields: WD13CD, WD13CDO, WD13NM, WD13NMW, LAD_CODE"]),
    ([NORTH], {"lsoas": "lsoas.geojson"}, ["lsoas.geojson: ", "unreadable or corrupt file"]),  # the wards were fine
    ([NORTH], {"imd": "imd.csv"},
     ["imd.csv: ", "column IMDRank, IMDDecil not found; the file has columns: lsoa11cd, Rank"]),
    ([NORTH], {"parent": "nowhere"}, ["--parent nowhere: no such partnership"]),
], ids=["district-code-not-in-file", "missing-field", "unreadable-second-file", "bad-deprivation", "no-parent"])
def test_a_refused_set_up_names_the_file_and_reason_and_keeps_nothing(engine, district_files, slugs, tmp_path,
                                                                      lads, changes, expected):
    slug = new_slug(slugs)
    for key, name in changes.items():
        if name in BROKEN:
            (tmp_path / name).write_text(BROKEN[name], encoding="utf-8")
            changes = {**changes, key: tmp_path / name}
    message = refusal(engine, setup_of(district_files, slug, lads, **changes))
    assert all(part in message for part in expected), message
    assert stored_state(engine, slug) == {"partnership": None, "sets": []}


def test_a_bad_district_code_is_refused_before_any_file_is_read(district_files):
    with pytest.raises(PartnershipDefinitionError, match="'X07000113': give one or more ONS local authority"):
        setup_of(district_files, "swale", ["X07000113"])


def test_a_partnership_described_in_data_is_not_set_up_by_command(district_files):
    with pytest.raises(PartnershipSetupError, match=r"described in geodata/partnerships/maidstone\.json"):
        setup_of(district_files, "maidstone", [NORTH])


def test_the_command_creates_lists_and_shows(engine, district_files, slugs, tmp_path):
    slug = new_slug(slugs)
    args = ["partnership", "create", slug, "--lad", NORTH, "--name", "Northern Test Partnership",
            "--wards", str(district_files["wards"]), "--lsoas", str(district_files["lsoas"]),
            "--imd", str(district_files["imd"])]
    runner = CliRunner()
    created = runner.invoke(cli, args)
    assert created.exit_code == 0, created.output
    assert f"created partnership {slug}" in created.output and f"{slug}-wards-2013 created" in created.output
    again = runner.invoke(cli, args)
    assert f"updated partnership {slug}" in again.output and f"{slug}-wards-2013 up to date" in again.output
    listed = runner.invoke(cli, ["partnership", "list"]).output
    assert any(line.startswith(slug) and NORTH in line and "Northern Test Partnership" in line
               for line in listed.splitlines())
    shown = runner.invoke(cli, ["partnership", "show", slug]).output
    assert f"*{slug}-wards-2013" in shown and f"{slug}-lsoa-2011" in shown and "km²" in shown
    refused = runner.invoke(cli, [*args[:4], "E07000999", *args[5:]])
    assert refused.exit_code == 1 and "not created: wards.geojson (nothing was kept)" in refused.output
    assert "no feature has LAD_CODE E07000999" in refused.output
