"""How much work a Gi* or kernel density request is, estimated from the sizes of the boundary sets before any points
are read, so that the web workers run the small ones and queue the large ones as jobs (CSP_ATLAS_GI_JOB_WORK,
CSP_ATLAS_KDE_JOB_CELLS)."""

from __future__ import annotations

import math
from typing import Any

from server.domain import spatial_analysis as analysis
from server.store import analysis_size as size_store
from server.store import boundaries as boundary_store
from server.store import hotspots as hotspot_store

HEX_COVER = 1.15  # hexagons touching the outline: a little more than its area in hexagons


def _hex_km2(cell_m: float) -> float:
    return (math.sqrt(3) / 2) * cell_m ** 2 / 1e6


def gi_work(session: Any, request: analysis.GiRequest) -> int:
    """Units (areas or hexagons) × (permutations + 1): the permutation test dominates the time (about 0.5 µs each
    on the development machine). 0 when the geography does not exist (the analysis then says why)."""
    if request.geography == "hex":
        study = hotspot_store.study_area_set(session)
        if study is None or request.cell <= 0:
            return 0
        _count, km2, _box = size_store.set_size(session, study)
        units = HEX_COVER * km2 / _hex_km2(request.cell)
    else:
        set_id = request.geography
        if set_id == "lsoa":
            lsoa_sets = [s["id"] for s in boundary_store.list_boundary_sets(session)
                         if s["kind"] == "lsoa" and s["feature_count"]]
            if not lsoa_sets:
                return 0
            set_id = lsoa_sets[-1]
        units = size_store.set_size(session, set_id)[0]
    return int(units * (max(request.permutations, 0) + 1))


def kde_cells(session: Any, request: analysis.KdeRequest) -> int:
    """Grid cells over the study area's bounding box: the density is evaluated at each."""
    study = hotspot_store.study_area_set(session)
    if study is None or request.cell is None or request.cell <= 0:
        return 0
    _count, _km2, box_km2 = size_store.set_size(session, study)
    return int(box_km2 * 1e6 / request.cell ** 2)
