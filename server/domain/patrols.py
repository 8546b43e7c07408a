"""Task-force patrol areas: checking drawn geometries, and their KML form (the PDF: server/domain/briefing.py)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import shapely
from pyproj import Transformer
from shapely import LineString, MultiPolygon, Polygon
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from server.domain.errors import DomainError, ForbiddenError

BNG = 27700
MAX_AREA_KM2 = 60.0  # a sixth of the borough: bigger is not a patrol area
MAX_VERTICES = 5000
MIN_BUFFER_M, MAX_BUFFER_M = 5.0, 1000.0
ENGLAND_BOUNDS = (-6.5, 49.8, 2.1, 55.9)
TO_BNG = Transformer.from_crs(4326, BNG, always_xy=True)
FROM_BNG = Transformer.from_crs(BNG, 4326, always_xy=True)


def transform(transformer: Transformer, geometry):
    return shapely.transform(geometry, lambda x, y: transformer.transform(x, y), interleaved=False)


class PatrolGeometryError(DomainError, ValueError):
    pass


@dataclass(frozen=True)
class PatrolGeometry:
    area: MultiPolygon  # lon/lat
    route: LineString | None = None
    buffer_m: float | None = None


def parse_patrol_geometry(geometry: dict[str, Any] | None, buffer_m: float | None = None) -> PatrolGeometry:
    """A drawn Polygon/MultiPolygon, or a route (LineString) widened by buffer_m metres; lon/lat GeoJSON."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise PatrolGeometryError("send a GeoJSON geometry: Polygon, MultiPolygon, or LineString with buffer_m")
    _check_rings_closed(geometry)
    try:
        drawn = shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError):
        raise PatrolGeometryError("not a valid GeoJSON geometry: send a Polygon, MultiPolygon or LineString "
                                  "with coordinates as [longitude, latitude] pairs") from None
    _check_size_and_place(drawn)
    if isinstance(drawn, LineString):
        return _route_area(drawn, buffer_m)
    if not isinstance(drawn, Polygon | MultiPolygon):
        raise PatrolGeometryError(f"a patrol area is a Polygon, a MultiPolygon or a LineString route, "
                                  f"not a {drawn.geom_type}")
    if not drawn.is_valid:
        raise PatrolGeometryError(f"the polygon is not valid: {explain_validity(drawn)}; "
                                  "redraw it so that its edges do not cross")
    area = MultiPolygon([drawn]) if isinstance(drawn, Polygon) else drawn
    _check_area(area)
    return PatrolGeometry(area)


