"""QGIS as the GIS staff use it: its OAPIF provider (Debian's python3-qgis, run headless in the system Python, which
has the bindings; the project's virtualenv does not) opens collections of the app served by gunicorn on loopback, and
its features carry the values the API gives. Skipped, with the reason, where QGIS's Python bindings are not
installed (`apt-get install python3-qgis`: large, so not part of scripts' install lists)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from sqlalchemy import text

from server.store.db import transaction
from tests.test_ogc_clients import server  # noqa: F401  (the app under gunicorn, a module fixture)

# Opens each (uri) of argv[1] (a JSON list) with the OAPIF provider; prints, per layer, whether it is valid, its
# feature count and every feature's attributes.
READ_LAYERS = """
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
found = []
for uri in json.loads(sys.argv[1]):
    layer = QgsVectorLayer(uri, "layer", "OAPIF")
    features = [{name: feature[name] for name in layer.fields().names()} for feature in layer.getFeatures()]
    found.append({"valid": layer.isValid(), "count": layer.featureCount(), "crs": layer.crs().authid(),
                  "features": features})
    del layer  # before exitQgis: a layer outliving the application crashes the interpreter on exit
print(json.dumps(found, default=lambda value: None))
app.exitQgis()
"""


def qgis_python() -> str | None:
    """A Python that imports qgis.core (QGIS_PYTHON, else the system's python3), or None."""
    candidate = shutil.which(os.environ.get("QGIS_PYTHON") or "python3", path="/usr/bin:/usr/local/bin")
    if not candidate:
        return None
    probe = subprocess.run([candidate, "-c", "import qgis.core"], capture_output=True, timeout=120,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return candidate if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def qgis() -> str:
    python = qgis_python()
    if python is None:
        pytest.skip("QGIS's Python bindings are not installed (Debian: apt-get install python3-qgis; or set "
                    "QGIS_PYTHON to a Python that imports qgis.core)")
    return python


def open_in_qgis(python: str, uris: list[str]) -> list[dict]:
    run = subprocess.run([python, "-c", READ_LAYERS, json.dumps(uris)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_qgis_opens_a_boundary_set_and_a_classified_layer(qgis, server, client, engine):  # noqa: F811
    query = "metric=burglary&period=2022&measure=density&k=4"
    areas, classified, clusters = open_in_qgis(qgis, [
        f"url='{server}/ogc' typename='wards-2024'",
        # the layer's parameters ride on the connection URL: QGIS keeps them on every request
        f"url='{server}/ogc?{query}' typename='wards-2024.classified'",
        f"url='{server}/ogc?{query}' typename='wards-2024.clusters.classified'",
    ])
    with transaction(engine) as db:
        names = dict(db.execute(text("SELECT code, name FROM areas WHERE set_id = 'wards-2024'")).all())
    assert areas["valid"] and areas["count"] == len(names) == len(areas["features"]) > 10
    assert areas["crs"] == "EPSG:4326"
    assert {f["code"]: f["name"] for f in areas["features"]} == names
    layer = client.get(f"/api/layers/wards-2024?{query}").get_json()
    fields = ("value", "class", "color", "rank")
    expected = {f["properties"]["code"]: tuple(f["properties"][k] for k in fields) for f in layer["features"]}
    assert classified["valid"] and {f["code"]: tuple(f[k] for k in fields) for f in classified["features"]} == expected
    assert len({f["class"] for f in classified["features"]}) == 4
    of_clusters = client.get(f"/api/layers/wards-2024/clusters?{query}").get_json()
    assert clusters["valid"] and {f["number"]: f["color"] for f in clusters["features"]} == {
        f["properties"]["number"]: f["properties"]["color"] for f in of_clusters["features"]}
