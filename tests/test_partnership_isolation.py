"""Two partnerships in one deployment: the default one (Maidstone, A) and another (B) over a copy of a Maidstone ward
set. Nothing A owns is visible, listed, counted or inferable under B's prefix /p/{b}/, even to B's admin: 404 (never
403) for A's ids, and the database itself refuses (row-level security) when a query forgets its WHERE."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.domain import accounts
from server.store import partnerships as partnership_store
from server.store import patrols as patrol_store
from server.store import scope
from server.store import statistics as statistics_store
from server.store.db import engine_for, transaction
from tests.conftest import PASSWORD, RESTRICTED_LAYER, bearer

TOWN_CENTRE = {"type": "Polygon", "coordinates": [[[0.515, 51.270], [0.532, 51.270], [0.532, 51.280],
                                                     [0.515, 51.280], [0.515, 51.270]]]}


def copy_set(session, source: str, target: str, title: str, northernmost: int | None = None) -> None:
    """A copy of boundary set `source` (or of its `northernmost` areas only) under id `target`."""
    session.execute(text("""
        INSERT INTO boundary_sets (id, kind, title, valid_from, valid_to, source, licence, source_file,
                                   source_checksum, source_crs, code_field, name_field)
        SELECT :target, kind, :title, valid_from, valid_to, source, licence, source_file, source_checksum,
               source_crs, code_field, name_field FROM boundary_sets WHERE id = :source"""),
        {"source": source, "target": target, "title": title})
    session.execute(text("""
        INSERT INTO areas (set_id, code, name, geom, area_km2)
        SELECT :target, code, name, geom, area_km2 FROM areas WHERE set_id = :source
        ORDER BY ST_YMax(geom) DESC LIMIT :n"""), {"source": source, "target": target, "n": northernmost})


def _users(session, prefix: str, roles: tuple[str, ...]) -> dict[str, dict[str, str]]:
    made = {}
    for role in roles:
        username = f"{prefix}-{role}-{uuid.uuid4().hex[:6]}"
        accounts.create_user(session, username, PASSWORD, role)
        made[role] = {"username": username, "token": accounts.issue_token(session, username, "isolation tests")}
    return made


@pytest.fixture(scope="module")
def other(engine) -> Iterator[dict]:
    """Partnership B (a district of county partnership K) with its own ward set, users, layers and patrol area."""
    suffix = uuid.uuid4().hex[:6]
    county, slug = f"county-{suffix}", f"other-{suffix}"
    set_id = f"{slug}-wards"
    with transaction(engine) as session:
        copy_set(session, "wards-2013", set_id, "Other wards")
        partnership_store.upsert_partnership(session, county, "County Partnership", ["E07000113", "E07000110"])
        partnership_store.upsert_partnership(session, slug, "Other Partnership", ["E07000113"], parent_slug=county)
        partnership_store.replace_partnership_sets(session, slug, [set_id], set_id)
    with scope.acting_for(county), transaction(engine) as session:
        county_users = _users(session, "county", ("admin", "viewer"))
    with scope.acting_for(slug), transaction(engine) as session:
        users = _users(session, "other", ("admin", "officer"))
        patrol_store.set_user_team(session, users["officer"]["username"], "Other Task Force")
        for sensitivity in ("internal", "restricted"):
            session.execute(text("""
                INSERT INTO hotspot_layers (id, title, description, sensitivity, owner_team, retention_months,
                                            retention_note, count_unit)
                VALUES (:id, :title, 'B layer', :sensitivity, 'tests', 12, '', 'records')"""),
                {"id": f"{slug}-{sensitivity}", "title": f"B {sensitivity}", "sensitivity": sensitivity})
    yield {"slug": slug, "county": county, "set": set_id, "prefix": f"/p/{slug}", "users": users,
           "county_users": county_users}
    with transaction(engine) as session:  # the partnerships stay: their audit entries refer to them
        session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})


@pytest.fixture(scope="module")
def mine(client_module, tokens, hotspot_users, engine) -> dict:
    """What A owns: a restricted point, a team's patrol area, a private place name."""
    client = client_module
    writer = bearer(hotspot_users["dcsm-writer"]["token"])
    place = f"A private yard {uuid.uuid4().hex[:6]}"
    point = client.post(f"/api/hotspot-layers/{RESTRICTED_LAYER}/points",
                        json={"observed": "2023-05-01", "lon": 0.5225, "lat": 51.2737, "notes": "A's secret",
                              "place": place}, headers=writer)
    assert point.status_code == 201, point.get_json()
    with transaction(engine) as session:
        username = f"a-officer-{uuid.uuid4().hex[:6]}"
        accounts.create_user(session, username, PASSWORD, "officer")
        patrol_store.set_user_team(session, username, "Town Centre Task Force")
        officer = accounts.issue_token(session, username, "isolation tests")
    patrol = client.post("/api/patrol-areas", json={"name": "A's patrol", "geometry": TOWN_CENTRE},
                         headers=bearer(officer))
    assert patrol.status_code == 201, patrol.get_json()
    return {"point": point.get_json()["id"], "place": place, "patrol": patrol.get_json()["id"], "officer": officer}


