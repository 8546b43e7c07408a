"""The map pages and their static files: our ES modules and the npm-installed libraries."""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

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
    return send_from_directory(CLIENT, "index.html")


@bp.get("/embed")
def embed():
    """The same map (same query string) with minimal chrome, for an <iframe> in a report or intranet page."""
    return send_from_directory(CLIENT, "embed.html")


@bp.get("/app/<path:filename>")
def app_files(filename: str):
    return send_from_directory(CLIENT / "src", filename)


@bp.get("/vendor/<package>/<path:filename>")
def vendor_files(package: str, filename: str):
    folder = VENDOR.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(CLIENT / "node_modules" / folder, filename, max_age=86400)
