"""A basemap for server-drawn maps: XYZ tiles (Web Mercator) warped onto British National Grid.

The tiles come through a `TileSource` (server/tiles.py fetches and caches them); this module only chooses the
tiles for an extent, mosaics them and resamples the mosaic onto the map's grid, so maps stay in BNG with a true
scale bar. When tiles cannot be had, the map is drawn without them and its footer says so.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pyproj import Transformer

BNG = 27700
TILE_PX = 256
MAX_TILES = 64
BNG_TO_LONLAT = Transformer.from_crs(BNG, 4326, always_xy=True)

TileGetter = Callable[[int, int, int], bytes]  # (z, x, y) -> PNG/JPEG bytes; raises OSError when unreachable
# (minx, miny, maxx, maxy) in BNG and the width drawn in pixels -> the basemap (or the reason there is none)
BasemapSource = Callable[[tuple[float, float, float, float], int], "Basemap"]


class TilesUnavailable(OSError):
    pass


@dataclass
class Basemap:
    """Either an image in BNG with its extent (left, right, bottom, top), or None with the reason in the footer."""

    image: np.ndarray | None
    extent: tuple[float, float, float, float] | None
    attribution: str
    problem: str | None = None

    @property
    def footer(self) -> str:
        if self.image is None:
            return f"Basemap not shown: {self.problem or 'its tiles could not be reached'}."
        return f"Basemap: {self.attribution}"

    def draw(self, axes) -> None:
        if self.image is not None:
            axes.imshow(self.image, extent=self.extent, zorder=0, interpolation="bilinear")


def _tile_xy(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    n = 2 ** zoom
    x = (lon + 180) / 360 * n
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return x, y


def zoom_for(width_m: float, width_px: int) -> int:
    """The tile zoom whose ground resolution at British latitudes (about 52°N) is near the map's."""
    metres_per_px = width_m / max(width_px, 1)
    zoom = math.log2(156543.03 * math.cos(math.radians(52)) / metres_per_px)
    return max(1, min(18, round(zoom)))


def build_basemap(get_tile: TileGetter, bounds: tuple[float, float, float, float], width_px: int,
                  attribution: str) -> Basemap:
    """A basemap for BNG bounds (minx, miny, maxx, maxy) drawn about width_px wide."""
    minx, miny, maxx, maxy = bounds
    zoom = zoom_for(maxx - minx, width_px)
    lons, lats = BNG_TO_LONLAT.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    while True:
        x0, y0 = _tile_xy(min(lons), max(lats), zoom)
        x1, y1 = _tile_xy(max(lons), min(lats), zoom)
        columns, rows = range(int(x0), int(x1) + 1), range(int(y0), int(y1) + 1)
        if len(columns) * len(rows) <= MAX_TILES or zoom == 1:
            break
        zoom -= 1
    try:
        mosaic = _mosaic(get_tile, zoom, columns, rows)
    except (OSError, ValueError) as error:
        return Basemap(None, None, attribution, _reason(error))
    return Basemap(_warp(mosaic, zoom, columns.start, rows.start, bounds, width_px), (minx, maxx, miny, maxy),
                   attribution)


def _reason(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"the tile server could not be reached ({text[:120]})"


def _mosaic(get_tile: TileGetter, zoom: int, columns: range, rows: range) -> np.ndarray:
    mosaic = np.zeros((len(rows) * TILE_PX, len(columns) * TILE_PX, 3), dtype=np.uint8)
    for j, y in enumerate(rows):
        for i, x in enumerate(columns):
            try:
                tile = Image.open(io.BytesIO(get_tile(zoom, x, y))).convert("RGB")
            except Image.UnidentifiedImageError as error:
                raise TilesUnavailable(f"tile {zoom}/{x}/{y} is not an image") from error
            mosaic[j * TILE_PX:(j + 1) * TILE_PX, i * TILE_PX:(i + 1) * TILE_PX] = np.asarray(
                tile.resize((TILE_PX, TILE_PX)))
    return mosaic


def _warp(mosaic: np.ndarray, zoom: int, first_x: int, first_y: int, bounds: tuple[float, float, float, float],
          width_px: int) -> np.ndarray:
    """Resample the Mercator mosaic onto a regular BNG grid (nearest pixel: tiles are already at map resolution)."""
    minx, miny, maxx, maxy = bounds
    out_w = min(max(width_px, 64), 2000)
    out_h = max(1, round(out_w * (maxy - miny) / (maxx - minx)))
    xs = np.linspace(minx, maxx, out_w)
    ys = np.linspace(maxy, miny, out_h)  # first row is the top
    grid_x, grid_y = np.meshgrid(xs, ys)
    lon, lat = BNG_TO_LONLAT.transform(grid_x, grid_y)
    n = 2 ** zoom
    px = ((lon + 180) / 360 * n - first_x) * TILE_PX
    py = ((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n - first_y) * TILE_PX
    px = np.clip(px.astype(int), 0, mosaic.shape[1] - 1)
    py = np.clip(py.astype(int), 0, mosaic.shape[0] - 1)
    return mosaic[py, px]
