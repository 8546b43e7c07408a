"""The patrol briefing: an A4 portrait PDF an officer can use on the street, printed in colour or greyscale.

Page one: the protective marking, what and when, the map (area, route, the top streets labelled at their points,
crime records, partnership records, Gi* hot spots, ward boundaries, scale bar, north arrow, a legend for every
symbol) and the top streets. The tables that do not fit go on a second page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely.geometry import box, shape

from server.domain.basemap import BasemapSource
from server.domain.periods import Period, days_in_words
from server.domain.rendering import BNG, add_halo, draw_north_arrow, draw_scale_bar, set_extent

A4_PORTRAIT = (210 / 25.4, 297 / 25.4)
SENSITIVE = "OFFICIAL-SENSITIVE"
LINES_ON_FIRST_PAGE = 17
LINES_PER_PAGE = 95
ATTRIBUTION = ("Contains OS data © Crown copyright and database right. Source: Office for National Statistics "
               "licensed under the Open Government Licence v3.0. Crime: data.police.uk, Open Government Licence "
               "v3.0; locations are anonymised snap points.")


@dataclass
class Briefing:
    """What goes on the briefing, gathered by the caller (server/api/patrols.py)."""

    patrol: dict[str, Any]
    summary: dict[str, Any]
    period: Period
    produced_at: datetime
    produced_by: str
    marking: str  # the setting's marking (default OFFICIAL); raised to OFFICIAL-SENSITIVE by partnership records
    wards: gpd.GeoDataFrame
    crime_points: list[tuple[float, float]]
    streets: list[dict[str, Any]]
    partnership: list[dict[str, Any]] = field(default_factory=list)
    hot_spots: list[dict[str, Any]] = field(default_factory=list)
    partnership_name: str | None = None

    @property
    def protective_marking(self) -> str:
        """Partnership records come from internal or restricted layers: a briefing that shows any is sensitive."""
        return SENSITIVE if self.partnership else self.marking


def briefing_pdf(briefing: Briefing, basemap_source: BasemapSource | None = None) -> bytes:
    first, rest = _paginate(_table_blocks(briefing))
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}) as pages:
        figure = _first_page(briefing, first, basemap_source)
        pages.savefig(figure)
        plt.close(figure)
        for index, page_lines in enumerate(rest, start=2):
            figure = _table_page(briefing, page_lines, index)
            pages.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


def _paginate(blocks: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Whole tables on page one while they fit (the first always), the others on the next pages: a table is
    split only when it is longer than a page."""
    first: list[str] = []
    pages: list[list[str]] = []
    for block in blocks:
        if not pages and (not first or len(first) + len(block) <= LINES_ON_FIRST_PAGE):
            first += block
            continue
        if not pages or len(pages[-1]) + len(block) > LINES_PER_PAGE:
            pages.append([])
        for line in block:
            if len(pages[-1]) >= LINES_PER_PAGE:
                pages.append([])
            pages[-1].append(line)
    return first, pages


def _page(briefing: Briefing):
    figure = plt.figure(figsize=A4_PORTRAIT, dpi=100)
    for y, va in ((0.985, "top"), (0.012, "bottom")):
        figure.text(0.5, y, briefing.protective_marking, ha="center", va=va, fontsize=11, fontweight="bold")
    return figure


def _first_page(briefing: Briefing, lines: list[str], basemap_source: BasemapSource | None):
    figure = _page(briefing)
    patrol = briefing.patrol
    figure.text(0.05, 0.955, f"Patrol briefing: {patrol['name']}", fontsize=15, fontweight="bold", va="top")
    figure.text(0.05, 0.927, _subtitle(briefing), fontsize=8.5, va="top", color="#222222", linespacing=1.4)
    axes = figure.add_axes((0.05, 0.37, 0.90, 0.505))
    _draw_map(axes, figure, briefing, basemap_source)
    _draw_legend(figure, briefing)
    figure.text(0.05, 0.255, "\n".join(lines), fontsize=7.5, va="top", family="DejaVu Sans Mono", linespacing=1.3)
    figure.text(0.05, 0.03, ATTRIBUTION, fontsize=5.5, color="#444444", wrap=True)
    return figure


def _table_page(briefing: Briefing, lines: list[str], number: int):
    figure = _page(briefing)
    figure.text(0.05, 0.955, f"{briefing.patrol['name']}: tables (page {number})", fontsize=11,
                fontweight="bold", va="top")
    figure.text(0.05, 0.935, f"Crime period: {days_in_words(briefing.period)}", fontsize=8.5, va="top")
    figure.text(0.05, 0.91, "\n".join(lines), fontsize=7.5, va="top", family="DejaVu Sans Mono", linespacing=1.3)
    return figure