@pytest.fixture(scope="module")
def client_module(app):
    return app.test_client()


def _get(client, url: str, token: str | None = None, **kwargs):
    return client.get(url, headers=bearer(token) if token else {}, **kwargs)


def test_the_partnerships_are_listed_with_their_sets_area_and_view(client, other):
    listed = client.get("/api/partnerships").get_json()["partnerships"]
    by_slug = {p["slug"]: p for p in listed}
    assert by_slug["maidstone"]["default"] and by_slug["maidstone"]["url"] == "/"
    assert by_slug[other["slug"]]["url"] == f"/p/{other['slug']}/"
    assert by_slug[other["slug"]]["parent"] == other["county"]
    detail = client.get(f"/api/partnerships/{other['slug']}").get_json()
    assert [s["id"] for s in detail["boundary_sets"]] == [other["set"]]
    assert detail["default_view"]["set"] == other["set"] and detail["area"]["type"] == "MultiPolygon"
    minx, miny, maxx, maxy = detail["bbox"]
    assert 0.3 < minx < maxx < 0.9 and 51.1 < miny < maxy < 51.4  # the copied Maidstone wards
    assert client.get("/api/partnerships/nowhere").status_code == 404
    assert client.get("/p/nowhere/api/boundary-sets").status_code == 404
    assert client.get("/p/nowhere/").status_code == 404
    assert client.get("/p/NOT..valid/api/boundary-sets").status_code == 404


def test_the_openapi_document_names_the_prefix(client):
    document = client.get("/api/openapi.json").get_json()
    assert any("{partnership}" in server["url"] for server in document["servers"])
    assert "/api/partnerships/{slug}" in document["paths"]


def test_each_partnership_shows_its_own_boundary_sets_only(client, other):
    prefix = other["prefix"]
    mine_listed = {s["id"] for s in client.get("/api/boundary-sets").get_json()["boundary_sets"]}
    theirs = {s["id"] for s in client.get(f"{prefix}/api/boundary-sets").get_json()["boundary_sets"]}
    assert theirs == {other["set"]}
    assert "wards-2024" in mine_listed and other["set"] not in mine_listed
    for url in ("/api/boundary-sets/wards-2024/features", "/api/layers/wards-2024?metric=all-crime",
                "/api/maps/wards-2024.png", "/api/exports/wards-2024.geojson", "/ogc/collections/wards-2024",
                "/ogc/collections/wards-2024/items"):
        response = client.get(prefix + url)
        assert response.status_code == 404, url
        assert client.get(url).status_code == 200, url
    assert client.get(f"{prefix}/api/boundary-sets/{other['set']}/features").status_code == 200
    assert client.get(f"/api/boundary-sets/{other['set']}/features").status_code == 404
    collections = {c["id"] for c in client.get(f"{prefix}/ogc/collections").get_json()["collections"]}
    assert other["set"] in collections and "wards-2024" not in collections


def test_server_built_links_keep_the_prefix(client, other):
    prefix = other["prefix"]
    landing = client.get(f"{prefix}/ogc/").get_json()
    assert all(link["href"].startswith(f"http://localhost{prefix}/") for link in landing["links"])
    items = client.get(f"{prefix}/ogc/collections/{other['set']}/items?limit=2").get_json()
    hrefs = [link["href"] for link in items["links"]]
    assert hrefs and all(h.startswith(f"http://localhost{prefix}/ogc/collections/") for h in hrefs), hrefs


