"""OGC API – Features and Tiles, the parts that know nothing of HTTP: collection ids, coordinate reference systems,
bounding boxes, `datetime` intervals, the WebMercatorQuad tile matrix set and the classified values of a layer.

Collection ids never clash: a boundary set id is lower-case letters, digits and hyphens, so every other collection
has a dot in its id (`wards-2024.clusters`, `wards-2024.classified`, `wards-2024.clusters.classified`,
`crime.records`, `hotspots.needle-finds`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.domain import layers

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BNG = "http://www.opengis.net/def/crs/EPSG/0/27700"
# Every collection is served in these; EPSG:4326 itself is left out: its axis order is latitude first.
CRS_SRIDS = {CRS84: 4326, BNG: 27700}
CRS_ALIASES = {"crs84": CRS84, "ogc:crs84": CRS84, "epsg:27700": BNG, BNG.lower(): BNG, CRS84.lower(): CRS84,
               "http://www.opengis.net/def/crs/epsg/0/27700": BNG}
# GeoJSON decimals: 6 (about 0.1 m) in degrees, 2 (1 cm) in metres.
PRECISION = {4326: 6, 27700: 2}
# Generous bounds of British National Grid, so a bbox in the wrong CRS is refused with a clear message.
BNG_BOUNDS = (-1_000_000.0, -1_000_000.0, 1_500_000.0, 2_000_000.0)

CRIME = "crime.records"
HOTSPOT_PREFIX = "hotspots."
CLUSTERS_SUFFIX = ".clusters"
CLASSIFIED_SUFFIX = ".classified"
CLASSIFIED_CLUSTERS_SUFFIX = CLUSTERS_SUFFIX + CLASSIFIED_SUFFIX
CLASSIFIED_KINDS = ("classified", "classified_clusters")  # the kinds whose items carry a classified layer's values

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 10_000_000

TILE_EXTENT = 4096
TILE_BUFFER = 64
# Detail finer than this many units of the 4096 grid is simplified away: half a pixel when a tile is shown 512 pixels
# wide, as MapLibre and protomaps-leaflet show them (a quarter at 256). England's zoom-7 tiles, where most LSOAs are a
# few pixels across, keep a third of their vertices (385,591 against 144,723 in tile 7/42/63) and look the same.
SIMPLIFY_UNITS = 4
MAX_ZOOM = 22
WEB_MERCATOR_HALF = 20037508.3427892  # metres from the origin to the edge of WebMercatorQuad
WEB_MERCATOR_SCALE_0 = 559082264.028717  # scale denominator of zoom 0 (256-pixel tiles of 0.28 mm)


class OgcError(ValueError):
    """A parameter that cannot be used as given (HTTP 400); the message says what is valid."""


@dataclass(frozen=True)
class CollectionId:
    kind: str  # areas | clusters | classified | classified_clusters | crime | hotspots
    key: str   # the boundary set or hotspot layer id ('' for crime)


def parse_collection_id(collection_id: str) -> CollectionId:
    if collection_id == CRIME:
        return CollectionId("crime", "")
    if collection_id.startswith(HOTSPOT_PREFIX):
        return CollectionId("hotspots", collection_id.removeprefix(HOTSPOT_PREFIX))
    if collection_id.endswith(CLASSIFIED_CLUSTERS_SUFFIX):
        return CollectionId("classified_clusters", collection_id.removesuffix(CLASSIFIED_CLUSTERS_SUFFIX))
    if collection_id.endswith(CLUSTERS_SUFFIX):
        return CollectionId("clusters", collection_id.removesuffix(CLUSTERS_SUFFIX))
    if collection_id.endswith(CLASSIFIED_SUFFIX):
        return CollectionId("classified", collection_id.removesuffix(CLASSIFIED_SUFFIX))
    return CollectionId("areas", collection_id)


def collection_id(kind: str, key: str) -> str:
    return {"areas": key, "clusters": key + CLUSTERS_SUFFIX, "classified": key + CLASSIFIED_SUFFIX,
            "classified_clusters": key + CLASSIFIED_CLUSTERS_SUFFIX, "crime": CRIME,
            "hotspots": HOTSPOT_PREFIX + key}[kind]


# --- coordinate reference systems and bounding boxes ---------------------------------------------------------------


def parse_crs(raw: str | None, name: str = "crs") -> str:
    """The CRS URI for a `crs` or `bbox-crs` value (CRS84 when absent)."""
    if raw is None or raw.strip() == "":
        return CRS84
    found = CRS_ALIASES.get(raw.strip().strip("[]<>").lower())
    if found is None:
        raise OgcError(f"{name} must be {CRS84} or {BNG} (EPSG:27700, British National Grid), not '{raw[:100]}'")
    return found


def parse_bbox(raw: str | None, crs: str) -> tuple[float, float, float, float] | None:
    """minx,miny,maxx,maxy in `crs`: longitude/latitude for CRS84, easting/northing in metres for EPSG:27700."""
    if raw is None or raw.strip() == "":
        return None
    parts = raw.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise OgcError(f"bbox must be four numbers separated by commas, not '{raw[:100]}'") from None
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise OgcError("bbox must be four finite numbers: minx,miny,maxx,maxy (a 3D bbox is not supported)")
    minx, miny, maxx, maxy = numbers
    low_x, low_y, high_x, high_y = (-180.0, -90.0, 180.0, 90.0) if crs == CRS84 else BNG_BOUNDS
    if not (low_x <= minx <= maxx <= high_x and low_y <= miny <= maxy <= high_y):
        what = ("longitude,latitude in degrees" if crs == CRS84
                else "easting,northing in metres of British National Grid")
        raise OgcError(f"bbox must be minx,miny,maxx,maxy as {what} with min <= max, in bbox-crs ({crs})")
    return minx, miny, maxx, maxy


# --- datetime -----------------------------------------------------------------------------------------------------

_OPEN = ("", "..")


def _instant(text: str) -> date:
    try:
        if "T" in text or "t" in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
        return date.fromisoformat(text)
    except ValueError:
        raise OgcError(f"datetime must be an RFC 3339 date or date-time (2022-06-01 or 2022-06-01T00:00:00Z) or an "
                       f"interval of them (2022-01-01/2022-06-30, ../2022-06-30, 2022-01-01/..), not '{text[:60]}'"
                       ) from None


def parse_datetime(raw: str | None) -> tuple[date | None, date | None] | None:
    """The days (first, last; None = open) a `datetime` instant or interval covers; None when absent."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if "/" not in text:
        day = _instant(text)
        return day, day
    start, _, end = text.partition("/")
    if start in _OPEN and end in _OPEN:
        raise OgcError("datetime: an interval needs at least one end, e.g. 2022-01-01/..")
    first = None if start in _OPEN else _instant(start)
    last = None if end in _OPEN else _instant(end)
    if first and last and last < first:
        raise OgcError(f"datetime: the interval ends ({last}) before it starts ({first})")
    return first, last


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(raw: str) -> date:
    found = MONTH.match(raw.strip())
    if not found:
        raise OgcError(f"month must be a month like 2022-06, not '{raw[:40]}'")
    return date(int(found.group(1)), int(found.group(2)), 1)


