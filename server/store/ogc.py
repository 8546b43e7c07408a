"""SQL for OGC API – Features and Tiles: each collection is a `Source` (its rows, feature id, geometry, properties and
the filters it answers), and PostGIS assembles the pages of GeoJSON (json_agg) and the vector tiles (ST_AsMVT), so
Python never parses a geometry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.store import partnerships
from server.store.versioned import per_data_version


@dataclass(frozen=True)
class Property:
    sql: str
    type: str  # JSON Schema type: string, integer, number, boolean, array
    description: str
    format: str | None = None


@dataclass(frozen=True)
class Filter:
    """A queryable answered as a query parameter: `sql` compares with :value (already checked by the caller)."""

    sql: str
    type: str
    description: str


@dataclass(frozen=True)
class Source:
    tables: str  # FROM list
    where: str   # conditions that pick the collection's rows
    params: dict[str, Any]
    feature_id: str
    id_type: str  # the SQL type a requested feature id is cast to
    geometry: str  # EPSG:4326
    order: str
    properties: dict[str, Property]
    temporal: tuple[str, str] | None = None  # each feature's first and last day (NULL: open)
    filters: dict[str, Filter] = field(default_factory=dict)
    geometry_type: str = "polygon"


@dataclass(frozen=True)
class Query:
    """What an items or tile request asks of a source: in which CRS (SRID), where, when, which filters."""

    srid: int = 4326
    bbox: tuple[float, float, float, float] | None = None
    bbox_srid: int = 4326
    days: tuple[date | None, date | None] | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    properties: list[str] | None = None
    geometry: bool = True  # False: `skipGeometry=true`, every geometry null


def _rounded(expression: str, places: int) -> str:
    return f"round(({expression})::numeric, {places})::float8"


# --- the collections ----------------------------------------------------------------------------------------------

_AREA_PROPERTIES = {
    "code": Property("a.code", "string", "the area's code (e.g. an ONS GSS code)"),
    "name": Property("a.name", "string", "the area's name"),
    "area_km2": Property(_rounded("a.area_km2", 4), "number", "area in km² (on the ellipsoid)"),
    "cluster": Property("c.name", "string", "the ward cluster the area belongs to (ward sets; null if none)"),
    "cluster_number": Property("c.number", "integer", "the number of that ward cluster"),
    "cluster_derived": Property("m.derived", "boolean",
                                "true when the membership was derived from another set by largest overlap"),
    "imd_rank": Property("d.imd_rank", "integer", "Index of Multiple Deprivation rank (LSOAs; 1 = most deprived)"),
    "imd_decile": Property("d.imd_decile", "integer", "Index of Multiple Deprivation decile (LSOAs)"),
}
_AREA_TABLES = """areas a JOIN boundary_sets s ON s.id = a.set_id
    LEFT JOIN cluster_members m ON m.set_id = a.set_id AND m.area_code = a.code
    LEFT JOIN ward_clusters c ON c.id = m.cluster_id
    LEFT JOIN lsoa_deprivation d ON d.lsoa_code = a.code"""
_SET_VALIDITY = ("s.valid_from", "s.valid_to - 1")  # valid_to is the first day the set no longer applies


def area_source(set_id: str) -> Source:
    return Source(
        tables=_AREA_TABLES, where="a.set_id = :set_id", params={"set_id": set_id}, feature_id="a.code",
        id_type="text", geometry="a.geom", order="a.code", properties=_AREA_PROPERTIES, temporal=_SET_VALIDITY,
        filters={"code": Filter("a.code = :value", "string", "an area code"),
                 "cluster_number": Filter("c.number = CAST(:value AS integer)", "integer", "a ward cluster number"),
                 "imd_decile": Filter("d.imd_decile = CAST(:value AS integer)", "integer", "a deprivation decile")})


_CLUSTER_ROWS = """(
    SELECT c.set_id, c.number, c.name, c.cluster_type, c.derived, c.source,
           array_agg(a.code ORDER BY a.code) AS member_codes, array_agg(a.name ORDER BY a.code) AS member_names,
           sum(a.area_km2) AS area_km2, ST_Multi(ST_Union(a.geom)) AS geom
    FROM ward_clusters c
    JOIN cluster_members m ON m.cluster_id = c.id
    JOIN areas a ON a.set_id = m.set_id AND a.code = m.area_code
    WHERE c.set_id = :set_id
    GROUP BY c.id) k JOIN boundary_sets s ON s.id = k.set_id"""
_CLUSTER_PROPERTIES = {
    "number": Property("k.number", "integer", "the cluster's number"),
    "name": Property("k.name", "string", "the cluster's name"),
    "type": Property("k.cluster_type", "string", "urban or rural"),
    "derived": Property("k.derived", "boolean", "true when derived from another ward set by largest overlap"),
    "source": Property("k.source", "string", "where the clusters come from"),
    "members": Property("k.member_codes", "array", "the codes of the wards in the cluster"),
    "member_names": Property("k.member_names", "array", "the names of those wards"),
    "area_km2": Property(_rounded("k.area_km2", 4), "number", "area in km²"),
}


def cluster_source(set_id: str) -> Source:
    return Source(
        tables=_CLUSTER_ROWS, where="TRUE", params={"set_id": set_id}, feature_id="k.number", id_type="integer",
        geometry="k.geom", order="k.number", properties=_CLUSTER_PROPERTIES, temporal=_SET_VALIDITY,
        filters={"type": Filter("k.cluster_type = :value", "string", "urban or rural")})


_LAYER_VALUES = """jsonb_to_recordset(CAST(:values AS jsonb))
    AS v(code text, value float8, class integer, color text, rank integer, rank_of integer, value_current float8,
         value_base float8)"""
_VALUE_PROPERTIES = {
    "value": Property("v.value", "number", "the measure's value (null: no data)"),
    "class": Property("v.class", "integer", "the class (0 = lowest; null: no data)"),
    "color": Property("v.color", "string", "the class's colour, #rrggbb"),
    "rank": Property("v.rank", "integer", "rank by value, 1 = highest"),
    "rank_of": Property("v.rank_of", "integer", "how many features have a value"),
    "value_current": Property("v.value_current", "number", "change measures: the value of the period"),
    "value_base": Property("v.value_base", "number", "change measures: the value of the base period"),
}
_CLASS_FILTER = Filter("v.class = CAST(:value AS integer)", "integer", "a class number")


def classified_source(set_id: str, values_json: str) -> Source:
    """The areas of a set joined to the values of a classified layer (JSON rows: code, value, class, color, rank)."""
    return Source(
        tables=f"{_AREA_TABLES} JOIN {_LAYER_VALUES} ON v.code = a.code",
        where="a.set_id = :set_id", params={"set_id": set_id, "values": values_json}, feature_id="a.code",
        id_type="text", geometry="a.geom", order="a.code", properties={**_AREA_PROPERTIES, **_VALUE_PROPERTIES},
        temporal=_SET_VALIDITY,
        filters={"code": Filter("a.code = :value", "string", "an area code"), "class": _CLASS_FILTER})


def classified_cluster_source(set_id: str, values_json: str) -> Source:
    """The ward clusters of a set joined to the values of a classified layer of clusters (JSON rows keyed by the
    cluster's number as text)."""
    return Source(
        tables=f"{_CLUSTER_ROWS} JOIN {_LAYER_VALUES} ON v.code = k.number::text", where="TRUE",
        params={"set_id": set_id, "values": values_json}, feature_id="k.number", id_type="integer",
        geometry="k.geom", order="k.number", properties={**_CLUSTER_PROPERTIES, **_VALUE_PROPERTIES},
        temporal=_SET_VALIDITY,
        filters={"type": Filter("k.cluster_type = :value", "string", "urban or rural"), "class": _CLASS_FILTER})


_CRIME_PROPERTIES = {
    "month": Property("to_char(r.month, 'YYYY-MM')", "string", "the month of the record (police.uk publishes "
                      "months, not days)"),
    "crime_type": Property("r.crime_type", "string", "the crime type as published"),
    "crime_type_slug": Property("r.crime_type_slug", "string", "the crime type as a slug, e.g. burglary"),
    "crime_id": Property("r.crime_id", "string", "police.uk's crime id (empty for anti-social behaviour)"),
    "location": Property("r.location", "string", "the anonymised location, e.g. 'On or near Week Street'"),
    "lsoa_code": Property("r.lsoa_code", "string", "the LSOA police.uk gives"),
    "lsoa_name": Property("r.lsoa_name", "string", "its name"),
    "last_outcome": Property("r.last_outcome", "string", "the last outcome category"),
    "reported_by": Property("r.reported_by", "string", "the force"),
}


def crime_source() -> Source:
    return Source(
        tables="crime_records r", where=f"r.geom IS NOT NULL AND {partnerships.in_area('r.geom')}", params={},
        feature_id="r.id", id_type="bigint",
        geometry="r.geom", order="r.id", properties=_CRIME_PROPERTIES,
        temporal=("r.month", "(r.month + interval '1 month' - interval '1 day')::date"), geometry_type="point",
        filters={"month": Filter("r.month = CAST(:value AS date)", "string", "a month, e.g. 2022-06"),
                 "crime_type": Filter("(r.crime_type_slug = :value OR r.crime_type = :value)", "string",
                                      "a crime type: its slug (burglary) or its name as published (Burglary)"),
                 "lsoa_code": Filter("r.lsoa_code = :value", "string", "an LSOA code")})


_HOTSPOT_LOCATION = "COALESCE(p.geom, pl.geom)"
_HOTSPOT_PROPERTIES = {
    "observed_from": Property("to_char(p.observed_from, 'YYYY-MM-DD')", "string", "first day observed", "date"),
    "observed_to": Property("to_char(p.observed_to, 'YYYY-MM-DD')", "string", "last day observed", "date"),
    "count": Property("p.count", "integer", "how many (in the layer's count unit; null if not counted)"),
    "category": Property("p.category", "string", "the record's category"),
    "notes": Property("p.notes", "string", "notes"),
    "place": Property("pl.name", "string", "the named place the record is at, if any"),
    "area_code": Property("p.area_code", "string", "the area the record was given for, if any"),
    "located_by": Property("CASE WHEN p.geom IS NOT NULL THEN 'point' ELSE 'place' END", "string",
                           "point: its own location; place: its named place's"),
    "recorded_by": Property("p.recorded_by", "string", "who recorded it"),
}


def hotspot_source(layer_id: str) -> Source:
    """The located, not deleted points of a hotspot layer (the caller's access is checked before)."""
    return Source(
        tables="hotspot_points p LEFT JOIN gazetteer_places pl ON pl.id = p.place_id",
        where=f"p.layer_id = :layer_id AND p.deleted_at IS NULL AND {_HOTSPOT_LOCATION} IS NOT NULL",
        params={"layer_id": layer_id}, feature_id="p.id", id_type="bigint", geometry=_HOTSPOT_LOCATION,
        order="p.id", properties=_HOTSPOT_PROPERTIES,
        temporal=("p.observed_from", "p.observed_to"), geometry_type="point",
        filters={"category": Filter("p.category = :value", "string", "a category")})


# --- the conditions of a query ------------------------------------------------------------------------------------


def _conditions(source: Source, query: Query) -> tuple[str, dict[str, Any]]:
    clauses = [source.where]
    params = dict(source.params)
    if query.bbox is not None:
        envelope = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, :bbox_srid)"
        if query.bbox_srid != 4326:
            envelope = f"ST_Transform({envelope}, 4326)"
        clauses.append(f"{source.geometry} && {envelope} AND ST_Intersects({source.geometry}, {envelope})")
        params.update(zip(("minx", "miny", "maxx", "maxy"), query.bbox, strict=True), bbox_srid=query.bbox_srid)
    if query.days is not None and source.temporal is not None:
        first, last = source.temporal
        if query.days[0] is not None:
            clauses.append(f"({last} IS NULL OR {last} >= :day_first)")
            params["day_first"] = query.days[0]
        if query.days[1] is not None:
            clauses.append(f"({first} IS NULL OR {first} <= :day_last)")
            params["day_last"] = query.days[1]
    for index, (name, value) in enumerate(sorted(query.filters.items())):
        clauses.append(source.filters[name].sql.replace(":value", f":filter_{index}"))
        params[f"filter_{index}"] = value
    return " AND ".join(f"({clause})" for clause in clauses), params


