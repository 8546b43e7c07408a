"""Basemap tiles for server-drawn maps, from a real tile server on loopback that serves generated PNG tiles."""

from __future__ import annotations

import io
import subprocess
import threading
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from server.config import Settings
from server.domain import rendering
from server.tiles import basemap_source

TILE_GREEN = (40, 160, 60)


class _Tiles(BaseHTTPRequestHandler):
    served: typing.ClassVar[list[str]] = []
    down: typing.ClassVar[bool] = False

    def do_GET(self) -> None:
        if self.down:
            self.send_response(503)
            self.end_headers()
            return
        self.served.append(self.path)
        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), TILE_GREEN).save(buffer, format="PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(buffer.getvalue())

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def tile_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Tiles.served = []
    _Tiles.down = False
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _settings(url: str) -> Settings:
    return Settings(database_url="", secret_key="", shared_dir=None, basemap_url=url,
                    basemap_attribution="Test tiles © Loopback")


def _layer(client):
    response = client.get("/api/layers/wards-2024?metric=all-crime&period=2022")
    assert response.status_code == 200
    return response.get_json()


def test_tiles_are_fetched_cached_and_drawn_under_the_map(client, tile_server, tmp_path):
    source = basemap_source(_settings(tile_server + "/{z}/{x}/{y}.png"), cache_dir=tmp_path)
    spec = rendering.MapSpec(format="png", page="a4-landscape", dpi=100)
    png = rendering.render_layer(_layer(client), spec, source)
    fetched = len(_Tiles.served)
    assert fetched > 0 and all(path.endswith(".png") for path in _Tiles.served)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    assert (np.abs(pixels.astype(int) - TILE_GREEN).sum(axis=1) < 6).mean() > 0.01, "the tiles show round the map"
    assert len(list(tmp_path.rglob("*.tile"))) == fetched
    pdf = rendering.render_layer(_layer(client), rendering.MapSpec(format="pdf", page="a4-landscape", dpi=100), source)
    assert len(_Tiles.served) == fetched, "drawn again from the on-disk cache"
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Basemap: Test tiles © Loopback" in " ".join(words.split())


def test_an_unreachable_tile_server_is_named_in_the_footer(client, tile_server, tmp_path):
    closed = tile_server.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens
    source = basemap_source(_settings(closed + "/{z}/{x}/{y}.png"), cache_dir=tmp_path)
    pdf = rendering.render_layer(_layer(client), rendering.MapSpec(format="pdf", page="a4-portrait"), source)
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    words = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                    check=True).stdout.split())
    assert "Basemap not shown: the tile server could not be reached" in words


def test_no_basemap_unless_configured():
    assert basemap_source(_settings("")) is None


def test_the_briefing_draws_the_basemap_and_names_it(tile_server, tmp_path):
    from datetime import datetime

    import geopandas as gpd

    from server.domain.briefing import Briefing, briefing_pdf
    from server.domain.periods import parse_period

    area = {"type": "Polygon", "coordinates": [[[0.515, 51.270], [0.532, 51.270], [0.532, 51.280], [0.515, 51.280],
                                                [0.515, 51.270]]]}
    summary = {"area_km2": 1.3, "areas": [], "crime": {"total": None, "note": "No data: test", "by_type": []}}
    briefing = Briefing(patrol={"name": "Basemap test", "team": "T", "geometry": area}, summary=summary,
                        period=parse_period("2022-11"), produced_at=datetime(2022, 12, 1, 9, 0), produced_by="pc",
                        marking="OFFICIAL", wards=gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326),
                        crime_points=[], streets=[])
    source = basemap_source(_settings(tile_server + "/{z}/{x}/{y}.png"), cache_dir=tmp_path)
    path = tmp_path / "briefing.pdf"
    path.write_bytes(briefing_pdf(briefing, source))
    assert _Tiles.served, "tiles were fetched for the briefing map"
    words = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                    check=True).stdout.split())
    assert "Basemap: Test tiles © Loopback" in words and "No data: test" in words


def test_a_map_drawn_while_the_tile_server_is_down_is_not_kept(engine, database_url, tile_server, tmp_path,
                                                                monkeypatch):
    """Through the API: the map says the tiles are missing, and once the server is back the same URL has them."""
    from server import create_app, tiles
    from tests.conftest import SHARED, UNLIMITED_RATES

    monkeypatch.setattr(tiles, "CACHE_DIR", tmp_path)
    settings = Settings(database_url=database_url, secret_key="t", shared_dir=SHARED, rate_limits=UNLIMITED_RATES,
                        jobs="inline", basemap_url=tile_server + "/{z}/{x}/{y}.png",
                        basemap_attribution="Test tiles © Loopback")
    client = create_app(settings).test_client()
    url = "/api/maps/wards-2013.pdf?metric=drugs&period=2022-02&page=a4-portrait"

    def footer() -> str:
        response = client.get(url)
        assert response.status_code == 200
        path = tmp_path / "api.pdf"
        path.write_bytes(response.data)
        return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                       check=True).stdout.split())

    _Tiles.down = True
    assert "Basemap not shown: the tile server could not be reached (HTTP 503)" in footer()
    _Tiles.down = False
    assert "Basemap: Test tiles © Loopback" in footer()
