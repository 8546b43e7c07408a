"""Static maps for reports: a classified layer drawn with its legend, title, scale bar, north arrow and attribution.

The input is the layer FeatureCollection that the API serves (features with `color`, top-level `legend` and
`metadata`), so a static map always shows exactly what the web map shows. Drawn in British National Grid so
that shapes and the scale bar are true. The same input gives the same bytes (no timestamps in the files).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.patches import FancyArrow, Patch, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from shapely.geometry import box as shapely_box

from server.domain.basemap import Basemap, BasemapSource
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


# Paper sizes in inches (ISO 216): maps for committee papers print at true size.
PAGES = {"a4-portrait": (210 / 25.4, 297 / 25.4), "a4-landscape": (297 / 25.4, 210 / 25.4),
         "a3-landscape": (420 / 25.4, 297 / 25.4)}
MAX_LABELLED_AREAS = 400  # beyond this (e.g. a county's LSOAs) names cannot be printed legibly on one page
LABEL_SIZES = (6.5, 5.5)
# The halo is a stroke-only copy under the label: text drawn with a path effect is saved as outlines, which a
# PDF reader (or pdftotext) can no longer find or copy.
HALO_ONLY = [patheffects.Stroke(linewidth=1.8, foreground="white")]


@dataclass(frozen=True)
class MapSpec:
    format: str = "png"
    width_px: int = 1600
    height_px: int = 1200
    dpi: int = 200
    title: str | None = None
    labels: bool = True
    partnership: str | None = None  # its name, printed with the boundaries: whose map this is
    page: str | None = None  # a paper size from PAGES; width_px and height_px are then not used

    def validate(self) -> MapSpec:
        if self.format not in FORMATS:
            raise RenderError(f"format must be one of {', '.join(FORMATS)}")
        if self.page is not None and self.page not in PAGES:
            raise RenderError(f"page must be one of {', '.join(PAGES)}, not '{self.page}'")
        for name, value in (("width", self.width_px), ("height", self.height_px)):
            if not MIN_SIZE_PX <= value <= MAX_SIZE_PX:
                raise RenderError(f"{name} must be from {MIN_SIZE_PX} to {MAX_SIZE_PX} pixels, not {value}")
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            raise RenderError(f"dpi must be from {MIN_DPI} to {MAX_DPI}, not {self.dpi}")
        if self.page and self.format == "png" and max(PAGES[self.page]) * self.dpi > MAX_SIZE_PX * 1.2:
            raise RenderError(f"a {self.page} PNG at {self.dpi} dpi is too large; use dpi of at most "
                              f"{int(MAX_SIZE_PX * 1.2 / max(PAGES[self.page]))}")
        return self

    @property
    def inches(self) -> tuple[float, float]:
        return PAGES[self.page] if self.page else (self.width_px / self.dpi, self.height_px / self.dpi)


def render_layer(layer: dict[str, Any], spec: MapSpec, basemap_source: BasemapSource | None = None) -> bytes:
    figure = _map_figure(layer, spec.validate(), basemap_source)
    try:
        return _save(figure, spec)
    finally:
        plt.close(figure)


def render_pdf_pages(pages: list[tuple[dict[str, Any], MapSpec]], basemap_source: BasemapSource | None = None) -> bytes:
    """Several maps, each (layer, spec with its title and labels), as the pages of one PDF."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for layer, spec in pages:
            figure = _map_figure(layer, spec, basemap_source)
            pdf.savefig(figure, facecolor="white")
            plt.close(figure)
    return buffer.getvalue()


@dataclass(frozen=True)
class Layout:
    """Where things go on the page, as figure fractions: the map, the side (or foot) panel, the title block."""

    map_box: tuple[float, float, float, float]
    panel: tuple[float, float, float, float]  # left, bottom, width, height
    portrait: bool