def _geometry_out(source: Source, srid: int, precision: int, wanted: bool = True) -> str:
    if not wanted:
        return "NULL::json"
    geometry = source.geometry if srid == 4326 else f"ST_Transform({source.geometry}, {int(srid)})"
    return f"ST_AsGeoJSON(ST_ForcePolygonCCW({geometry}), {int(precision)}, 0)::json"


def _properties_json(source: Source, names: list[str]) -> str:
    if not names:
        return "'{}'::json"
    return "json_build_object(" + ", ".join(f"'{name}', {source.properties[name].sql}" for name in names) + ")"


# --- items --------------------------------------------------------------------------------------------------------


def features_page(session: Session, source: Source, query: Query, precision: int, limit: int,
                  offset: int) -> tuple[bytes, int, int]:
    """(the page's features as a JSON array in UTF-8, how many it holds, how many match in all)."""
    where, params = _conditions(source, query)
    names = query.properties if query.properties is not None else list(source.properties)
    row = session.execute(text(f"""
        SELECT coalesce(json_agg(json_build_object(
                   'type', 'Feature', 'id', q.fid, 'geometry', q.geometry, 'properties', q.properties)
                   ORDER BY q.n), '[]'::json)::text,
               count(*)
        FROM (SELECT {source.feature_id} AS fid,
                     {_geometry_out(source, query.srid, precision, query.geometry)} AS geometry,
                     {_properties_json(source, names)} AS properties, row_number() OVER (ORDER BY {source.order}) AS n
              FROM {source.tables} WHERE {where}
              ORDER BY {source.order} LIMIT :limit OFFSET :offset) q"""),
        {**params, "limit": limit, "offset": offset}).one()
    matched = session.execute(text(f"SELECT count(*) FROM {source.tables} WHERE {where}"), params).scalar_one()
    return row[0].encode(), row[1], matched