def parse_properties(raw: str | None, known: list[str]) -> list[str]:
    """The property names a `properties=` list selects, in the collection's order (all when absent)."""
    if raw is None:
        return list(known)
    asked = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in asked if name not in known]
    if unknown:
        raise OgcError(f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)[:200]}; "
                       f"valid: {', '.join(known)}")
    return [name for name in known if name in asked]


# --- tiles --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    zoom: int
    row: int
    col: int

    @property
    def tolerance_metres(self) -> float:
        """SIMPLIFY_UNITS units of the tile's 4096 grid, in Web Mercator metres: finer detail is not drawn."""
        return 2 * WEB_MERCATOR_HALF / (2 ** self.zoom) / TILE_EXTENT * SIMPLIFY_UNITS

    @property
    def tolerance_degrees(self) -> float:
        """That unit in degrees, for simplifying before reprojecting: a Web Mercator metre is 1/111,319.49 of a
        degree of longitude, and cos(latitude) times that of latitude; the tile's poleward edge gives the smaller."""
        n = 2 ** self.zoom
        edges = (math.atan(math.sinh(math.pi * (1 - 2 * row / n))) for row in (self.row, self.row + 1))
        return self.tolerance_metres * math.cos(max(abs(lat) for lat in edges)) / 111_319.49


def tile(tile_matrix: str, row: str, col: str) -> Tile:
    if not (tile_matrix.isdigit() and row.isdigit() and col.isdigit()):
        raise OgcError("tileMatrix, tileRow and tileCol must be whole numbers")
    zoom, y, x = int(tile_matrix), int(row), int(col)
    if zoom > MAX_ZOOM:
        raise OgcError(f"tileMatrix must be from 0 to {MAX_ZOOM}")
    if y >= 2 ** zoom or x >= 2 ** zoom:
        raise OgcError(f"tileRow and tileCol must be below {2 ** zoom} at tileMatrix {zoom}")
    return Tile(zoom, y, x)


def web_mercator_quad() -> dict[str, Any]:
    """The WebMercatorQuad tile matrix set (OGC 17-083r4, Annex D), zooms 0 to MAX_ZOOM."""
    return {
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [{
            "id": str(zoom), "scaleDenominator": WEB_MERCATOR_SCALE_0 / 2 ** zoom,
            "cellSize": 2 * WEB_MERCATOR_HALF / 256 / 2 ** zoom, "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF], "tileWidth": 256, "tileHeight": 256,
            "matrixWidth": 2 ** zoom, "matrixHeight": 2 ** zoom} for zoom in range(MAX_ZOOM + 1)],
    }


# --- classified layers --------------------------------------------------------------------------------------------


def classified_values(session: Session, request: layers.LayerRequest) -> dict[str, Any]:
    """The value, class, colour and rank of every area (or, for a layer of clusters, every cluster: its code is its
    number) for a layer request, without geometry, with the legend and the layer's metadata (raises
    layers.LayerError / LayerNotFound)."""
    layer = layers.build_layer(session, request)
    keys = ("code", "value", "class", "color", "rank", "rank_of", "value_current", "value_base")
    values = [{key: f["properties"].get(key) for key in keys} for f in layer["features"]]
    return {"values": values, "legend": layer["legend"], "metadata": layer["metadata"]}
