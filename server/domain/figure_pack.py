"""The set of maps and tables a strategic assessment needs for a year, for the wards before and after May 2024.

For each figure the first source that has data for the year is used: police.uk records (counted directly in
either ward set), else the partnership's own tables (2013 wards; re-estimated for the 2024 wards). A figure
that no source can give is listed in the pack's README with the reason, never silently left out.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from server.domain import exports, rendering
from server.domain.annotations import annotations_collection, annotations_csv, with_annotations
from server.domain.csv_cells import csv_bytes
from server.domain.layers import LayerError, LayerRequest, build_layer
from server.domain.periods import covered_in_words, parse_period
from server.domain.seed_tables import SEED_DIR
from server.domain.spatial_analysis import AnalysisError, GiRequest, build_gi
from server.store import boundaries as boundary_store
from server.store import crime as crime_store
from server.store import partnerships as partnership_store


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    choices: tuple[tuple[str, str], ...]  # (metric, measure) in order of preference
    clusters: bool = False


FIGURES = (
    FigureSpec("all-crime-count", "All recorded crime by ward",
               (("all-crime", "count"), ("seed-crimes-by-ward", "count"))),
    FigureSpec("all-crime-rate", "All recorded crime per 1,000 residents by ward",
               (("all-crime", "rate"), ("seed-crime-rate-by-ward", "rate"))),
    FigureSpec("asb", "Anti-social behaviour by ward", (("asb", "count"), ("seed-asb-by-ward", "count"))),
    FigureSpec("domestic-abuse", "Domestic abuse crimes by ward", (("seed-domestic-abuse-by-ward", "count"),)),
    FigureSpec("crime-by-cluster", "All recorded crime by ward cluster",
               (("all-crime", "count"), ("seed-crimes-by-ward", "count")), clusters=True),
    FigureSpec("vbc-by-cluster", "Victim-based crime by ward cluster",
               (("vbc", "count"), ("seed-vbc-by-cluster", "count")), clusters=True),
    FigureSpec("asb-by-cluster", "Anti-social behaviour by ward cluster",
               (("asb", "count"), ("seed-asb-by-cluster", "count")), clusters=True),
)


@dataclass
class FigurePack:
    year: int
    files: dict[str, bytes] = field(default_factory=dict)
    produced: list[dict[str, Any]] = field(default_factory=list)
    not_produced: list[dict[str, str]] = field(default_factory=list)
    pages: list[tuple[dict[str, Any], rendering.MapSpec]] = field(default_factory=list)
    annotations: dict[str, Any] | None = None  # outlined on every map when asked for
    partnership: str | None = None

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # same input, same bytes
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, self.files[name])
        return buffer.getvalue()


Progress = Callable[[int, int, str], None]  # steps done, steps in all, what was just done


def build_figure_pack(session: Session, year: int, spec: rendering.MapSpec | None = None,
                      progress: Progress | None = None, annotations: bool = False) -> FigurePack:
    """annotations: outline the assessment's statements about places on every map and add their table."""
    spec = spec or rendering.MapSpec(width_px=1600, height_px=1200, dpi=200)
    spec = replace(spec, partnership=spec.partnership or partnership_store.acting_name(session))
    pdf_spec = replace(spec, format="pdf", page="a4-landscape")
    pack = FigurePack(year, partnership=spec.partnership)
    if annotations:
        pack.annotations = annotations_collection(session)
        pack.files["partnership-annotations.csv"] = annotations_csv(pack.annotations)
    report = progress or (lambda _done, _total, _message: None)
    ward_sets = figure_ward_sets(session)
    total = len(FIGURES) * len(ward_sets) + 3
    for index, (figure, set_id) in enumerate((f, s) for f in FIGURES for s in ward_sets):
        _add_figure(session, pack, figure, set_id, spec)
        report(index + 1, total, f"{figure.name} ({set_id})")
    _add_gi_figure(session, pack, spec, next(iter(partnership_store.sets_of_kind(session, "lsoa")), None))
    report(total - 2, total, "Gi* hot spots")
    _add_needle_finds_table(pack)
    report(total - 1, total, "needle finds")
    if pack.pages:
        pack.files["figure-pack.pdf"] = rendering.render_pdf_pages(
            [(layer, replace(pdf_spec, title=page.title, labels=page.labels)) for layer, page in pack.pages])
    report(total, total, "figure-pack.pdf")
    pack.files["README.txt"] = _readme(pack).encode()
    pack.files["contents.json"] = json.dumps({"year": year, "produced": pack.produced,
                                              "not_produced": pack.not_produced}, indent=2).encode()
    return pack


def figure_ward_sets(session: Session) -> list[str]:
    """The ward sets the pack maps: the acting partnership's, in its order (for Maidstone: before and after May
    2024)."""
    return partnership_store.sets_of_kind(session, "ward")


def _add_figure(session: Session, pack: FigurePack, figure: FigureSpec, set_id: str,
                spec: rendering.MapSpec) -> None:
    reasons = []
    for metric, measure in figure.choices:
        request = LayerRequest(set_id=set_id, metric=metric, measure=measure, period=str(pack.year),
                               clusters=figure.clusters)
        try:
            layer = build_layer(session, request)
        except LayerError as error:
            reasons.append(f"{metric}: {error}")
            continue
        if pack.annotations:
            layer = with_annotations(layer, pack.annotations)
        stem = f"{figure.name}_{set_id}"
        title = f"{figure.title}, {layer['metadata']['period_text']}"
        for fmt in ("png", "svg"):
            pack.files[f"{stem}.{fmt}"] = rendering.render_layer(layer, replace(spec, format=fmt, title=title))
        pack.files[f"{stem}.csv"] = exports.to_csv(layer)
        pack.pages.append((layer, replace(spec, title=title)))
        meta = layer["metadata"]
        pack.produced.append({"figure": stem, "title": title, "metric": metric, "measure": measure,
                              "source": meta["source"], "interpolation": meta["interpolation"], "notes": meta["notes"]})
        return
    pack.not_produced.append({"figure": f"{figure.name}_{set_id}", "reasons": "; ".join(reasons)})