def feature(session: Session, source: Source, feature_id: str, query: Query, precision: int) -> bytes | None:
    """One feature as GeoJSON text in UTF-8, or None."""
    where, params = _conditions(source, query)
    names = query.properties if query.properties is not None else list(source.properties)
    body = session.execute(text(f"""
        SELECT json_build_object('type', 'Feature', 'id', {source.feature_id},
                                 'geometry', {_geometry_out(source, query.srid, precision, query.geometry)},
                                 'properties', {_properties_json(source, names)})::text
        FROM {source.tables} WHERE {where} AND {source.feature_id} = CAST(:fid AS {source.id_type})"""),
        {**params, "fid": feature_id}).scalar()
    return body.encode() if body is not None else None


def extent(session: Session, source: Source) -> tuple[float, float, float, float] | None:
    """The bounding box of a collection in longitude/latitude, or None when it has no features."""
    row = session.execute(text(f"""
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
        FROM (SELECT ST_Extent({source.geometry}) AS e FROM {source.tables} WHERE {source.where}) x"""),
        source.params).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


@per_data_version
def public_extents(session: Session) -> dict[str, tuple[float, float, float, float]]:
    """The bounding box of every boundary set and of the located crime records in the partnership's area (key
    'crime')."""
    rows = session.execute(text(f"""
        SELECT set_id, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
        FROM (SELECT set_id, ST_Extent(geom) AS e FROM areas GROUP BY set_id
              UNION ALL SELECT 'crime', ST_Extent(geom) FROM crime_records WHERE {partnerships.in_area('geom')}) x
        WHERE e IS NOT NULL""")).all()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def crime_months(session: Session) -> tuple[date, date] | None:
    row = session.execute(text("SELECT min(month), max(month) FROM crime_records WHERE geom IS NOT NULL")).one()
    return None if row[0] is None else (row[0], row[1])