def test_b_admin_cannot_see_list_or_count_a_hotspot_layers_points_or_places(client, tokens, other, mine):
    admin = other["users"]["admin"]["token"]
    prefix = other["prefix"]
    layers = _get(client, f"{prefix}/api/hotspot-layers", admin).get_json()["hotspot_layers"]
    assert {layer["id"] for layer in layers} == {f"{other['slug']}-internal", f"{other['slug']}-restricted"}
    for url in (f"/api/hotspot-layers/{RESTRICTED_LAYER}", f"/api/hotspot-layers/{RESTRICTED_LAYER}/points",
                f"/api/hotspot-layers/{RESTRICTED_LAYER}/points/{mine['point']}",
                f"/api/hotspot-layers/{RESTRICTED_LAYER}/points/{mine['point']}/history",
                f"/api/hotspot-layers/{RESTRICTED_LAYER}/grants", "/api/hotspot-layers/needles/points",
                f"/ogc/collections/hotspots.{RESTRICTED_LAYER}", f"/ogc/collections/hotspots.{RESTRICTED_LAYER}/items"):
        response = _get(client, prefix + url, admin)
        assert response.status_code == 404, (url, response.status_code)
        assert "A's secret" not in response.get_data(as_text=True)
    # an analysis of A's layer: the same answer as for a layer that does not exist (it lists B's layers only)
    messages = []
    for source in (RESTRICTED_LAYER, "no-such-layer"):
        refused = _get(client, f"{prefix}/api/hotspots/clusters?source={source}", admin)
        assert refused.status_code == 400
        messages.append(refused.get_json()["error"]["message"].replace(source, "<source>"))
    assert messages[0] == messages[1] and "needles" not in messages[0]
    gazetteer = _get(client, f"{prefix}/api/gazetteer?q=private", admin).get_data(as_text=True)
    assert mine["place"] not in gazetteer
    audit = _get(client, f"{prefix}/api/hotspot-audit", admin).get_data(as_text=True)
    assert RESTRICTED_LAYER not in audit
    collections = _get(client, f"{prefix}/ogc/collections", admin).get_data(as_text=True)
    assert RESTRICTED_LAYER not in collections and "needles" not in collections
    # A's admin still sees A's layer and point, unprefixed as before; B's admin is nobody there
    a_admin = tokens["admin"]
    assert _get(client, f"/api/hotspot-layers/{RESTRICTED_LAYER}/points/{mine['point']}", a_admin).status_code == 200
    assert _get(client, f"/ogc/collections/hotspots.{RESTRICTED_LAYER}/items", a_admin).status_code == 200
    assert _get(client, f"/api/hotspot-layers/{RESTRICTED_LAYER}/points/{mine['point']}",
                other["users"]["admin"]["token"]).status_code == 401


def test_b_users_cannot_see_a_patrol_areas(client, other, mine):
    prefix = other["prefix"]
    admin = other["users"]["admin"]["token"]
    listed = _get(client, f"{prefix}/api/patrol-areas", admin).get_json()
    assert listed["features"] == []
    for url in (f"/api/patrol-areas/{mine['patrol']}", f"/api/patrol-areas/{mine['patrol']}/history",
                f"/api/patrol-areas/{mine['patrol']}/summary", f"/api/patrol-areas/{mine['patrol']}/export.geojson"):
        response = _get(client, prefix + url, admin)
        assert response.status_code == 404, (url, response.status_code)
    assert _get(client, f"/api/patrol-areas/{mine['patrol']}", mine["officer"]).status_code == 200
    created = client.post(f"{prefix}/api/patrol-areas", json={"name": "B's patrol", "geometry": TOWN_CENTRE},
                          headers=bearer(other["users"]["officer"]["token"]))
    assert created.status_code == 201, created.get_json()
    assert _get(client, f"/api/patrol-areas/{created.get_json()['id']}", mine["officer"]).status_code == 404


