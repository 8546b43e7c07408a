"""Static maps for reports: a classified layer drawn with its legend, title, scale bar, north arrow and attribution.

The input is the layer FeatureCollection that the API serves (features with `color`, top-level `legend` and
`metadata`), so a static map always shows exactly what the web map shows. Drawn in British National Grid so
that shapes and the scale bar are true. The same input gives the same bytes (no timestamps in the files).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.patches import FancyArrow, Patch, Rectangle

from server.domain.errors import DomainError

BNG = 27700
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
NO_DATA_COLOR = "#d9d9d9"
NICE_SCALE_KM = (0.5, 1, 2, 5, 10, 20, 50)
POLICE_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
BOUNDARY_ATTRIBUTION = ("Contains OS data © Crown copyright and database right. Source: Office for National "
                        "Statistics licensed under the Open Government Licence v3.0.")
MIN_SIZE_PX, MAX_SIZE_PX = 300, 4000
MIN_DPI, MAX_DPI = 72, 600

# Titles, area names and notes come from users: a "$" must print as a dollar, not start mathtext (which can raise).
plt.rcParams.update({"svg.hashsalt": "csp-atlas", "font.family": "DejaVu Sans", "pdf.compression": 6,
                     "text.parse_math": False, "text.usetex": False})


class RenderError(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class MapSpec:
    format: str = "png"
    width_px: int = 1600
    height_px: int = 1200
    dpi: int = 200
    title: str | None = None
    labels: bool = True

    def validate(self) -> MapSpec:
        if self.format not in FORMATS:
            raise RenderError(f"format must be one of {', '.join(FORMATS)}")
        for name, value in (("width", self.width_px), ("height", self.height_px)):
            if not MIN_SIZE_PX <= value <= MAX_SIZE_PX:
                raise RenderError(f"{name} must be from {MIN_SIZE_PX} to {MAX_SIZE_PX} pixels, not {value}")
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            raise RenderError(f"dpi must be from {MIN_DPI} to {MAX_DPI}, not {self.dpi}")
        return self


def render_layer(layer: dict[str, Any], spec: MapSpec) -> bytes:
    figure = _map_figure(layer, spec.validate())
    try:
        return _save(figure, spec)
    finally:
        plt.close(figure)


def render_pdf_pages(layers: list[tuple[dict[str, Any], str | None]], spec: MapSpec) -> bytes:
    """Several maps (layer, title) as the pages of one PDF."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}) as pages:
        for layer, title in layers:
            figure = _map_figure(layer, replace(spec, title=title))
            pages.savefig(figure, facecolor="white")
            plt.close(figure)
    return buffer.getvalue()


def _map_figure(layer: dict[str, Any], spec: MapSpec):
    frame = _frame(layer)
    figure = plt.figure(figsize=(spec.width_px / spec.dpi, spec.height_px / spec.dpi), dpi=spec.dpi)
    map_axes = figure.add_axes((0.02, 0.12, 0.66, 0.74))
    _draw_areas(map_axes, frame)
    _draw_annotations(map_axes, layer)
    if spec.labels:
        _draw_labels(map_axes, frame, figure)
    _draw_scale_bar(map_axes)
    _draw_north_arrow(map_axes)
    _draw_titles(figure, layer, spec.title)
    _draw_legend(figure, layer)
    _draw_footer(figure, layer)
    return figure


def _frame(layer: dict[str, Any]) -> gpd.GeoDataFrame:
    if not layer.get("features"):
        raise RenderError("the layer has no features to draw")
    frame = gpd.GeoDataFrame.from_features(layer["features"], crs=4326).to_crs(BNG)
    frame["fill"] = frame["color"].fillna(NO_DATA_COLOR)
    return frame


def _draw_areas(axes, frame: gpd.GeoDataFrame) -> None:
    frame.plot(ax=axes, color=frame["fill"], edgecolor="white", linewidth=0.6)
    missing = frame[frame["color"].isna()]
    if not missing.empty:
        missing.plot(ax=axes, facecolor="none", edgecolor="#969696", hatch="///", linewidth=0)
    gpd.GeoSeries([frame.union_all()], crs=BNG).boundary.plot(ax=axes, color="#252525", linewidth=1.2)
    axes.set_aspect("equal")
    axes.set_axis_off()


ANNOTATION_COLOURS = {"lsoa-of-concern": "#7a0177", "district-priority": "#08519c"}


def _draw_annotations(axes, layer: dict[str, Any]) -> None:
    """The partnership's annotations when the request asked for them: outlines numbered as in the notes."""
    features = (layer.get("annotations") or {}).get("features") or []
    if not features:
        return
    outlines = gpd.GeoDataFrame.from_features(features, crs=4326).to_crs(BNG)
    for number, (_, row) in enumerate(outlines.iterrows(), start=1):
        colour = ANNOTATION_COLOURS.get(row["kind"], "#333333")
        gpd.GeoSeries([row.geometry], crs=BNG).boundary.plot(
            ax=axes, color=colour, linewidth=1.3, linestyle="--" if row["kind"] == "district-priority" else "-")
        point = row.geometry.representative_point()
        axes.text(point.x, point.y, str(number), fontsize=4.5, color="white", ha="center", va="center", zorder=5,
                  bbox={"boxstyle": "circle,pad=0.25", "fc": colour, "ec": "white", "lw": 0.4})