def _check_rings_closed(geometry: dict[str, Any]) -> None:
    """RFC 7946 3.1.6: a ring's last position equals its first; shapely would close it silently."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    for polygon in polygons if isinstance(polygons, list) else []:
        for ring in polygon if isinstance(polygon, list) else []:
            if _is_position_list(ring) and ring[0] != ring[-1]:
                raise PatrolGeometryError("a polygon ring must end at the point where it starts (RFC 7946); "
                                          "repeat the first position at the end")


def _is_position_list(ring: Any) -> bool:
    return isinstance(ring, list) and len(ring) >= 2 and all(isinstance(end, list) for end in (ring[0], ring[-1]))


def _check_size_and_place(drawn) -> None:
    if drawn.is_empty:
        raise PatrolGeometryError("the geometry is empty")
    if shapely.get_num_coordinates(drawn) > MAX_VERTICES:
        raise PatrolGeometryError(f"the geometry has more than {MAX_VERTICES} vertices; simplify it")
    west, south, east, north = ENGLAND_BOUNDS
    minx, miny, maxx, maxy = drawn.bounds
    if minx < west or maxx > east or miny < south or maxy > north:
        raise PatrolGeometryError("the geometry is not in England; coordinates must be longitude, latitude")


def _route_area(route: LineString, buffer_m: float | None) -> PatrolGeometry:
    if buffer_m is None or not MIN_BUFFER_M <= buffer_m <= MAX_BUFFER_M:
        raise PatrolGeometryError(f"a route needs buffer_m from {MIN_BUFFER_M:g} to {MAX_BUFFER_M:g} metres")
    widened = transform(FROM_BNG, transform(TO_BNG, route).buffer(buffer_m))
    area = MultiPolygon([widened]) if isinstance(widened, Polygon) else widened
    _check_area(area)
    return PatrolGeometry(area, route, buffer_m)


def area_km2(area: MultiPolygon) -> float:
    return transform(TO_BNG, area).area / 1e6


def _check_area(area: MultiPolygon) -> None:
    size = area_km2(area)
    if size > MAX_AREA_KM2:
        raise PatrolGeometryError(f"the area is {size:.1f} km²; a patrol area may be at most {MAX_AREA_KM2:g} km²")
    if size <= 0:
        raise PatrolGeometryError("the area has no size")


def as_geojson(geometry) -> dict[str, Any]:
    return mapping(geometry)


def to_kml(patrol: dict[str, Any], summary: dict[str, Any]) -> bytes:
    """KML 2.2 for phones and in-car systems: the area (and route) with its summary as the description."""
    area = shape(patrol["geometry"])
    placemarks = [_placemark(patrol["name"], _summary_text(patrol, summary), _kml_polygons(area))]
    if patrol.get("route"):
        coordinates = " ".join(f"{x:.6f},{y:.6f}" for x, y in shape(patrol["route"]).coords)
        placemarks.append(_placemark(f"{patrol['name']} (route)", f"buffer {patrol['buffer_m']:g} m",
                                     f"<LineString><coordinates>{coordinates}</coordinates></LineString>"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>{escape(patrol['name'])}</name>"
            '<Style id="patrol"><LineStyle><color>ff2039e6</color><width>3</width></LineStyle>'
            "<PolyStyle><color>402039e6</color></PolyStyle></Style>"
            + "".join(placemarks) + "</Document></kml>\n").encode()


def _placemark(name: str, description: str, geometry_xml: str) -> str:
    """KML viewers show <description> as HTML, so its text is HTML-escaped (lines kept) and then XML-escaped."""
    as_html = "<br>".join(html.escape(line) for line in description.split("\n"))
    return (f"<Placemark><name>{escape(name)}</name><description>{escape(as_html)}</description>"
            f"<styleUrl>#patrol</styleUrl>{geometry_xml}</Placemark>")


def _kml_polygons(area: MultiPolygon) -> str:
    def ring(coords) -> str:
        return " ".join(f"{x:.6f},{y:.6f}" for x, y in coords)

    polygons = []
    for polygon in area.geoms:
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{ring(r.coords)}</coordinates></LinearRing>"
                        "</innerBoundaryIs>" for r in polygon.interiors)
        polygons.append(f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring(polygon.exterior.coords)}"
                        f"</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>")
    return f"<MultiGeometry>{''.join(polygons)}</MultiGeometry>"


def _summary_text(patrol: dict[str, Any], summary: dict[str, Any]) -> str:
    lines = [f"Team: {patrol['team']}", f"Area: {summary['area_km2']:.2f} km²",
             f"Dates: {patrol.get('date_from') or '…'} to {patrol.get('date_to') or '…'}"]
    crime = summary.get("crime")
    if crime:
        if crime["total"] is None:
            lines.append(crime["note"])
        else:
            lines.append(f"Crimes {crime['period']}: {crime['total']} (previous period {crime['previous_total']})")
    if patrol.get("notes"):
        lines.append(f"Notes: {patrol['notes']}")
    return "\n".join(lines)


# --- the saved fields ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saver:
    """Who saves a patrol area: their own team (None: none) and whether they are an admin (who may save for any)."""

    team: str | None
    is_admin: bool


def patrol_fields(body: dict[str, Any], saver: Saver, partial: bool) -> dict[str, Any]:
    """The columns to store from a checked body (partial: only what it gives, for an edit)."""
    fields: dict[str, Any] = {}
    if "name" in body or not partial:
        name = body["name"].strip()
        if not name:
            raise DomainError("name is required (at most 120 characters)")
        fields["name"] = name
    if "geometry" in body or not partial:
        drawn = parse_patrol_geometry(body.get("geometry"), body.get("buffer_m"))
        fields.update(geometry=as_geojson(drawn.area), buffer_m=drawn.buffer_m,
                      route=as_geojson(drawn.route) if drawn.route else None)
    for name in ("date_from", "date_to"):
        if name in body or not partial:
            fields[name] = body.get(name)
    if "notes" in body:
        fields["notes"] = body["notes"] or ""
    if "team" in body or not partial:
        fields["team"] = _team_for(saver, body.get("team"))
    if fields.get("date_from") and fields.get("date_to") and fields["date_to"] < fields["date_from"]:
        raise DomainError("date_to must not be before date_from")
    return fields


def _team_for(saver: Saver, requested: str | None) -> str:
    if saver.is_admin and requested:
        return str(requested)
    if requested and requested != saver.team:
        raise ForbiddenError(f"you may save patrol areas for your own team ({saver.team or 'none'}) only")
    if not saver.team:
        raise DomainError("you belong to no team; an admin can set it with 'scripts/atlas users team NAME TEAM'")
    return saver.team