def test_b_sees_no_a_annotations(client, other):
    assert client.get("/api/annotations").get_json()["features"], "the default partnership has its annotations"
    assert client.get(f"{other['prefix']}/api/annotations").get_json()["features"] == []


def test_accounts_sessions_and_tokens_do_not_cross_partnerships(client, tokens, other):
    prefix = other["prefix"]
    b_admin = other["users"]["admin"]
    # A's admin token under B's prefix is an unknown token
    unknown = _get(client, f"{prefix}/api/session", "not-a-token")
    crossed = _get(client, f"{prefix}/api/session", tokens["admin"])
    assert crossed.status_code == unknown.status_code == 401 and crossed.get_json() == unknown.get_json()
    assert _get(client, f"{prefix}/api/admin/users", tokens["admin"]).status_code == 401
    assert _get(client, "/api/admin/users", b_admin["token"]).status_code == 401
    users = _get(client, f"{prefix}/api/admin/users", b_admin["token"]).get_json()["users"]
    names = {u["username"] for u in users}
    assert b_admin["username"] in names and other["users"]["officer"]["username"] in names
    assert not any(name.startswith(("admin-", "viewer-", "dcsm-", "county-viewer")) for name in names), names
    for url in (f"/api/admin/users/{_username(tokens, client, 'admin')}/tokens",):
        assert _get(client, prefix + url, b_admin["token"]).status_code == 404
    audit = _get(client, f"{prefix}/api/admin/security-audit", b_admin["token"]).get_json()["entries"]
    assert audit and all(not e["username"].startswith(("admin-", "viewer-", "dcsm-")) for e in audit)
    # signing in: A's user cannot sign in under B's prefix, B's can; each prefix has its own cookie
    wrong = client.post(f"{prefix}/api/session", json={"username": _username(tokens, client, "viewer"),
                                                        "password": PASSWORD}, headers={"Origin": "http://localhost"})
    assert wrong.status_code == 401
    signed = client.post(f"{prefix}/api/session", json={"username": b_admin["username"], "password": PASSWORD},
                         headers={"Origin": "http://localhost"})
    assert signed.status_code == 200, signed.get_json()
    assert f"session-{other['slug']}=" in signed.headers["Set-Cookie"]
    assert client.get(f"{prefix}/api/session").get_json()["user"]["username"] == b_admin["username"]
    assert client.get("/api/session").get_json()["user"] is None


def _username(tokens, client, role: str) -> str:
    return client.get("/api/session", headers=bearer(tokens[role])).get_json()["user"]["username"]


def test_county_admins_act_in_their_districts_and_nobody_else_does(client, other):
    prefix = other["prefix"]
    county = other["county_users"]
    assert _get(client, f"{prefix}/api/session", county["admin"]["token"]).get_json()["user"]["role"] == "admin"
    assert _get(client, f"{prefix}/api/admin/users", county["admin"]["token"]).status_code == 200
    assert _get(client, f"{prefix}/api/session", county["viewer"]["token"]).status_code == 401
    # a district's admin is not a county admin
    assert _get(client, f"/p/{other['county']}/api/admin/users", other["users"]["admin"]["token"]).status_code == 401


def test_a_restricted_write_changes_nothing_b_can_see(client, other, hotspot_users, engine):
    prefix = other["prefix"]
    reader = bearer(other["users"]["admin"]["token"])
    url = f"{prefix}/api/hotspots/clusters?source={other['slug']}-restricted&min_points=1&eps=50"
    before = client.get(url, headers=reader)
    assert before.status_code == 200, before.get_json()
    with scope.acting_for(other["slug"]), transaction(engine) as session:
        version_before = statistics_store.hotspot_data_version(session)
    written = client.post(f"/api/hotspot-layers/{RESTRICTED_LAYER}/points",
                          json={"observed": "2023-06-01", "lon": 0.53, "lat": 51.27, "notes": "probe"},
                          headers=bearer(hotspot_users["dcsm-writer"]["token"]))
    assert written.status_code == 201
    with scope.acting_for(other["slug"]), transaction(engine) as session:
        assert statistics_store.hotspot_data_version(session) == version_before
    after = client.get(url, headers=reader)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert client.get(url, headers={**reader, "If-None-Match": before.headers["ETag"]}).status_code == 304