def _layout(width_in: float, height_in: float) -> Layout:
    title_h, foot_h = 0.75 / height_in, 0.45 / height_in
    if height_in > width_in * 1.1:
        panel_h = 0.30
        return Layout((0.03, foot_h + panel_h, 0.94, 1 - title_h - foot_h - panel_h - 0.01),
                      (0.04, foot_h + 0.005, 0.92, panel_h - 0.02), True)
    panel_w = min(0.36, 3.3 / width_in)
    return Layout((0.02, foot_h, 1 - panel_w - 0.04, 1 - title_h - foot_h),
                  (1 - panel_w - 0.01, foot_h, panel_w, 1 - title_h - foot_h), False)


def _map_figure(layer: dict[str, Any], spec: MapSpec, basemap_source: BasemapSource | None = None):
    frame = _frame(layer)
    width_in, height_in = spec.inches
    figure = plt.figure(figsize=(width_in, height_in), dpi=spec.dpi)
    layout = _layout(width_in, height_in)
    map_axes = figure.add_axes(layout.map_box)
    set_extent(map_axes, frame)
    drawn_basemap = _basemap(map_axes, figure, basemap_source)
    _draw_areas(map_axes, frame, with_basemap=drawn_basemap is not None and drawn_basemap.image is not None)
    _draw_annotations(map_axes, layer)
    key: list[tuple[int, str]] = []
    if spec.labels:
        key = _draw_labels(map_axes, frame, figure, _top_class(layer))
    draw_scale_bar(map_axes)
    draw_north_arrow(map_axes)
    _draw_titles(figure, layer, spec, height_in)
    bottom = _draw_legend(figure, layer, layout, height_in, len(frame) if not spec.labels else None)
    _draw_key(figure, key, layout, bottom, height_in)
    _draw_footer(figure, layer, drawn_basemap, height_in)
    return figure


def _basemap(axes, figure, source: BasemapSource | None) -> Basemap | None:
    if source is None:
        return None
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    basemap = source((x0, y0, x1, y1), round(axes.get_position().width * figure.get_figwidth() * figure.dpi))
    basemap.draw(axes)
    return basemap


def _top_class(layer: dict[str, Any]) -> int | None:
    """The index of the highest class of a ranged legend; None for named classes (e.g. Gi* bins)."""
    classes = layer["legend"]["classes"]
    return len(classes) - 1 if classes and "lower" in classes[0] else None


def _frame(layer: dict[str, Any]) -> gpd.GeoDataFrame:
    if not layer.get("features"):
        raise RenderError("the layer has no features to draw")
    frame = gpd.GeoDataFrame.from_features(layer["features"], crs=4326).to_crs(BNG)
    frame["fill"] = frame["color"].fillna(NO_DATA_COLOR)
    return frame


def _draw_areas(axes, frame: gpd.GeoDataFrame, with_basemap: bool = False) -> None:
    alpha = 0.75 if with_basemap else 1.0
    frame.plot(ax=axes, color=frame["fill"], edgecolor="white", linewidth=0.6, alpha=alpha, zorder=2,
               aspect=None)
    missing = frame[frame["color"].isna()]
    if not missing.empty:
        missing.plot(ax=axes, facecolor="none", edgecolor="#969696", hatch="///", linewidth=0, zorder=2,
                     aspect=None)
    gpd.GeoSeries([frame.union_all()], crs=BNG).boundary.plot(ax=axes, color="#252525", linewidth=1.0,
                                                              zorder=3, aspect=None)


def set_extent(axes, frame: gpd.GeoDataFrame) -> None:
    """Limits that show every area at equal scale and fill the map box (no empty band beside the map)."""
    minx, miny, maxx, maxy = frame.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.02
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    box = axes.get_position()
    box_ratio = (box.height * axes.figure.get_figheight()) / (box.width * axes.figure.get_figwidth())
    width, height = maxx - minx, maxy - miny
    if height / width < box_ratio:
        grow = (width * box_ratio - height) / 2
        miny, maxy = miny - grow, maxy + grow
    else:
        grow = (height / box_ratio - width) / 2
        minx, maxx = minx - grow, maxx + grow
    axes.set_xlim(minx, maxx)
    axes.set_ylim(miny, maxy)
    axes.set_aspect("equal", adjustable="box")
    axes.set_autoscale_on(False)
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


