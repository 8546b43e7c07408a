"""Bodies and /ogc parameters are declared once: the OpenAPI document is generated from the declarations the requests
are parsed with, so what the document lists is what the server takes and refuses."""

from __future__ import annotations

import pytest

from server.api import ogc_params
from server.api.layers import LAYER_PARAMS
from server.domain import hotspot_input
from tests.conftest import bearer

ITEMS = "/ogc/collections/{collectionId}/items"


def _parameters(spec: dict, path: str) -> dict[str, dict]:
    return {p["name"]: p for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}


def test_every_ogc_filter_and_layer_parameter_is_documented(client):
    documented = _parameters(client.get("/api/openapi.json").get_json(), ITEMS)
    filters = {name for shape in ogc_params.SHAPES.values() for name in shape.filters}
    assert {"code", "month", "crime_type", "category", "imd_decile"} <= filters
    assert filters | set(LAYER_PARAMS) | {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "properties",
                                          "skipGeometry", "f"} == set(documented)
    assert documented["limit"]["schema"] == {"type": "integer", "default": 100, "minimum": 1, "maximum": 10000}
    assert documented["skipGeometry"]["schema"]["type"] == "boolean"


REFUSED = {
    "code=E05": "unknown parameter(s) code; valid: ",  # an area filter on crime records
    "limit=0": "limit must be from 1 to 10000",
    "limit=ten": "limit must be a whole number, not 'ten'",
    "skipGeometry=TRUE": "skipGeometry must be true or false",
}


def test_ogc_parameters_are_refused_by_their_declaration(client):
    for query, message in REFUSED.items():
        error = client.get(f"/ogc/collections/crime.records/items?{query}").get_json()["error"]
        assert (error["status"], error["message"][:len(message)]) == (400, message), query


def test_a_kinds_own_filters_are_valid_only_on_it(client):
    refused = client.get("/ogc/collections/wards-2024/items?month=2022-06").get_json()["error"]["message"]
    assert "unknown parameter(s) month" in refused and "cluster_number" in refused and "crime_type" not in refused
    assert client.get("/ogc/collections/crime.records/items?month=2022-06&limit=1").status_code == 200


def test_the_point_body_documents_every_field_the_domain_reads(client):
    spec = client.get("/api/openapi.json").get_json()
    body = spec["paths"]["/api/hotspot-layers/{layer_id}/points"]["post"]["requestBody"]["content"]
    schema = spec["components"]["schemas"][body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == {*hotspot_input.FIELDS, "location"}
    assert schema["properties"]["count"]["maximum"] == hotspot_input.MAX_COUNT


@pytest.mark.parametrize(("path", "field_type"), [
    ("/api/crime/imports", "array"), ("/api/populations/{set_id}", "string"),
    ("/api/hotspot-layers/{layer_id}/import", "string")])
def test_uploads_declare_their_file(client, path, field_type):
    spec = client.get("/api/openapi.json").get_json()
    ref = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["required"] == ["file"] and schema["properties"]["file"]["type"] == field_type


def test_a_population_upload_without_a_file_names_the_field(client, tokens):
    response = client.post("/api/populations/wards-2024", data={}, headers=bearer(tokens["gis"]))
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "attach the population CSV as the multipart field 'file'"


def test_a_place_without_a_name_is_refused_after_sign_in(client, tokens):
    assert client.post("/api/gazetteer", json={}).status_code == 401
    response = client.post("/api/gazetteer", json={"lon": 0.52}, headers=bearer(tokens["officer"]))
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "name is required (at most 200 characters)"