def _draw_labels(axes, frame: gpd.GeoDataFrame, figure) -> None:
    """Name each area whose label fits inside it and does not collide with a label already placed."""
    renderer = figure.canvas.get_renderer()
    placed = []
    by_size = frame.assign(size=frame.geometry.area).sort_values("size", ascending=False)
    for _, row in by_size.iterrows():
        point = row.geometry.representative_point()
        label = axes.text(point.x, point.y, _short(row["name"]), fontsize=5.5, ha="center", va="center",
                          color="#111111", zorder=5)
        box = label.get_window_extent(renderer).expanded(1.1, 1.2)
        corners = axes.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
        fits = row.geometry.buffer(50).contains(gpd.points_from_xy(
            [corners[0][0], corners[1][0], corners[0][0], corners[1][0]],
            [corners[0][1], corners[0][1], corners[1][1], corners[1][1]])).all()
        if not fits or any(box.overlaps(other) for other in placed):
            label.remove()
        else:
            placed.append(box)


def _short(name: str) -> str:
    return name if len(name) <= 22 else name[:20] + "…"


def _nice_scale_km(width_m: float) -> float:
    target = width_m / 1000 / 5
    return max((n for n in NICE_SCALE_KM if n <= target), default=NICE_SCALE_KM[0])


def _draw_scale_bar(axes) -> None:
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    km = _nice_scale_km(x1 - x0)
    length = km * 1000
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    height = (y1 - y0) * 0.012
    for i, color in enumerate(("#252525", "white")):
        axes.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height, facecolor=color,
                                 edgecolor="#252525", linewidth=0.6, zorder=6))
    for offset, text in ((0, "0"), (length, f"{km:g} km")):
        axes.text(left + offset, bottom + height * 1.6, text, fontsize=6, ha="center", va="bottom", zorder=6)


def _draw_north_arrow(axes) -> None:
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    x, y = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.16
    size = (y1 - y0) * 0.08
    axes.add_patch(FancyArrow(x, y, 0, size, width=size * 0.18, head_width=size * 0.45, head_length=size * 0.45,
                              length_includes_head=True, color="#252525", zorder=6))
    axes.text(x, y + size * 1.1, "N", fontsize=8, ha="center", va="bottom", fontweight="bold", zorder=6)


def _draw_titles(figure, layer: dict[str, Any], title: str | None) -> None:
    meta = layer["metadata"]
    heading = title or f"{meta['metric']['title']}, {meta['period']}"
    figure.text(0.02, 0.965, heading, fontsize=12, fontweight="bold", va="top")
    measure = meta["unit"] + (f", compared with {meta['base_period']}" if meta.get("base_period") else "")
    boundary = meta["boundary_set"]
    validity = _validity(boundary)
    figure.text(0.02, 0.915, f"{measure} · {boundary['title']}{validity}", fontsize=7.5, va="top", color="#333333")


def _validity(boundary: dict[str, Any]) -> str:
    start, end = boundary.get("valid_from"), boundary.get("valid_to")
    if start and end:
        return f" (valid {start} to {end})"
    if start:
        return f" (in force from {start})"
    return f" (in force until {end})" if end else ""


def _legend_label(each: dict[str, Any]) -> str:
    if "label" in each:  # named classes, e.g. Gi* confidence bins
        return f"{each['label']}  ({each['count']})"
    return f"{_number(each['lower'])} – {_number(each['upper'])}  ({each['count']})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def _draw_legend(figure, layer: dict[str, Any]) -> None:
    legend = layer["legend"]
    handles = [Patch(facecolor=c["color"], edgecolor="#737373", linewidth=0.4, label=_legend_label(c))
               for c in legend["classes"]]
    if legend.get("no_data_count"):
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#737373", hatch="///", linewidth=0.4,
                             label=f"no data  ({legend['no_data_count']})"))
    method = legend["method"].replace("_", " ")
    unit = f"{legend['unit']}, estimated (± per area in the CSV)" if legend.get("estimated") else legend["unit"]
    heading = legend.get("heading") or f"{unit}\n{method}, {legend['k']} classes (areas)"
    figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.84), frameon=False, fontsize=7,
                  title=heading, title_fontsize=7, alignment="left")
    notes = list(legend.get("notes", [])) + list(layer["metadata"].get("notes", []))
    if layer["metadata"].get("interpolation"):
        notes.append("Re-estimated by " + layer["metadata"]["interpolation"])
    if notes:
        figure.text(0.70, 0.36, "\n".join(_wrap(n, 48) for n in notes), fontsize=5.5, va="top", color="#444444")


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _draw_footer(figure, layer: dict[str, Any]) -> None:
    meta = layer["metadata"]
    attribution = BOUNDARY_ATTRIBUTION
    if meta["metric"]["source"] == "police.uk" and POLICE_ATTRIBUTION not in meta["source"]:
        attribution += " " + POLICE_ATTRIBUTION
    lines = [f"Source: {meta['source'].rstrip('.')}. Data date: {meta['data_date']}.", attribution]
    figure.text(0.02, 0.02, "\n".join(_wrap(line, 160) for line in lines), fontsize=5, va="bottom", color="#444444")


def _save(figure, spec: MapSpec) -> bytes:
    buffer = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
    figure.savefig(buffer, format=spec.format, dpi=spec.dpi, metadata=metadata[spec.format], facecolor="white")
    return buffer.getvalue()