def _draw_labels(axes, frame: gpd.GeoDataFrame, figure, top_class: int | None) -> list[tuple[int, str]]:
    """Name each area in full where the name fits inside it without touching another label; the top class is
    always named (beside the area with a leader line if need be); every other area gets a number and a key line.
    Returns the key: (number, name)."""
    if len(frame) > MAX_LABELLED_AREAS:
        return []
    renderer = figure.canvas.get_renderer()
    placed: list[Bbox] = []
    is_top = frame["class"].eq(top_class) if top_class is not None else frame.geometry.isna()
    ordered = frame.assign(top=is_top, size=frame.geometry.area).sort_values(["top", "size"], ascending=False)
    unnamed = []
    for _, row in ordered.iterrows():
        if _name_inside(axes, renderer, row, placed) or (row["top"] and _name_beside(axes, renderer, row, placed)):
            continue
        unnamed.append(row)
    unnamed.sort(key=lambda r: (-round(r.geometry.representative_point().y, -3), r.geometry.representative_point().x))
    key = []
    for number, row in enumerate(unnamed, start=1):
        _place_number(axes, renderer, row.geometry.representative_point(), str(number), placed)
        key.append((number, str(row["name"])))
    return key


# Where a number may go, in points from its area's point: on it, then ever further round it (with a leader line).
NUMBER_OFFSETS = ((0, 0), *((dx * r, dy * r) for r in (7, 12, 18, 25, 33, 45, 60) for dx, dy in
                           ((1, 0), (-1, 0), (0, 1), (0, -1), (0.8, 0.8), (-0.8, 0.8), (0.8, -0.8), (-0.8, -0.8))))


def _place_number(axes, renderer, point, text: str, placed: list[Bbox]) -> None:
    """The number on its area, or beside it where it would hide another label (the first free spot)."""
    for offset in NUMBER_OFFSETS:
        arrow = {"arrowstyle": "-", "color": "#444444", "linewidth": 0.4, "shrinkB": 0} if offset != (0, 0) else None
        # an invisible box round the number stops the leader line at its edge instead of striking through it
        label = axes.annotate(text, (point.x, point.y), xytext=offset, textcoords="offset points", fontsize=5.5,
                              fontweight="bold", ha="center", va="center", color="#111111", zorder=6,
                              arrowprops=arrow, bbox={"boxstyle": "square,pad=0.1", "fc": "none", "ec": "none"})
        # a gap of 3 pt, so that two numbers never read (or extract) as one
        box = _text_extent(label, renderer).padded(axes.figure.dpi * 3 / 72)
        if not _overlaps(box, placed) or offset == NUMBER_OFFSETS[-1]:
            placed.append(box)
            _annotation_halo(axes, label)
            return
        label.remove()


def _text_extent(label, renderer) -> Bbox:
    """The extent of an annotation's text alone (Annotation.get_window_extent includes its leader line)."""
    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer)


def _annotation_halo(axes, label) -> None:
    axes.annotate(label.get_text(), label.xy, xytext=label.xyann, textcoords="offset points", ha="center",
                  va="center", fontsize=label.get_fontsize(), fontweight="bold", color="white",
                  zorder=label.get_zorder() - 0.1, path_effects=HALO_ONLY)


def _name_variants(name: str) -> list[str]:
    words = name.split()
    if len(words) < 2:
        return [name]
    middle = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [name, " ".join(words[:middle]) + "\n" + " ".join(words[middle:])]


def _name_inside(axes, renderer, row, placed: list[Bbox]) -> bool:
    point = row.geometry.representative_point()
    inside = row.geometry.buffer(30)
    for size in LABEL_SIZES:
        for text in _name_variants(str(row["name"])):
            label = axes.text(point.x, point.y, text, fontsize=size, ha="center", va="center", color="#111111",
                              zorder=5, linespacing=1.0)
            box = label.get_window_extent(renderer)
            (x0, y0), (x1, y1) = axes.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
            if inside.contains(shapely_box(x0, y0, x1, y1)) and not _overlaps(box, placed):
                placed.append(box.expanded(1.05, 1.1))
                add_halo(axes, label)
                return True
            label.remove()
    return False