def _subtitle(briefing: Briefing) -> str:
    patrol = briefing.patrol
    dates = f"{patrol.get('date_from') or '…'} to {patrol.get('date_to') or '…'}"
    produced = briefing.produced_at.strftime("%-d %B %Y at %H:%M %Z").strip()
    whose = f"{briefing.partnership_name} · " if briefing.partnership_name else ""
    return (f"{whose}Team {patrol['team']} · patrol dates {dates} · area {briefing.summary['area_km2']:.2f} km²\n"
            f"Crime period: {days_in_words(briefing.period)} · produced {produced} by {briefing.produced_by}")


def _draw_map(axes, figure, briefing: Briefing, basemap_source: BasemapSource | None) -> None:
    area = gpd.GeoSeries([shape(briefing.patrol["geometry"])], crs=4326).to_crs(BNG)
    set_extent(axes, _padded(area))
    if basemap_source is not None:
        (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
        briefing_basemap = basemap_source((x0, y0, x1, y1), 900)
        briefing_basemap.draw(axes)
        figure.text(0.05, 0.362, briefing_basemap.footer, fontsize=6, va="top", color="#444444")
    _draw_wards(axes, briefing.wards.to_crs(BNG))
    for feature in briefing.hot_spots:
        gpd.GeoSeries([shape(feature["geometry"])], crs=4326).to_crs(BNG).plot(
            ax=axes, facecolor="none", edgecolor="#a0a0a0", hatch="//", linewidth=0.4, zorder=2, aspect=None)
    area.plot(ax=axes, facecolor="#00000014", edgecolor="black", linewidth=2.2, zorder=3, aspect=None)
    if briefing.patrol.get("route"):
        route = gpd.GeoSeries([shape(briefing.patrol["route"])], crs=4326).to_crs(BNG)
        route.plot(ax=axes, color="white", linewidth=5, zorder=4, aspect=None)
        route.plot(ax=axes, color="black", linewidth=2.2, linestyle=(0, (4, 2)), zorder=4, aspect=None)
    _draw_points(axes, briefing)
    draw_scale_bar(axes)
    draw_north_arrow(axes)


def _padded(area: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """A frame whose bounds are the area with a margin, so the map scale fits the area."""
    minx, miny, maxx, maxy = area.total_bounds
    margin = max(maxx - minx, maxy - miny) * 0.12 + 100
    return gpd.GeoDataFrame(geometry=area.buffer(margin), crs=BNG)


def _draw_wards(axes, wards: gpd.GeoDataFrame) -> None:
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    shown = wards.cx[x0:x1, y0:y1]
    if shown.empty:
        return
    shown.boundary.plot(ax=axes, color="#6e6e6e", linewidth=0.8, linestyle=(0, (6, 3)), zorder=1, aspect=None)
    for _, ward in shown.iterrows():
        point = ward.geometry.intersection(box(x0, y0, x1, y1)).representative_point()
        label = axes.text(point.x, point.y, ward["name"], fontsize=7, style="italic", color="#555555",
                          ha="center", va="center", zorder=1.5)
        add_halo(axes, label)


def _draw_points(axes, briefing: Briefing) -> None:
    if briefing.crime_points:
        points = gpd.GeoSeries.from_xy([p[0] for p in briefing.crime_points], [p[1] for p in briefing.crime_points],
                                       crs=4326).to_crs(BNG)
        axes.scatter(points.x, points.y, s=5, color="#7a7a7a", linewidths=0, zorder=5)
    if briefing.partnership:
        records = gpd.GeoSeries([shape(p["geometry"]) for p in briefing.partnership], crs=4326).to_crs(BNG)
        axes.scatter(records.x, records.y, s=46, marker="^", color="black", edgecolors="white", linewidths=0.8,
                     zorder=7)
    if briefing.streets:
        streets = gpd.GeoSeries.from_xy([s["lon"] for s in briefing.streets], [s["lat"] for s in briefing.streets],
                                        crs=4326).to_crs(BNG)
        axes.scatter(streets.x, streets.y, s=90, marker="s", color="black", edgecolors="white", linewidths=0.8,
                     zorder=8)
        placed: list = []
        for number, (street, x, y) in enumerate(zip(briefing.streets, streets.x, streets.y, strict=True), 1):
            axes.text(x, y, str(number), fontsize=6.5, color="white", ha="center", va="center", zorder=9,
                      fontweight="bold")
            _street_label(axes, f"{_street(street['location'])} ({street['count']})", (x, y), placed)


OFFSETS = (((7, 3), "left"), ((7, -10), "left"), ((-7, 3), "right"), ((-7, -10), "right"), ((0, 9), "center"),
           ((0, -15), "center"))


def _street_label(axes, text: str, xy: tuple[float, float], placed: list) -> None:
    """The label at the first offset around its point that touches no label already placed."""
    renderer = axes.figure.canvas.get_renderer()
    for offset, align in OFFSETS:
        label = axes.annotate(text, xy, xytext=offset, textcoords="offset points", fontsize=7.5, ha=align,
                              fontweight="bold", zorder=9)
        box = label.get_window_extent(renderer)
        if not any(box.overlaps(other) for other in placed) or offset == OFFSETS[-1][0]:
            placed.append(box)
            add_halo_annotation(axes, label)
            return
        label.remove()


def add_halo_annotation(axes, label) -> None:
    """A white outline under an offset label (see rendering.add_halo for why it is a separate text)."""
    under = axes.annotate(label.get_text(), label.xy, xytext=label.xyann, textcoords="offset points",
                          ha=label.get_ha(), fontsize=label.get_fontsize(), fontweight=label.get_fontweight(),
                          color="white", zorder=label.get_zorder() - 0.1,
                          path_effects=[patheffects.Stroke(linewidth=2.2, foreground="white")])
    under.set_clip_on(True)
    label.set_clip_on(True)


def _street(location: str) -> str:
    return location.removeprefix("On or near ").strip() or location


def _draw_legend(figure, briefing: Briefing) -> None:
    handles = [Patch(facecolor="#00000014", edgecolor="black", linewidth=2, label="Patrol area")]
    if briefing.patrol.get("route"):
        handles.append(Line2D([], [], color="black", linewidth=2.2, linestyle=(0, (4, 2)), label="Patrol route"))
    handles += [
        Line2D([], [], marker="s", color="black", markeredgecolor="white", linestyle="", markersize=9,
               label="Top street (number as in the table; records)"),
        Line2D([], [], marker="o", color="#7a7a7a", linestyle="", markersize=3,
               label="Crime or ASB record (police.uk snap point)"),
        Line2D([], [], marker="^", color="black", markeredgecolor="white", linestyle="", markersize=8,
               label="Partnership record"),
        Patch(facecolor="none", edgecolor="#a0a0a0", hatch="//", linewidth=0.4, label="Gi* hot spot (LSOA, 95 %+)"),
        Line2D([], [], color="#6e6e6e", linewidth=0.8, linestyle=(0, (6, 3)), label="Ward boundary (name in italics)"),
    ]
    figure.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.05, 0.352), ncols=2, frameon=False,
                  fontsize=7, title="Key", title_fontsize=7.5, alignment="left")


