"""A classified layer as files GIS staff can open: GeoJSON, GeoPackage, zipped Shapefile (BNG) and CSV.

Every export carries the same metadata (method, breaks, period, source, boundary version): inline in GeoJSON,
as a `layer_metadata` table in the GeoPackage, and as a `metadata.json` sidecar beside the Shapefile and CSV.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from server.domain.csv_cells import LINE_END, safe_cell

BNG = 27700
TABLE_COLUMNS = ["code", "name", "value", "class", "rank", "color"]
# Re-estimated layers (figures published for other boundaries) add each value's interval.
ESTIMATE_COLUMNS = ["estimate_low", "estimate_high", "estimate_error_pct"]


def layer_metadata(layer: dict[str, Any]) -> dict[str, Any]:
    return {"legend": layer["legend"], "metadata": layer["metadata"]}


def _columns(layer: dict[str, Any]) -> list[str]:
    return TABLE_COLUMNS + (ESTIMATE_COLUMNS if layer.get("legend", {}).get("estimated") else [])


def _frame(layer: dict[str, Any]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame.from_features(layer["features"], crs=4326)
    frame["class"] = frame["class"].astype("Int64")
    frame["rank"] = frame["rank"].astype("Int64")
    for column in _columns(layer):
        if column not in frame:
            frame[column] = None
    return frame[[*_columns(layer), "geometry"]]


def to_csv(layer: dict[str, Any]) -> bytes:
    """The table of the layer; names and codes that a spreadsheet would run as formulas are made plain text."""
    return _frame(layer)[_columns(layer)].map(safe_cell).to_csv(index=False, lineterminator=LINE_END).encode()


def to_geopackage(layer: dict[str, Any], layer_name: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="csp-export-") as scratch:
        path = Path(scratch) / "layer.gpkg"
        _frame(layer).to_file(path, layer=layer_name, driver="GPKG", engine="pyogrio")
        described = pd.DataFrame([{"key": "layer_metadata", "value": json.dumps(layer_metadata(layer))}])
        pyogrio.write_dataframe(described, path, layer="layer_metadata", driver="GPKG", append=True)
        return path.read_bytes()


def to_zipped_shapefile(layer: dict[str, Any], stem: str) -> bytes:
    """British National Grid, as GIS staff and QGIS users expect; field names cut to the dBASE limit."""
    with tempfile.TemporaryDirectory(prefix="csp-export-") as scratch:
        folder = Path(scratch)
        _frame(layer).to_crs(BNG).to_file(folder / f"{stem}.shp", driver="ESRI Shapefile", engine="pyogrio",
                                          encoding="UTF-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(folder.iterdir()):
                archive.write(member, member.name)
            archive.writestr("metadata.json", json.dumps(layer_metadata(layer), indent=2))
        return buffer.getvalue()


def to_geojson(layer: dict[str, Any], _stem: str) -> bytes:
    return json.dumps(layer).encode()


def to_metadata_json(layer: dict[str, Any], _stem: str) -> bytes:
    return json.dumps(layer_metadata(layer), indent=2).encode()


@dataclass(frozen=True)
class ExportFormat:
    """A file format of the classified layer: its label, media type, writer (layer, file stem) -> bytes and whether
    the map offers it as a download."""

    title: str
    media_type: str
    write: Callable[[dict[str, Any], str], bytes]
    offered: bool = True


# The export formats, by file extension, in the order the map offers them. Adding one is adding its entry here.
FORMATS: dict[str, ExportFormat] = {
    "geojson": ExportFormat("GeoJSON", "application/geo+json", to_geojson),
    "gpkg": ExportFormat("GeoPackage", "application/geopackage+sqlite3", to_geopackage),
    "shp.zip": ExportFormat("Shapefile (zip, British National Grid)", "application/zip", to_zipped_shapefile),
    "csv": ExportFormat("CSV table", "text/csv", lambda layer, _stem: to_csv(layer)),
    "metadata.json": ExportFormat("Metadata (JSON)", "application/json", to_metadata_json, offered=False),
}