def _name_beside(axes, renderer, row, placed: list[Bbox]) -> bool:
    """The name outside the area, joined to it by a leader line, at the first free spot around it."""
    point = row.geometry.representative_point()
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    step = max(x1 - x0, y1 - y0) * 0.05
    for distance in (1, 1.6, 2.4):
        for dx, dy in ((1, 0.4), (-1, 0.4), (1, -0.4), (-1, -0.4), (0, 1), (0, -1)):
            where = (point.x + dx * step * distance, point.y + dy * step * distance)
            label = axes.annotate(str(row["name"]), xy=(point.x, point.y), xytext=where, fontsize=LABEL_SIZES[0],
                                  ha="center", va="center", color="#111111", zorder=7,
                                  arrowprops={"arrowstyle": "-", "color": "#252525", "linewidth": 0.6})
            box = _text_extent(label, renderer)
            if axes.bbox.contains(box.x0, box.y0) and axes.bbox.contains(box.x1, box.y1) \
                    and not _overlaps(box, placed):
                placed.append(box.expanded(1.05, 1.1))
                add_halo(axes, label)
                return True
            label.remove()
    return False


def add_halo(axes, label) -> None:
    x, y = label.get_position()
    axes.text(x, y, label.get_text(), fontsize=label.get_fontsize(), fontweight=label.get_fontweight(),
              ha=label.get_ha(), va=label.get_va(), linespacing=label.get_linespacing(), color="white",
              zorder=label.get_zorder() - 0.1, path_effects=HALO_ONLY)


def _overlaps(box: Bbox, placed: list[Bbox]) -> bool:
    return any(box.overlaps(other) for other in placed)


def _nice_scale_km(width_m: float) -> float:
    target = width_m / 1000 / 5
    return max((n for n in NICE_SCALE_KM if n <= target), default=NICE_SCALE_KM[0])


def draw_scale_bar(axes) -> None:
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


def draw_north_arrow(axes) -> None:
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    x, y = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.16
    size = (y1 - y0) * 0.08
    axes.add_patch(FancyArrow(x, y, 0, size, width=size * 0.18, head_width=size * 0.45, head_length=size * 0.45,
                              length_includes_head=True, color="#252525", zorder=6))
    axes.text(x, y + size * 1.1, "N", fontsize=8, ha="center", va="bottom", fontweight="bold", zorder=6)


def _draw_titles(figure, layer: dict[str, Any], spec: MapSpec, height_in: float) -> None:
    """A plain title (what, when) and a line on the measure, the boundaries and the partnership; no internal ids."""
    meta = layer["metadata"]
    when = meta.get("period_text") or meta["period"]
    heading = spec.title or f"{meta['metric']['title']}, {when}"
    top = 1 - 0.22 / height_in
    size = min(13.0, figure.get_figwidth() * 72 * 0.95 / (max(len(heading), 1) * 0.62))
    figure.text(0.02, top, heading, fontsize=max(size, 9.0), fontweight="bold", va="top")
    measure = meta["unit"] + (f", compared with {meta['base_period']}" if meta.get("base_period") else "")
    boundary = meta["boundary_set"]
    whose = f" · {spec.partnership}" if spec.partnership else ""
    figure.text(0.02, top - 0.27 / height_in, f"{measure} · {boundary['title']}{_validity(boundary)}{whose}",
                fontsize=8, va="top", color="#333333")


def _validity(boundary: dict[str, Any]) -> str:
    start, end = boundary.get("valid_from"), boundary.get("valid_to")
    if start and end:
        return f" (valid {start} to {end})"
    if start:
        return f" (in force from {start})"
    return f" (in force until {end})" if end else ""


def _legend_heading(layer: dict[str, Any]) -> str:
    legend = layer["legend"]
    if legend.get("heading"):
        return legend["heading"]
    method = legend["method"].replace("_", " ")
    noun = "clusters" if layer["metadata"].get("geography") == "clusters" else "areas"
    return f"{legend['unit']} (number of {noun})\n{method[0].upper()}{method[1:]}, {legend['k']} classes"