def hotspot_observed(session: Session, layer_id: str) -> tuple[date, date] | None:
    row = session.execute(text("""
        SELECT min(observed_from), max(observed_to) FROM hotspot_points
        WHERE layer_id = :layer AND deleted_at IS NULL"""), {"layer": layer_id}).one()
    return None if row[0] is None else (row[0], row[1])


def collection_exists(session: Session, kind: str, set_id: str) -> bool:
    """Whether boundary set `set_id` exists and, for the kinds of clusters, has ward clusters."""
    if kind in ("clusters", "classified_clusters"):
        sql = "SELECT EXISTS (SELECT 1 FROM ward_clusters WHERE set_id = :id)"
    else:
        sql = "SELECT EXISTS (SELECT 1 FROM boundary_sets WHERE id = :id)"
    return session.execute(text(sql), {"id": set_id}).scalar_one()


def ward_sets_with_clusters(session: Session) -> set[str]:
    return set(session.execute(text("SELECT DISTINCT set_id FROM ward_clusters")).scalars())


# --- vector tiles -------------------------------------------------------------------------------------------------


def _tile_column(name: str, prop: Property) -> str:
    """MVT attributes are scalars: arrays travel as comma-separated text."""
    expression = f"array_to_string({prop.sql}, ',')" if prop.type == "array" else prop.sql
    return f'{expression} AS "{name}"'