def _table_blocks(briefing: Briefing) -> list[list[str]]:
    """The tables, each a list of lines ending with a blank one: totals and top streets first."""
    crime = briefing.summary["crime"]
    if crime["total"] is None:
        totals = [crime["note"]]
    else:
        ratio = crime["density_ratio_to_borough"]
        versus = f", {ratio:.1f} × the borough's" if ratio else ""
        totals = [f"Crime and ASB records in the period: {crime['total']} (previous period {crime['previous_total']}); "
                  f"{crime['density_per_km2']:.0f} per km²{versus}"]
    streets = ["Top streets (police.uk locations)                         records"]
    streets += [f"{n:>2}  {_street(s['location'])[:52]:<54}{s['count']:>6}" for n, s in enumerate(briefing.streets, 1)]
    if not briefing.streets:
        streets.append("    none in the period")
    by_type = ["By type                                          records  previous  change"]
    by_type += [f"    {row['type'][:44]:<44}{row['count']:>8}{row['previous']:>10}{row['change']:>+8d}"
                for row in crime["by_type"]]
    blocks = [[*totals, "", *streets], by_type, *_area_blocks(briefing.summary), _partnership_lines(briefing),
              _hot_spot_lines(briefing)]
    if briefing.patrol.get("notes"):
        blocks.append(_wrapped("Notes: " + briefing.patrol["notes"], 96))
    return [[*block, ""] for block in blocks if block]


def _area_blocks(summary: dict[str, Any]) -> list[list[str]]:
    return [[f"{each['title']}: share of the patrol area",
             *(f"    {a['name'][:60]:<62}{a['share_of_patrol'] * 100:>5.0f} %" for a in each["areas"])]
            for each in summary.get("areas", []) if each["kind"] == "ward"]


def _partnership_lines(briefing: Briefing) -> list[str]:
    if not briefing.partnership:
        return ["Partnership records inside: none you may see in the period"]
    lines = ["Partnership records inside                                 date        count"]
    lines += [f"    {(p['layer'] + ': ' + (p['place'] or 'no place name'))[:54]:<56}{p['date'] or ''!s:<12}"
              f"{p['count']:>5}" for p in briefing.partnership]
    return lines


def _hot_spot_lines(briefing: Briefing) -> list[str]:
    if not briefing.hot_spots:
        return ["Gi* hot spots of all crime (95 % or more) touching the area: none"]
    lines = ["Gi* hot spots of all crime touching the area              confidence"]
    lines += [f"    {f['properties'].get('name', f['id'])} ({f['id']})"[:62].ljust(62)
              + f"{({3: '99 %', 2: '95 %'}).get(f['properties']['gi_bin'], '90 %'):>8}" for f in briefing.hot_spots]
    return lines


def _wrapped(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = "   "
        line = f"{line} {word}" if line.strip() else line + word
    return [*lines, line]
