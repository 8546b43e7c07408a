"""The map pages and their static files: our ES modules and the npm-installed libraries."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, send_from_directory

from server.config import ROOT

bp = Blueprint("pages", __name__)
CLIENT = ROOT / "client"
# /vendor/<name>/ -> the folder of an npm package (under client/node_modules) that the browser may load
VENDOR = {
    "leaflet": "leaflet/dist",
    "leaflet.heat": "leaflet.heat/dist",
    "leaflet.markercluster": "leaflet.markercluster/dist",
    "leaflet-geoman": "@geoman-io/leaflet-geoman-free/dist",  # drawing patrol areas; loaded on first use
    "protomaps-leaflet": "protomaps-leaflet/dist",  # vector tiles of large boundary sets; loaded on first use
}


@bp.get("/")
def index():
    """The full map: controls, legend, hotspots, find, share and export."""
    return _page("index.html")


@bp.get("/embed")
def embed():
    """The same map (same query string) with minimal chrome, for an <iframe> in a report or intranet page."""
    return _page("embed.html")


def _page(name: str):
    """Under a partnership's /p/{slug} prefix, the API requests the page preloads are that partnership's."""
    if not request.script_root:
        return send_from_directory(CLIENT, name)
    page = (CLIENT / name).read_text(encoding="utf-8")
    return Response(page.replace('href="/api/', f'href="{request.script_root}/api/'), mimetype="text/html")


@bp.get("/app/<path:filename>")
def app_files(filename: str):
    return send_from_directory(CLIENT / "src", filename)


@bp.get("/vendor/<package>/<path:filename>")
def vendor_files(package: str, filename: str):
    folder = VENDOR.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(CLIENT / "node_modules" / folder, filename, max_age=86400)