def test_the_same_url_under_two_prefixes_has_two_etags(client):
    plain = client.get("/api/boundary-sets/wards-2024/features")
    prefixed = client.get("/p/maidstone/api/boundary-sets/wards-2024/features")
    assert plain.status_code == prefixed.status_code == 200
    assert plain.headers["ETag"] != prefixed.headers["ETag"]
    assert client.get("/p/maidstone/api/boundary-sets/wards-2024/features",
                      headers={"If-None-Match": plain.headers["ETag"]}).status_code == 200


OWNED = ("users", "security_audit", "hotspot_layers", "hotspot_grants", "gazetteer_places", "hotspot_points",
         "hotspot_point_history", "hotspot_audit", "patrol_areas", "patrol_area_history", "partnership_annotations",
         "jobs")


def test_the_database_refuses_what_a_forgotten_where_would_leak(engine, database_url, other, mine):
    """As the app's role acting for B, a query without any WHERE sees exactly B's rows (the owner counts them), and
    a write into A is refused or touches nothing."""
    app_engine = engine_for(database_url)
    for table in OWNED:
        with transaction(engine) as session:  # the owner bypasses the policies
            everyone = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            theirs = session.execute(text(f"SELECT count(*) FROM {table} WHERE partnership_slug = :b"),
                                     {"b": other["slug"]}).scalar_one()
        with scope.acting_for(other["slug"]), transaction(app_engine) as session:
            seen = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        county_admin = 1 if table == "users" else 0  # visible in its district, so that its tokens work there
        assert seen == theirs + county_admin, table
        assert everyone > theirs + county_admin or table == "jobs", table
    with scope.acting_for(other["slug"]), transaction(app_engine) as session:
        tokens = session.execute(text("SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                      "WHERE u.partnership_slug = 'maidstone'")).scalar_one()
    assert tokens == 0
    with (pytest.raises(DBAPIError, match="row-level security"), scope.acting_for(other["slug"]),
          transaction(app_engine) as session):
        session.execute(text("""
            INSERT INTO hotspot_points (layer_id, observed_from, observed_to, area_code, recorded_by,
                                        partnership_slug)
            VALUES (:layer, '2023-01-01', '2023-01-01', 'E05000001', 'x', 'maidstone')"""),
            {"layer": RESTRICTED_LAYER})
    with scope.acting_for(other["slug"]), transaction(app_engine) as session:
        changed = session.execute(text("UPDATE hotspot_points SET notes = 'overwritten' WHERE id = :id"),
                                  {"id": mine["point"]}).rowcount
    assert changed == 0


def test_jobs_belong_to_their_partnership_and_link_under_its_prefix(client, other, engine):
    from server.store import jobs as jobs_store

    with scope.acting_for(other["slug"]), transaction(engine) as session:
        job, new = jobs_store.create_or_follow(session, "test", f"{other['prefix']}/api/maps/x.png",
                                               f"test-{uuid.uuid4().hex}", None)
    assert new
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    shown = client.get(f"{other['prefix']}/api/jobs/{job['id']}")
    assert shown.status_code == 200
    assert shown.get_json()["links"]["self"] == f"{other['prefix']}/api/jobs/{job['id']}"


def test_static_maps_name_their_partnership(client, other):
    query = "?metric=all-crime&period=2022-06&width=800&height=600&dpi=100"
    theirs = client.get(f"{other['prefix']}/api/maps/{other['set']}.svg{query}")
    mine = client.get(f"/api/maps/wards-2024.svg{query}")
    assert theirs.status_code == mine.status_code == 200
    assert "Other Partnership" in theirs.get_data(as_text=True)
    assert "Safer Maidstone Partnership" in mine.get_data(as_text=True)
    assert "Safer Maidstone Partnership" not in theirs.get_data(as_text=True)


def test_crime_points_are_cut_to_the_partnership_area(client, engine, other):
    """B's area is a copy of Maidstone's 2013 wards moved 0.5 degrees east: none of Maidstone's records lie in it."""
    with transaction(engine) as session:
        session.execute(text("UPDATE partnerships SET area = ST_Multi(ST_Translate(area, 0.5, 0)) WHERE slug = :b"),
                        {"b": other["slug"]})
        inside = session.execute(text("""
            SELECT count(*) FROM crime_records r, partnerships p
            WHERE p.slug = 'maidstone' AND r.geom IS NOT NULL AND r.month = '2022-06-01'
              AND ST_DWithin(r.geom, p.area, 0.003)""")).scalar_one()
    try:
        mine = client.get("/api/crime/points?period=2022-06&metric=all-crime,asb").get_json()
        theirs = client.get(f"{other['prefix']}/api/crime/points?period=2022-06&metric=all-crime,asb").get_json()
        assert len(mine["features"]) == inside > 0
        assert theirs["features"] == []
        items = client.get(f"{other['prefix']}/ogc/collections/crime.records/items?limit=5").get_json()
        assert items["features"] == [] and items["numberMatched"] == 0
        collection = client.get(f"{other['prefix']}/ogc/collections/crime.records").get_json()
        assert "spatial" not in collection["extent"], "B's crime collection has no extent: nothing lies in its area"
        assert "spatial" in client.get("/ogc/collections/crime.records").get_json()["extent"]
        assert client.get("/ogc/collections/crime.records/items?limit=5").get_json()["features"]
    finally:
        with transaction(engine) as session:
            partnership_store.refresh_area(session, other["slug"])


def test_the_command_line_acts_for_the_partnership_it_is_given(client, other):
    """`scripts/atlas --partnership SLUG users create …` makes an account of that partnership, usable only there."""
    import contextvars

    from click.testing import CliRunner

    from server.cli import cli

    username = f"cli-{uuid.uuid4().hex[:6]}"

    def atlas(*args: str):  # in a copy of the context: the option sets the partnership for the rest of the run
        return contextvars.copy_context().run(CliRunner().invoke, cli, list(args),
                                              env={"CSP_ATLAS_PASSWORD": PASSWORD})

    made = atlas("--partnership", other["slug"], "users", "create", username, "--role", "viewer")
    assert made.exit_code == 0, made.output
    assert scope.current() is None
    signed = client.post(f"{other['prefix']}/api/session", json={"username": username, "password": PASSWORD},
                         headers={"Origin": "http://localhost"})
    assert signed.status_code == 200
    assert client.post("/api/session", json={"username": username, "password": PASSWORD},
                       headers={"Origin": "http://localhost"}).status_code == 401
    unknown = atlas("--partnership", "nowhere", "users", "list")
    assert unknown.exit_code != 0 and "no partnership 'nowhere'" in unknown.output


def test_a_set_uploaded_under_a_prefix_is_that_partnerships_and_nobody_replaces_anothers(client, engine, other):
    import io

    from tests.conftest import GEODATA

    content = (GEODATA / "maidstone_wards_2013.geojson").read_bytes()
    admin = bearer(other["users"]["admin"]["token"])

    def upload(set_id: str):
        form = {"file": (io.BytesIO(content), "wards.geojson"), "id": set_id, "kind": "ward",
                "code_field": "WD13CD", "name_field": "WD13NM", "valid_from": "2013-05-02", "title": "Uploaded wards"}
        return client.post(f"{other['prefix']}/api/boundary-sets", data=form, headers=admin)

    with transaction(engine) as session:
        before = session.execute(text("SELECT loaded_at FROM boundary_sets WHERE id = 'wards-2024'")).scalar_one()
    refused = upload("wards-2024")
    assert refused.status_code == 404, refused.get_json()
    with transaction(engine) as session:
        after = session.execute(text("SELECT loaded_at FROM boundary_sets WHERE id = 'wards-2024'")).scalar_one()
    assert after == before
    set_id = f"{other['slug']}-uploaded"
    try:
        created = upload(set_id)
        assert created.status_code == 201, created.get_json()
        theirs = {s["id"] for s in client.get(f"{other['prefix']}/api/boundary-sets").get_json()["boundary_sets"]}
        mine = {s["id"] for s in client.get("/api/boundary-sets").get_json()["boundary_sets"]}
        assert set_id in theirs and set_id not in mine
    finally:
        with transaction(engine) as session:
            session.execute(text("DELETE FROM boundary_sets WHERE id = :id"), {"id": set_id})