def _add_gi_figure(session: Session, pack: FigurePack, spec: rendering.MapSpec, lsoa_set: str | None) -> None:
    """Getis-Ord Gi* hot and cold spots of all recorded crime by the partnership's LSOAs (police.uk records of the
    year)."""
    name = f"gi-hot-spots_{lsoa_set or 'lsoa'}"
    if lsoa_set is None:
        pack.not_produced.append({"figure": name, "reasons": "Gi*: the partnership has no LSOA set"})
        return
    try:
        gi = build_gi(session, GiRequest(metric="all-crime", period=str(pack.year), geography=lsoa_set))
    except AnalysisError as error:
        pack.not_produced.append({"figure": name, "reasons": f"Gi*: {error}"})
        return
    layer = _gi_as_layer(session, gi, lsoa_set)
    title = f"Hot spots of all recorded crime by LSOA, {layer['metadata']['period_text']} (Getis-Ord Gi*)"
    for fmt in ("png", "svg"):
        pack.files[f"{name}.{fmt}"] = rendering.render_layer(layer, replace(spec, format=fmt, title=title,
                                                                            labels=False))
    pack.files[f"{name}.csv"] = gi_csv(gi)
    pack.pages.append((layer, replace(spec, title=title, labels=False)))
    pack.produced.append({"figure": name, "title": title, "metric": "all-crime", "measure": "Gi* z-score",
                          "source": gi["metadata"]["attribution"], "interpolation": None,
                          "notes": [gi["metadata"]["inference"]]})


def gi_csv(gi: dict[str, Any]) -> bytes:
    """One row per LSOA: its Gi* z-score, p-value, bin and label."""
    keys = ("code", "name", "value", "gi_z", "p_value", "gi_bin", "label")
    rows = ([p.get(k, "") for k in keys] for p in (f["properties"] for f in gi["features"]))
    return csv_bytes(["code", "name", "crimes", "gi_z", "p_value", "gi_bin", "label"], rows)


def _gi_as_layer(session: Session, gi: dict[str, Any], lsoa_set: str) -> dict[str, Any]:
    """The Gi* result in the shape the map renderer draws: named classes instead of ranges."""
    meta = gi["metadata"]
    lsoas = boundary_store.get_boundary_set(session, lsoa_set) or {}
    classes = [{"label": c["label"], "count": c["count"], "color": c["color"]} for c in gi["legend"]["classes"]]
    return {
        "features": gi["features"],
        "legend": {"method": "gi_star", "k": len(classes), "unit": "Gi* confidence", "classes": classes,
                   "no_data_count": 0, "notes": [], "heading": "Gi* hot and cold spots (LSOAs)"},
        "metadata": {"metric": {"id": "all-crime", "title": meta["metric"]["title"], "source": "police.uk"},
                     "period": meta["period"],
                     "period_text": covered_in_words(parse_period(meta["period"]),
                                                     crime_store.available_months(session)),
                     "unit": "Gi* confidence bin", "base_period": None,
                     "boundary_set": {"title": lsoas.get("title", "LSOAs"), "valid_from": None, "valid_to": None},
                     "source": meta["attribution"], "data_date": meta["period"], "interpolation": None,
                     "notes": [f"{meta['permutations']} permutations, false discovery rate corrected"]},
    }


def _add_needle_finds_table(pack: FigurePack) -> None:
    """The published top-five needle-find places (assessment para 105); most have no coordinates to map."""
    source = SEED_DIR / "needle_finds_top_locations.csv"
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    header, *rows = csv.reader(lines)
    pack.files["needle-finds-by-place.csv"] = csv_bytes(header, rows)
    pack.produced.append({"figure": "needle-finds-by-place", "title": "Top five needle-find places by year",
                          "metric": "seed-needle-finds-top-locations", "measure": "count",
                          "source": "Strategic Assessment 2024/25, para 105 (as printed)", "interpolation": None,
                          "notes": ["a table only: most of these places have no published coordinates"]})


def _readme(pack: FigurePack) -> str:
    whose = f" ({pack.partnership})" if pack.partnership else ""
    lines = [f"CSP Atlas figure pack for {pack.year}{whose}", "",
             "Each figure: PNG and SVG map, CSV table (code, name, value, class, rank, color; re-estimated figures add "
             "estimate_low, estimate_high, estimate_error_pct: the held-out interval); all maps in "
             "figure-pack.pdf.", "", "Produced:"]
    for item in pack.produced:
        extra = f" (re-estimated: {item['interpolation']})" if item["interpolation"] else ""
        lines.append(f"- {item['figure']}: {item['metric']} {item['measure']}; {item['source']}{extra}")
        lines.extend(f"    note: {note}" for note in item["notes"])
    lines += ["", "Not produced:"] + [f"- {i['figure']}: {i['reasons']}" for i in pack.not_produced]
    return "\n".join(lines) + "\n"
