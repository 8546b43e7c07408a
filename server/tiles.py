"""Basemap tiles for server-drawn maps: an XYZ source from the settings, fetched over HTTP into an on-disk cache.

The tile source is described with xyzservices (URL template, attribution, subdomains); tiles are fetched with
requests and kept under var/tile-cache/<source>/z/x/y so that a map drawn again, or a tile server that is down
later, costs nothing. contextily would also warp tiles, but it brings rasterio, joblib and geopy and caches whole
images in a temporary folder; what we need is a few dozen lines (server/domain/basemap.py warps onto BNG).
No basemap is configured by default: reports then need no network at all and stay byte-for-byte reproducible,
and public tile servers (OpenStreetMap's among them) do not allow unagreed bulk use from servers.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import requests
import xyzservices

from server.config import ROOT, Settings
from server.domain.basemap import Basemap, TilesUnavailable, build_basemap

CACHE_DIR = ROOT / "var" / "tile-cache"
TIMEOUT_SECONDS = (2.0, 5.0)  # connect, read: a map waits at most this long per tile before saying so
MAX_TILE_BYTES = 2 * 1024 * 1024
USER_AGENT = "CSP-Atlas/1 (server-rendered maps)"


class TileCache:
    """Tiles of one XYZ source, from the cache folder or else fetched (and kept)."""

    def __init__(self, provider: xyzservices.TileProvider, folder: Path):
        self.provider = provider
        self.folder = folder
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.unreachable: str | None = None

    def get(self, z: int, x: int, y: int) -> bytes:
        path = self.folder / str(z) / str(x) / f"{y}.tile"
        if path.exists():
            return path.read_bytes()
        if self.unreachable:  # one failure is enough for this map: do not wait on every tile
            raise TilesUnavailable(self.unreachable)
        body = self._fetch(z, x, y)
        _write_atomically(path, body)
        return body

    def _fetch(self, z: int, x: int, y: int) -> bytes:
        url = self.provider.build_url(x=x, y=y, z=z)
        try:
            response = self.session.get(url, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            self.unreachable = f"{type(error).__name__}"
            raise TilesUnavailable(self.unreachable) from None
        if response.status_code != 200 or len(response.content) > MAX_TILE_BYTES:
            self.unreachable = f"HTTP {response.status_code}"
            raise TilesUnavailable(self.unreachable)
        return response.content


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as scratch:
        scratch.write(body)
    os.replace(scratch.name, path)


def provider_from(url: str, attribution: str) -> xyzservices.TileProvider:
    return xyzservices.TileProvider(name="configured", url=url, attribution=attribution or url.split("/")[2])


class ConfiguredBasemap:
    """The basemap source of the settings; `failed` tells whether any map drawn with it lacked its tiles (such a
    map is not kept in the response cache, so it is drawn again with tiles once the server is back)."""

    def __init__(self, provider: xyzservices.TileProvider, folder: Path):
        self.provider = provider
        self.folder = folder
        self.failed = False

    def __call__(self, bounds: tuple[float, float, float, float], width_px: int) -> Basemap:
        basemap = build_basemap(TileCache(self.provider, self.folder).get, bounds, width_px,
                                self.provider.attribution)
        self.failed = self.failed or basemap.image is None
        return basemap


def basemap_source(settings: Settings, cache_dir: Path | None = None) -> ConfiguredBasemap | None:
    """The basemap for server-drawn maps, or None when no tile source is configured."""
    if not settings.basemap_url:
        return None
    folder = (cache_dir or CACHE_DIR) / hashlib.sha256(settings.basemap_url.encode()).hexdigest()[:16]
    return ConfiguredBasemap(provider_from(settings.basemap_url, settings.basemap_attribution), folder)