def _draw_legend(figure, layer: dict[str, Any], layout: Layout, height_in: float,
                 unlabelled: int | None) -> float:
    """The classes with the served labels (one formatter for every output), No data apart, then the notes.
    Returns the figure height where the next block may start."""
    legend = layer["legend"]
    handles = [Patch(facecolor=c["color"], edgecolor="#737373", linewidth=0.4, label=f"{c['label']}  ({c['count']})")
               for c in legend["classes"]]
    if legend.get("no_data_count"):
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#737373", hatch="///", linewidth=0.4,
                             label=f"{legend.get('no_data_label', 'No data')} ({legend['no_data_count']})"))
    left, bottom, width, height = layout.panel
    top = bottom + height
    drawn = figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(left, top), frameon=False,
                          fontsize=7.5, title=_legend_heading(layer), title_fontsize=8, alignment="left",
                          borderaxespad=0)
    renderer = figure.canvas.get_renderer()
    below = figure.transFigure.inverted().transform((0, drawn.get_window_extent(renderer).y0))[1]
    notes = list(legend.get("notes", [])) + list(layer["metadata"].get("notes", []))
    if layer["metadata"].get("interpolation"):
        notes.append("Estimates: re-estimated by " + layer["metadata"]["interpolation"] + "; rounded to whole "
                     "numbers")
    if unlabelled:
        notes.append(f"Area names are not printed ({unlabelled} areas).")
    if not notes:
        return below
    width_chars = int(width * figure.get_figwidth() * 72 / 3.4) if not layout.portrait else 60
    note_text = figure.text(left, below - 0.1 / height_in, "\n".join(_wrap(n, width_chars) for n in notes),
                            fontsize=6, va="top", color="#444444")
    return figure.transFigure.inverted().transform((0, note_text.get_window_extent(renderer).y0))[1]


def _draw_key(figure, key: list[tuple[int, str]], layout: Layout, below: float, height_in: float) -> None:
    """Numbered areas with their names in full, in columns, the type as large as the space left allows."""
    if not key:
        return
    left, bottom, width, height = layout.panel
    if layout.portrait:
        left, width, top = left + width * 0.5, width * 0.5, bottom + height
    else:
        top = below - 0.15 / height_in
    figure.text(left, top, "Numbered areas", fontsize=7, fontweight="bold", va="top")
    top -= 0.17 / height_in
    lines = [f"{number}  {name}" for number, name in key]
    size, per_column, columns = _key_type(lines, (top - bottom) * height_in * 72, width * figure.get_figwidth() * 72)
    for column in range(columns):
        chunk = lines[column * per_column:(column + 1) * per_column]
        figure.text(left + column * width / columns, top, "\n".join(chunk), fontsize=size, va="top",
                    linespacing=1.2)


def _key_type(lines: list[str], height_pt: float, width_pt: float) -> tuple[float, int, int]:
    """The largest type size (6 pt down to 3.5 pt) at which the key fits: (size, lines per column, columns)."""
    longest = max(len(line) for line in lines)
    size = 6.0
    while True:
        per_column = max(1, int(height_pt / (size * 1.2 * 1.15)))
        columns = -(-len(lines) // per_column)
        if columns * (longest * 0.56 * size + 6) <= width_pt or size <= 3.5:
            return size, per_column, columns
        size -= 0.25


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _draw_footer(figure, layer: dict[str, Any], basemap: Basemap | None, height_in: float) -> None:
    meta = layer["metadata"]
    attribution = BOUNDARY_ATTRIBUTION
    if meta["metric"]["source"] == "police.uk" and POLICE_ATTRIBUTION not in meta["source"]:
        attribution += " " + POLICE_ATTRIBUTION
    lines = [f"Source: {meta['source'].rstrip('.')}. Data date: {meta['data_date']}.", attribution]
    if basemap is not None:
        lines.append(basemap.footer)
    width_chars = int(figure.get_figwidth() * 72 / 2.6)
    figure.text(0.02, 0.06 / height_in, "\n".join(_wrap(line, width_chars) for line in lines), fontsize=5,
                va="bottom", color="#444444")


def _save(figure, spec: MapSpec) -> bytes:
    buffer = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}
    figure.savefig(buffer, format=spec.format, dpi=spec.dpi, metadata=metadata[spec.format], facecolor="white")
    return buffer.getvalue()
