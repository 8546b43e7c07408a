"""One registry per extension point: GET /api/registries, the OpenAPI enums and the implementations agree, so adding a
classification method or an export format is one entry in classify.METHODS or exports.FORMATS."""

from __future__ import annotations

from server.domain import classify, exports, layers, rendering


def _query_enum(spec: dict, path: str, name: str) -> list[str]:
    (parameter,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]["enum"]


def test_the_registries_list_what_the_implementations_offer(client):
    registries = client.get("/api/registries").get_json()
    assert [m["id"] for m in registries["classification_methods"]] == list(classify.METHODS)
    assert [m["id"] for m in registries["classification_methods"] if m["needs_breaks"]] == ["user_defined"]
    assert {p["id"] for p in registries["palettes"]} == set(classify.PALETTES)
    assert {p["kind"] for p in registries["palettes"]} == {"sequential", "diverging"}
    assert [m["id"] for m in registries["measures"]] == list(layers.MEASURES)
    assert [f["id"] for f in registries["export_formats"]] == list(exports.FORMATS)
    assert [f["id"] for f in registries["export_formats"] if not f["offered"]] == ["metadata.json"]
    assert [f["id"] for f in registries["map_formats"]] == list(rendering.FORMATS)


def test_the_openapi_enums_are_the_registries(client):
    spec = client.get("/api/openapi.json").get_json()
    registries = client.get("/api/registries").get_json()
    for path in ("/api/layers/{set_id}", "/api/maps/{filename}", "/api/exports/{filename}"):
        assert _query_enum(spec, path, "method") == [m["id"] for m in registries["classification_methods"]]
        assert _query_enum(spec, path, "measure") == [m["id"] for m in registries["measures"]]
        assert set(_query_enum(spec, path, "palette")) == {p["id"] for p in registries["palettes"]}
    export = spec["paths"]["/api/exports/{filename}"]["get"]["responses"]["200"]["content"]
    assert set(export) == {f["media_type"] for f in registries["export_formats"]}


def test_every_export_format_of_the_registry_is_served(client):
    for export in client.get("/api/registries").get_json()["export_formats"]:
        response = client.get(f"/api/exports/wards-2013.{export['id']}?metric=burglary&period=2022")
        assert response.status_code == 200, (export["id"], response.get_data()[:200])
        assert response.mimetype == export["media_type"]
