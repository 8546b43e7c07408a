"""Uploads over CSP_ATLAS_UPLOAD_JOB_BYTES run as jobs: 202 with the job, the files wait in PostgreSQL, a real worker
process runs the same code as a direct upload, and the job ends with the outcome, or with the error naming the file
and the row or feature while the data stay as they were; the files are deleted either way."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import text

from server import create_app
from server.store.db import transaction
from tests.conftest import GEODATA, bearer
from tests.test_crime_import import police_row, remove_test_months, table_counts, write_police_csv
from tests.test_jobs import run_workers

WARDS = GEODATA / "maidstone_wards_2013.geojson"


@pytest.fixture
def queued(app, tokens):
    """A client of an app that queues every upload over 100 bytes."""
    queued_app = create_app(replace(app.extensions["csp_settings"], jobs="queue", upload_job_bytes=100))
    client = queued_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = bearer(tokens["gis"])["Authorization"]
    return client


@pytest.fixture
def test_months(engine) -> Iterator[None]:
    remove_test_months(engine)
    yield
    remove_test_months(engine)


@pytest.fixture
def two_sets(engine) -> Iterator[tuple[str, str]]:
    ids = (f"test-job-{uuid.uuid4().hex[:8]}", f"test-direct-{uuid.uuid4().hex[:8]}")
    yield ids
    with transaction(engine) as session:
        session.execute(text("DELETE FROM boundary_sets WHERE id = ANY(:ids)"), {"ids": list(ids)})


def accepted_job(response) -> dict:
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"] == f"/api/jobs/{response.get_json()['job']['id']}"
    return response.get_json()["job"]


def job_files_left(engine, job_id: str) -> int:
    with transaction(engine) as session:
        return session.execute(text("SELECT count(*) FROM job_files WHERE job_id = :id"), {"id": job_id}).scalar_one()


def ended(client, job: dict, database_url: str) -> dict:
    run_workers(database_url)
    return client.get(f"/api/jobs/{job['id']}").get_json()


def crime_upload(client, paths):
    data = {"file": [(io.BytesIO(path.read_bytes()), path.name) for path in paths]}
    return client.post("/api/crime/imports", data=data, content_type="multipart/form-data")


def boundary_upload(client, set_id: str, content: bytes, filename: str = "wards.geojson"):
    form = {"file": (io.BytesIO(content), filename), "id": set_id, "kind": "ward", "code_field": "WD13CD",
            "name_field": "WD13NM", "valid_from": "2013-05-02", "title": "Test wards"}
    return client.post("/api/boundary-sets", data=form, content_type="multipart/form-data")


def test_a_large_crime_import_is_a_job_with_the_same_summary(queued, client, tokens, engine, database_url,
                                                               test_months, tmp_path):
    rows = [police_row("2030-06", f"test-job-{n}", 0.52 + n / 1000, 51.27, crime_type="Burglary") for n in range(40)]
    rows += [police_row("2030-06", lon=0.55, lat=51.3), police_row("2030-06", location="No Location")]
    path = write_police_csv(tmp_path / "test-2030-06-street.csv", rows)
    job = accepted_job(crime_upload(queued, [path]))
    assert job["status"] == "queued" and job_files_left(engine, job["id"]) == 1
    with transaction(engine) as session:
        assert session.execute(text("SELECT count(*) FROM crime_records WHERE month = '2030-06-01'")).scalar() == 0

    status = ended(queued, job, database_url)
    assert status["status"] == "done", status
    assert status["progress"]["done"] == status["progress"]["total"] > 1
    summary = status["outcome"]
    assert summary["total"]["rows_read"] == summary["total"]["inserted"] == 42
    assert summary["total"]["no_location"] == 1 and summary["files"][0]["file"] == path.name
    assert job_files_left(engine, job["id"]) == 0, "the uploaded file is deleted once the job ends"
    listed = client.get("/api/crime/imports", headers=bearer(tokens["gis"])).get_json()["imports"]
    mine = next(item for item in listed if item["id"] == summary["files"][0]["import_id"])
    assert mine["imported_by"].startswith("gis-") and mine["unplaced"] == summary["files"][0]["unplaced"]
    # The same file straight away (below the threshold): every row is now a duplicate, as for any re-import.
    direct = client.post("/api/crime/imports", data={"file": [(io.BytesIO(path.read_bytes()), path.name)]},
                         headers=bearer(tokens["gis"]), content_type="multipart/form-data")
    assert direct.status_code == 201
    assert (direct.get_json()["total"]["inserted"], direct.get_json()["total"]["duplicates"]) == (0, 42)


def test_a_bad_crime_file_over_the_threshold_fails_naming_file_and_line(queued, engine, database_url, test_months,
                                                                        tmp_path):
    good = write_police_csv(tmp_path / "test-2030-07-good.csv", [police_row("2030-07", "test-job-good", 0.55, 51.3)])
    bad = write_police_csv(tmp_path / "test-2030-07-bad.csv", [police_row("2030-07", "test-job-bad1", 0.55, 51.3),
                                                               police_row("2030-7", "test-job-bad2", 0.55, 51.3)])
    before = table_counts(engine)
    job = accepted_job(crime_upload(queued, [good, bad]))
    status = ended(queued, job, database_url)
    assert status["status"] == "failed" and status["outcome"] is None
    assert status["error"].startswith(bad.name) and "line 3: Month '2030-7'" in status["error"]
    assert status["error_details"]["file"] == bad.name
    assert status["error_details"]["problems"] == ["line 3: Month '2030-7' is not a month like 2022-01"]
    assert table_counts(engine) == before, "nothing of the import is kept"
    assert job_files_left(engine, job["id"]) == 0


def features_without_set(client, set_id: str) -> list[dict]:
    body = client.get(f"/api/boundary-sets/{set_id}/features").get_json()
    return body["features"]


def placements(engine, set_id: str) -> dict[int, tuple[str, str]]:
    with transaction(engine) as session:
        rows = session.execute(text("SELECT record_id, area_code, method FROM crime_placements WHERE set_id = :s"),
                               {"s": set_id}).all()
    return {record: (code, method) for record, code, method in rows}


def test_a_large_boundary_upload_is_a_job_and_loads_exactly_as_a_direct_one(queued, client, tokens, engine,
                                                                              database_url, two_sets):
    queued_set, direct_set = two_sets
    content = WARDS.read_bytes()
    job = accepted_job(boundary_upload(queued, queued_set, content))
    assert client.get(f"/api/boundary-sets/{queued_set}/features").status_code == 404
    status = ended(queued, job, database_url)
    assert status["status"] == "done", status
    assert status["outcome"]["features"] == 26 and status["outcome"]["replaced"] is False
    assert status["result"] == f"/api/boundary-sets/{queued_set}/features"
    direct = client.post("/api/boundary-sets", headers=bearer(tokens["gis"]), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(content), "wards.geojson"), "id": direct_set, "kind": "ward",
                               "code_field": "WD13CD", "name_field": "WD13NM", "valid_from": "2013-05-02",
                               "title": "Test wards"})
    assert direct.status_code == 201
    expected = {key: value for key, value in direct.get_json().items() if key != "set_id"}
    assert {key: value for key, value in status["outcome"].items() if key != "set_id"} == expected
    assert features_without_set(client, queued_set) == features_without_set(client, direct_set)
    assert placements(engine, queued_set) == placements(engine, direct_set) != {}
    assert job_files_left(engine, job["id"]) == 0


def test_a_bad_boundary_file_over_the_threshold_fails_naming_the_feature(queued, client, engine, database_url,
                                                                        two_sets):
    set_id = two_sets[0]
    done = ended(queued, accepted_job(boundary_upload(queued, set_id, WARDS.read_bytes())), database_url)
    assert done["status"] == "done"
    before = features_without_set(client, set_id)
    bad = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WD13CD": "X1", "WD13NM": "X"},
         "geometry": {"type": "Point", "coordinates": [0.5, 51.2]}}] * 3}).encode()
    job = accepted_job(boundary_upload(queued, set_id, bad, "points.geojson"))
    status = ended(queued, job, database_url)
    assert status["status"] == "failed" and status["outcome"] is None
    assert status["error"].startswith("points.geojson: feature 1 (X1): geometry is a Point")
    assert status["error_details"]["file"] == "points.geojson"
    assert features_without_set(client, set_id) == before, "the set is as it was"
    assert job_files_left(engine, job["id"]) == 0


def test_uploads_below_the_threshold_still_run_in_the_request(queued, two_sets):
    bigger = replace(queued.application.extensions["csp_settings"], upload_job_bytes=10 * 1024 * 1024)
    direct = create_app(bigger).test_client()
    direct.environ_base.update(queued.environ_base)
    response = boundary_upload(direct, two_sets[1], WARDS.read_bytes())
    assert response.status_code == 201 and response.get_json()["features"] == 26
