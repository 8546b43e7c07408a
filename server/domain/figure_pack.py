"""The set of maps and tables a strategic assessment needs for a year, for the wards before and after May 2024.

For each figure the first source that has data for the year is used: police.uk records (counted directly in
either ward set), else the partnership's own tables (2013 wards; re-estimated for the 2024 wards). A figure
that no source can give is listed in the pack's README with the reason, never silently left out.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from server.domain import exports, rendering
from server.domain.layers import LayerError, LayerRequest, build_layer

WARD_SETS = ("wards-2013", "wards-2024")


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
    pages: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # same input, same bytes
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, self.files[name])
        return buffer.getvalue()


def build_figure_pack(session: Session, year: int, spec: rendering.MapSpec | None = None) -> FigurePack:
    spec = spec or rendering.MapSpec(width_px=1600, height_px=1200, dpi=200)
    pack = FigurePack(year)
    for figure in FIGURES:
        for set_id in WARD_SETS:
            _add_figure(session, pack, figure, set_id, spec)
    if pack.pages:
        pack.files["figure-pack.pdf"] = rendering.render_pdf_pages(pack.pages, spec)
    pack.files["README.txt"] = _readme(pack).encode()
    pack.files["contents.json"] = json.dumps({"year": year, "produced": pack.produced,
                                              "not_produced": pack.not_produced}, indent=2).encode()
    return pack


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
        stem = f"{figure.name}_{set_id}"
        title = f"{figure.title}, {pack.year} ({set_id})"
        for fmt in ("png", "svg"):
            pack.files[f"{stem}.{fmt}"] = rendering.render_layer(layer, replace(spec, format=fmt, title=title))
        pack.files[f"{stem}.csv"] = exports.to_csv(layer)
        pack.pages.append((layer, title))
        meta = layer["metadata"]
        pack.produced.append({"figure": stem, "title": title, "metric": metric, "measure": measure,
                              "source": meta["source"], "interpolation": meta["interpolation"], "notes": meta["notes"]})
        return
    pack.not_produced.append({"figure": f"{figure.name}_{set_id}", "reasons": "; ".join(reasons)})


def _readme(pack: FigurePack) -> str:
    lines = [f"CSP Atlas figure pack for {pack.year}", "",
             "Each figure: PNG and SVG map, CSV table (code, name, value, class, rank, color); all maps in "
             "figure-pack.pdf.", "", "Produced:"]
    for item in pack.produced:
        extra = f" (re-estimated: {item['interpolation']})" if item["interpolation"] else ""
        lines.append(f"- {item['figure']}: {item['metric']} {item['measure']}; {item['source']}{extra}")
        lines.extend(f"    note: {note}" for note in item["notes"])
    lines += ["", "Not produced:"] + [f"- {i['figure']}: {i['reasons']}" for i in pack.not_produced]
    return "\n".join(lines) + "\n"
