"""The extension points of the atlas, gathered for the API, its OpenAPI document and the client.

This module only collects: each entry is defined once where it is implemented (a classification method next to its
break finder in classify.METHODS, an export format next to its writer in exports.FORMATS, ...), so adding one is a
single change there, and the API's enums, GET /api/registries and the map's option lists follow."""

from __future__ import annotations

from typing import Any

from server.domain import classify, exports, layers, rendering

CLASSIFICATION_METHODS = tuple(classify.METHODS)
MIN_CLASSES, MAX_CLASSES = classify.MIN_K, classify.MAX_K
PALETTES = tuple(classify.PALETTES)
MEASURES = tuple(layers.MEASURES)
EXPORT_FORMATS = tuple(exports.FORMATS)
MAP_FORMATS = tuple(rendering.FORMATS)
# The static map formats the map offers as downloads (rendering.FORMATS has them all), with their labels.
OFFERED_MAP_FORMATS = {"png": "Map image (PNG)", "pdf": "Map for print (PDF)"}
ANALYSES = {"gi": "Getis-Ord Gi* hot and cold spots (permutation inference, FDR)",
            "kde": "Gaussian kernel density of points (per km², weighted by count)",
            "clusters": "DBSCAN clusters of points"}


def registries() -> dict[str, Any]:
    """Every extension point with what a client needs to offer it (GET /api/registries)."""
    return {
        "classification_methods": [{"id": name, "title": method.title, "needs_breaks": method.find_breaks is None}
                                   for name, method in classify.METHODS.items()],
        "classes": {"min": MIN_CLASSES, "max": MAX_CLASSES, "default": 5},
        "palettes": [{"id": name, "kind": classify.palette_kind(name), "colors": list(classify.PALETTES[name][5])}
                     for name in PALETTES],
        "measures": [{"id": name, "unit": unit, "title": layers.MEASURE_TITLES[name]}
                     for name, unit in layers.MEASURES.items()],
        "export_formats": [{"id": name, "title": export.title, "media_type": export.media_type,
                            "offered": export.offered} for name, export in exports.FORMATS.items()],
        "map_formats": [{"id": name, "media_type": media_type, "title": OFFERED_MAP_FORMATS.get(name, name),
                         "offered": name in OFFERED_MAP_FORMATS} for name, media_type in rendering.FORMATS.items()],
        "analyses": [{"id": name, "title": title} for name, title in ANALYSES.items()],
    }
