"""Fetching police.uk crime from its API (scripts/atlas crime fetch, the scheduled job and the admin endpoint), against
a real HTTP server on loopback that answers like the API from the 2022 CSV files (tests/police_api_server.py).

The files are served as months of 2031 with their Crime IDs changed, so that they do not collide with the real 2022
months other tests rely on; snap points and everything else are unchanged. So a fetched 2031-03 must count per area
exactly what the CSV import of 2022-03 counts (reference data), and exactly what importing the shifted file counts.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import Engine, text

from server import create_app
from server.cli import cli
from server.config import ROOT
from server.domain.police_api import ApiLimits, PoliceApi, TokenBucket
from server.domain.police_fetch import FetchError, FetchRequest, fetch_police_months
from server.domain.police_import import import_police_files, open_police_files
from server.store import crime as crime_store
from server.store import police_api as police_api_store
from server.store.db import transaction
from tests.conftest import GEODATA, bearer
from tests.police_api_server import LoopbackPoliceApi

SETS = ("wards-2013", "wards-2024", "lsoa-2011")
FAST = ApiLimits(rate=1000, burst=100, backoff=0.01, max_backoff=0.05)
RECORD_FIELDS = ("identity", "crime_id", "reported_by", "falls_within", "longitude", "latitude", "location",
                 "lsoa_code", "lsoa_name", "crime_type", "crime_type_slug", "last_outcome", "context")


def shifted_csv(source_month: str, folder: Path) -> Path:
    """The 2022 file of source_month as a 2031 month, with Crime IDs changed (ASB rows have none)."""
    target = f"2031-{source_month[5:]}"
    path = folder / f"{target}-kent-street.csv"
    with (GEODATA / "crime" / f"{source_month}-kent-street.csv").open(encoding="utf-8-sig", newline="") as src, \
            path.open("w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, reader.fieldnames)
        writer.writeheader()
        for row in reader:
            row["Month"] = target
            if row["Crime ID"]:
                row["Crime ID"] = hashlib.sha256(f"{row['Crime ID']}|2031".encode()).hexdigest()
            writer.writerow(row)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("police-api")
    return {"2031-03": shifted_csv("2022-03", folder), "2031-04": shifted_csv("2022-04", folder)}


def remove_2031(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(text("DELETE FROM police_api_months WHERE month >= '2031-01-01'"))
        session.execute(text("DELETE FROM police_api_pieces WHERE month >= '2031-01-01'"))
        session.execute(text("DELETE FROM crime_records WHERE month BETWEEN '2031-01-01' AND '2031-12-01'"))
        session.execute(text("""DELETE FROM crime_imports i WHERE (i.file_name LIKE 'police.uk API 2031-%'
            OR i.file_name LIKE '2031-%') AND NOT EXISTS (SELECT 1 FROM crime_records r WHERE r.import_id = i.id)"""))
        session.execute(text("DELETE FROM jobs WHERE kind = 'police-fetch'"))


@pytest.fixture(autouse=True)
def clean(engine: Engine) -> Iterator[None]:
    remove_2031(engine)
    yield
    remove_2031(engine)


def counts(engine: Engine, month: str) -> dict[str, dict[str, int]]:
    first = date(int(month[:4]), int(month[5:]), 1)
    with transaction(engine) as session:
        return {set_id: crime_store.count_by_area(session, set_id, first, first) for set_id in SETS}


def records(engine: Engine, month: str) -> dict[str, tuple]:
    """Every record of the month by identity: its fields and its area in each set."""
    with transaction(engine) as session:
        rows = session.execute(text(f"""
            SELECT {", ".join(f"r.{f}" for f in RECORD_FIELDS)},
                   (SELECT array_agg(p.set_id || ':' || p.area_code ORDER BY p.set_id)
                    FROM crime_placements p WHERE p.record_id = r.id) AS areas
            FROM crime_records r WHERE r.month = CAST(:month AS date)"""), {"month": f"{month}-01"}).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def located_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["Longitude"])


def fetch(engine: Engine, server: LoopbackPoliceApi, limits: ApiLimits = FAST, **request):
    api = PoliceApi(server.url, limits)
    return fetch_police_months(engine, api, FetchRequest(**request)), api


# --- the fetched month equals its CSV -----------------------------------------------------------------------------

def test_a_fetched_month_counts_and_holds_what_its_csv_does_and_a_refetch_inserts_nothing(engine, files):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        report, _api = fetch(engine, server)
        assert [m.month for m in report.months] == ["2031-03"]
        assert report.months[0].records == report.months[0].inserted == located_rows(files["2031-03"]) == 1679
        assert server.methods == {"GET": 3}, "dates, last updated, and the area's outline in one GET URL"
        fetched_counts, fetched = counts(engine, "2031-03"), records(engine, "2031-03")
        assert fetched_counts == counts(engine, "2022-03"), "the same CSV imported as 2022-03 counts the same"
        assert sum(fetched_counts["wards-2024"].values()) == 1679

        with transaction(engine) as session:  # now the same month from its CSV file instead
            session.execute(text("DELETE FROM crime_records WHERE month = '2031-03-01'"))
            session.execute(text("DELETE FROM police_api_months WHERE month = '2031-03-01'"))
        summary = import_police_files(engine, open_police_files([(files["2031-03"], files["2031-03"].name)]))
        assert summary.total.inserted == 1679
        assert counts(engine, "2031-03") == fetched_counts
        from_csv = records(engine, "2031-03")
        assert from_csv == fetched, "row for row: same identities (ASB included), fields and areas"
        with files["2031-03"].open(encoding="utf-8", newline="") as handle:
            asb_rows = sum(1 for row in csv.DictReader(handle) if not row["Crime ID"])
        assert sum(1 for fields in fetched.values() if fields[0] is None) == asb_rows > 200, "ASB compared too"

        again, _api = fetch(engine, server, refresh=True)
        assert again.months[0].records == 1679 and again.months[0].inserted == 0
        assert records(engine, "2031-03") == from_csv


def test_the_default_fetch_takes_only_months_not_loaded(engine, files):
    with LoopbackPoliceApi([files["2031-03"], files["2031-04"]]) as server:
        first, _api = fetch(engine, server, month_from="2031-03", month_to="2031-03")
        assert [m.month for m in first.months] == ["2031-03"]
        second, _api = fetch(engine, server)
        assert [m.month for m in second.months] == ["2031-04"]
        third, _api = fetch(engine, server)
        assert third.months == [] and third.requests == 2, "only the dates and last-updated questions"
    assert counts(engine, "2031-04") == counts(engine, "2022-04")
    with transaction(engine) as session:
        provenance = session.execute(text("""SELECT to_char(month, 'YYYY-MM'), api_last_updated, records, inserted
            FROM police_api_months WHERE month >= '2031-01-01' ORDER BY month""")).all()
    assert provenance == [("2031-03", date(2031, 12, 1), 1679, 1679), ("2031-04", date(2031, 12, 1), 1604, 1604)]


# --- the API's limits ---------------------------------------------------------------------------------------------

def test_an_area_over_the_limit_is_split_until_every_piece_fits(engine, files):
    with LoopbackPoliceApi([files["2031-03"]], max_crimes=250) as server:
        report, _api = fetch(engine, server)
        assert server.statuses[503] >= 3, "the whole area and some pieces were refused"
        assert report.months[0].pieces > 7
    assert report.months[0].records == 1679, "a crime on the edge of two pieces is counted once"
    assert counts(engine, "2031-03") == counts(engine, "2022-03")


def test_a_polygon_too_long_for_a_get_url_is_posted(files):
    centre_lon, centre_lat, radius = 0.52, 51.27, 0.02
    angles = [2 * math.pi * i / 400 for i in range(400)]
    ring = [(centre_lon + radius * math.cos(a), centre_lat + radius * math.sin(a)) for a in angles]
    with files["2031-03"].open(encoding="utf-8", newline="") as handle:
        points = [(float(r["Longitude"]), float(r["Latitude"])) for r in csv.DictReader(handle) if r["Longitude"]]
    inside = sum(shapely.Polygon(ring).covers(shapely.Point(point)) for point in points)
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        crimes = PoliceApi(server.url, FAST).crimes(ring, "2031-03")
        assert server.methods == {"POST": 1}
        crimes_by_get = PoliceApi(server.url, FAST).crimes(ring[::10], "2031-03")
        assert server.methods == {"POST": 1, "GET": 1}
    assert len(crimes) == inside > 100 and len(crimes_by_get) > 100


def test_429_is_backed_off_and_the_fetch_completes(engine, files):
    with LoopbackPoliceApi([files["2031-03"]], max_crimes=250, rate=20, burst=3) as server:
        report, api = fetch(engine, server)  # the client asks far faster than the server allows
        assert server.statuses[429] > 0 and api.throttled == server.statuses[429]
    assert report.months[0].records == 1679
    assert counts(engine, "2031-03") == counts(engine, "2022-03")


def test_the_token_bucket_keeps_under_the_limit(engine, files):
    with LoopbackPoliceApi([files["2031-03"]], max_crimes=250, rate=30, burst=6) as server:
        started = time.monotonic()
        _report, api = fetch(engine, server, ApiLimits(rate=20, burst=4, backoff=0.01))
        elapsed = time.monotonic() - started
    assert server.statuses[429] == 0 and api.requests > 20
    assert elapsed >= (api.requests - 4) / 20 * 0.9, "the client waited for its tokens"


def test_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(15, 30, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        bucket.take()
    assert waits == [], "30 at once"
    for _ in range(15):
        bucket.take()
    assert now[0] == pytest.approx(1.0), "then 15 a second"
    now[0] += 10
    for _ in range(31):
        bucket.take()
    assert now[0] == pytest.approx(11.0 + 1 / 15), "a quiet spell refills to 30, no more"


def test_records_outside_the_area_are_left_out(engine, files):
    with transaction(engine) as session:
        _area, outline = police_api_store.area_and_outline(session, "wards-2024")
    lon, lat = shapely.from_wkb(outline).exterior.coords[0]  # on the outline: at least 40 m outside the wards
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        stray = {**server.crimes["2031-03"][0], "id": 1, "persistent_id": "f" * 64,
                 "location": {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}", "street": {"id": 1, "name": "x"}}}
        server.crimes["2031-03"].append(stray)
        xs, ys = server.points["2031-03"]
        server.points["2031-03"] = (np.append(xs, float(f"{lon:.6f}")), np.append(ys, float(f"{lat:.6f}")))
        report, _api = fetch(engine, server)
    assert report.months[0].outside_area == 1 and report.months[0].records == 1679
    assert "f" * 64 not in records(engine, "2031-03")


def test_dropped_connections_are_retried(engine, files):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        server.drop_next(3)
        report, api = fetch(engine, server)
    assert api.retried == 3 and report.months[0].records == 1679


def test_an_interrupted_fetch_resumes_where_it_stopped(engine, files):
    with LoopbackPoliceApi([files["2031-03"]], max_crimes=250) as server:
        server.drop_next(1000, after=6)  # the API goes away after six crime answers
        with pytest.raises(FetchError, match="kept"):
            fetch(engine, server, ApiLimits(rate=1000, burst=100, retries=2, backoff=0.01))
        with transaction(engine) as session:
            kept = session.execute(text("SELECT count(*) FROM police_api_pieces WHERE month = '2031-03-01'")).scalar()
            loaded = session.execute(text("SELECT count(*) FROM crime_records WHERE month = '2031-03-01'")).scalar()
        assert kept > 0 and loaded == 0, "answers so far are kept; nothing is imported from a partial month"
        server.drop_next(0)
        before = server.crime_requests
        report, _api = fetch(engine, server)
        month = report.months[0]
        assert month.resumed_pieces == kept
        assert server.crime_requests - before < month.pieces + server.statuses[503], "kept pieces are not asked again"
    assert month.records == 1679 and counts(engine, "2031-03") == counts(engine, "2022-03")
    with transaction(engine) as session:
        assert session.execute(text("SELECT count(*) FROM police_api_pieces")).scalar() == 0


def test_a_malformed_answer_is_refused_and_nothing_is_imported(engine, files):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        server.crimes["2031-03"][5]["category"] = "<script>alert(1)</script>"
        with pytest.raises(FetchError, match="unknown category"):
            fetch(engine, server)
    assert records(engine, "2031-03") == {}


# --- the command, the admin endpoint and the job queue, and the legend ------------------------------------------

def atlas(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_cli_help_names_the_options():
    result = atlas("crime", "fetch", "--help")
    assert result.returncode == 0
    for option in ("--from", "--to", "--refresh", "CSP_ATLAS_POLICE_API"):
        assert option in result.stdout


def test_cli_fetches_from_the_configured_api(engine, files, database_url):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        env = {"DATABASE_URL": database_url, "CSP_ATLAS_POLICE_API": server.url}
        result = atlas("crime", "fetch", env=env)
        assert result.returncode == 0, result.stderr
        assert "2031-03" in result.stdout and "1679" in result.stdout
        again = atlas("crime", "fetch", env=env)
        assert "nothing to fetch" in again.stdout
        bad = atlas("crime", "fetch", "--from", "2031-3", env=env)
        assert bad.returncode == 2 and "not a month like" in bad.stderr
    assert counts(engine, "2031-03") == counts(engine, "2022-03")
    summary = CliRunner().invoke(cli, ["crime", "summary"], env={"DATABASE_URL": database_url})
    assert summary.exit_code == 0, summary.output
    [line] = [line for line in summary.output.splitlines() if line.startswith("2031-03")]
    assert line.split()[1] == "1679" and "police.uk API, fetched" in line


def test_admin_starts_a_job_that_a_worker_runs_with_progress(app, engine, files, tokens, database_url):
    queued = create_app(replace(app.extensions["csp_settings"], jobs="queue")).test_client()
    assert queued.post("/api/admin/police-fetch", headers=bearer(tokens["gis"])).status_code == 403
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        started = queued.post("/api/admin/police-fetch", headers=bearer(tokens["admin"]))
        assert started.status_code == 202 and started.headers["Location"].startswith("/api/jobs/")
        again = queued.post("/api/admin/police-fetch", headers=bearer(tokens["admin"]))
        assert again.get_json()["job"]["id"] == started.get_json()["job"]["id"], "one fetch at a time"
        env = {**os.environ, "DATABASE_URL": database_url, "CSP_ATLAS_JOBS": "queue",
               "CSP_ATLAS_POLICE_API": server.url}
        worker = subprocess.run([sys.executable, "-m", "server.cli", "jobs", "worker", "--once"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stdout + worker.stderr
    status = queued.get(started.headers["Location"]).get_json()
    assert status["status"] == "done", status
    assert status["progress"]["done"] == status["progress"]["total"] == 1
    assert counts(engine, "2031-03") == counts(engine, "2022-03")
    months = queued.get("/api/admin/police-fetch", headers=bearer(tokens["admin"])).get_json()["months"]
    assert [(m["month"], m["records"]) for m in months if m["month"] >= "2031"] == [("2031-03", 1679)]


def test_a_fetch_job_whose_worker_died_does_not_block_later_fetches(engine):
    from server.police_jobs import create_fetch_job

    first, new = create_fetch_job(engine, "tests")
    assert new and create_fetch_job(engine, "tests")[0]["id"] == first["id"]
    with transaction(engine) as session:
        session.execute(text("UPDATE jobs SET status = 'running', started_at = now() - interval '7 hours' "
                             "WHERE id = :id"), {"id": first["id"]})
    second, new = create_fetch_job(engine, "tests")
    assert new and second["id"] != first["id"]
    with transaction(engine) as session:
        status, error = session.execute(text("SELECT status, error FROM jobs WHERE id = :id"),
                                        {"id": first["id"]}).one()
    assert status == "failed" and "goes on from there" in error


def test_the_daily_fetch_is_a_periodic_task_of_the_queue(database_url):
    from server.jobs import QUEUE, queue_app

    periodic = queue_app(database_url).periodic_registry.periodic_tasks
    [(task_name, task)] = [(name, task) for (name, _id), task in periodic.items() if "police" in name]
    assert task_name == "atlas:scheduled_police_fetch" and task.cron.count(" ") == 4
    assert task.task.queue == QUEUE


def test_the_legend_says_which_months_came_from_the_api(client, engine, files):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        fetch(engine, server)
    meta = client.get("/api/layers/wards-2024?metric=all-crime&period=2031-03").get_json()["metadata"]
    [line] = meta["provenance"]
    assert line.startswith("2031-03: police.uk API, fetched ") and line.endswith("(police.uk last updated 2031-12-01)")
    older = client.get("/api/layers/wards-2024?metric=all-crime&period=2022-03").get_json()["metadata"]
    assert older["provenance"] == ["2022-03: police.uk CSV files"]


def test_inline_admin_fetch_answers_with_the_finished_job(app, engine, files, tokens):
    with LoopbackPoliceApi([files["2031-03"]]) as server:
        inline = create_app(replace(app.extensions["csp_settings"], jobs="inline", police_api=server.url))
        answer = inline.test_client().post("/api/admin/police-fetch", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200
    job = answer.get_json()["job"]
    assert job["status"] == "done" and job["result"] == "/api/admin/police-fetch"
    assert counts(engine, "2031-03") == counts(engine, "2022-03")