def vector_tile(session: Session, source: Source, layer_name: str, zoom: int, row: int, col: int,
                tolerance: float, extent_units: int, buffer_units: int, query: Query) -> bytes:
    """One Mapbox Vector Tile (one layer, `layer_name`) of the features of `source` in tile z/row/col of
    WebMercatorQuad: clipped with a buffer, simplified by `tolerance` degrees, attributes as in the GeoJSON (those of
    `query.properties` when it names them)."""
    where, params = _conditions(source, query)
    # Simplified in degrees before the reprojection (the cheaper order: 0.5 s for a zoom-6 tile of England's LSOAs,
    # against 4.9 s for ST_SimplifyPreserveTopology after it); ST_AsMVTGeom makes what it keeps valid.
    geometry = source.geometry
    if source.geometry_type == "polygon":
        geometry = f"ST_Simplify({geometry}, :tolerance, true)"
    geometry = f"ST_Transform({geometry}, 3857)"
    names = query.properties if query.properties is not None else list(source.properties)
    columns = [f"ST_AsMVTGeom({geometry}, bounds.tile, :extent, :buffer, true) AS geom",
               *(_tile_column(name, source.properties[name]) for name in names)]
    numbered = source.id_type in ("integer", "bigint")  # MVT ids are unsigned integers; area codes stay attributes
    if numbered:
        columns.append(f"{source.feature_id} AS fid")
    body = session.execute(text(f"""
        WITH bounds AS (
            SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
                   ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS search)
        SELECT ST_AsMVT(t, :layer, :extent, 'geom', {"'fid'" if numbered else 'NULL'}) FROM (
            SELECT {", ".join(columns)}
            FROM {source.tables} CROSS JOIN bounds
            WHERE {where} AND {source.geometry} && bounds.search) t
        WHERE t.geom IS NOT NULL"""),
        {**params, "z": zoom, "x": col, "y": row, "margin": buffer_units / extent_units, "layer": layer_name,
         "extent": extent_units, "buffer": buffer_units, "tolerance": tolerance}).scalar()
    return bytes(body) if body is not None else b""

