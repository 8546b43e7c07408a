"""Reading and validating boundary files (GeoJSON, GeoPackage, zipped Shapefile).

Everything is checked before anything touches the database, so a bad file is
refused whole with every problem named, and nothing is half-loaded.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely import MultiPolygon, Polygon
from sqlalchemy.orm import Session

from server.domain.file_errors import FileProblems
from server.store import boundaries as boundary_store

# Generous bounds around England (and its offshore islands) in lon/lat.
ENGLAND_BOUNDS = (-6.5, 49.8, 2.1, 55.9)
MAX_ZIP_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
SHAPEFILE_REQUIRED = (".shp", ".shx", ".dbf")
SUPPORTED_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".shp")
# National files are published gzipped; read in place through GDAL's /vsigzip/ (only where a caller allows it: an
# upload could be a decompression bomb).
GZIPPED_SUFFIXES = (".geojson.gz", ".json.gz")


class BoundaryFileError(FileProblems):
    """A boundary file that cannot be loaded; `problems` lists each reason."""


@dataclass
class BoundaryRecord:
    code: str
    name: str
    wkb: bytes


@dataclass
class ValidatedBoundaries:
    file: str
    source_crs: str
    records: list[BoundaryRecord]
    checksum: str
    fields: list[str] = field(default_factory=list)


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_boundary_file(
    path: Path,
    *,
    code_field: str,
    name_field: str,
    crs: str | None = None,
    display_name: str | None = None,
    layer: str | None = None,
    where: str | None = None,
    gzipped_ok: bool = False,
) -> ValidatedBoundaries:
    """Read, validate and reproject a boundary file to EPSG:4326, or raise BoundaryFileError.

    where: an OGR SQL filter on the features (e.g. "LAD_CODE" IN ('E07000113')), written by the caller from checked
    values. gzipped_ok: also read gzipped GeoJSON (a national file on the local disk)."""
    name = display_name or path.name
    suffix = path.suffix.lower()
    if gzipped_ok and path.name.lower().endswith(GZIPPED_SUFFIXES):
        frame = _read_frame(gzipped_path(path), name, layer, where)
        return _validated(frame, path, name, code_field, name_field, crs)
    if suffix not in SUPPORTED_SUFFIXES:
        raise BoundaryFileError(name, [
            f"unsupported file type '{suffix or '(none)'}'; use a zipped Shapefile (.zip), "
            "GeoPackage (.gpkg) or GeoJSON (.geojson/.json)"])
    with tempfile.TemporaryDirectory(prefix="csp-atlas-upload-") as scratch:
        readable = _shapefile_from_zip(path, Path(scratch), name) if suffix == ".zip" else path
        if readable.suffix.lower() == ".shp":
            _require_shapefile_members(readable, name)
        frame = _read_frame(readable, name, layer, where)
    return _validated(frame, path, name, code_field, name_field, crs)


def gzipped_path(path: Path) -> str:
    """GDAL's name for reading a gzipped file in place (an absolute path after the prefix)."""
    return f"/vsigzip/{path.resolve()}"


def _validated(frame: gpd.GeoDataFrame, path: Path, name: str, code_field: str, name_field: str,
               crs: str | None) -> ValidatedBoundaries:
    frame = _with_crs(frame, crs, name)
    _check_fields(frame, code_field, name_field, name)
    _check_features(frame, code_field, name_field, name)
    source_crs = frame.crs.to_string()
    frame = frame.to_crs(4326)
    _check_extent(frame, code_field, name, source_crs)
    records = [
        BoundaryRecord(code=str(row[code_field]).strip(), name=_clean_name(row[name_field]),
                       wkb=_as_multipolygon(row.geometry).wkb)
        for _, row in frame.iterrows()
    ]
    return ValidatedBoundaries(file=name, source_crs=source_crs, records=records,
                               checksum=file_checksum(path), fields=list(frame.columns))


def _shapefile_from_zip(path: Path, scratch: Path, name: str) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BoundaryFileError(name, [f"not a readable zip archive ({error})"]) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_zip_members(members, name)
        shapefiles = [m for m in members if m.filename.lower().endswith(".shp")]
        if not shapefiles:
            listed = ", ".join(m.filename for m in members) or "nothing"
            raise BoundaryFileError(name, [f"the zip holds no .shp file (it holds {listed})"])
        if len(shapefiles) > 1:
            listed = ", ".join(m.filename for m in shapefiles)
            raise BoundaryFileError(name, [f"the zip holds {len(shapefiles)} shapefiles ({listed}); "
                                           "upload one layer per zip"])
        stem = shapefiles[0].filename[:-4]
        wanted = [m for m in members if m.filename[: len(stem)] == stem]
        for member in wanted:
            target = scratch / PurePosixPath(member.filename).name
            try:
                target.write_bytes(archive.read(member))
            except (zipfile.BadZipFile, OSError, RuntimeError) as error:
                raise BoundaryFileError(name, [f"member {member.filename} is corrupt ({error})"]) from None
        return scratch / PurePosixPath(shapefiles[0].filename).name


def _check_zip_members(members: list[zipfile.ZipInfo], name: str) -> None:
    problems = []
    if len(members) > MAX_ZIP_MEMBERS:
        problems.append(f"the zip holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted")
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename:
            problems.append(f"zip member '{member.filename}' has an absolute or parent-directory path")
    total = sum(m.file_size for m in members)
    if total > MAX_ZIP_UNCOMPRESSED_BYTES:
        problems.append(f"the zip unpacks to {total // (1024 * 1024)} MiB; at most "
                        f"{MAX_ZIP_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB are accepted")
    if problems:
        raise BoundaryFileError(name, problems)


def _require_shapefile_members(shp: Path, name: str) -> None:
    present = {p.suffix.lower() for p in shp.parent.iterdir() if p.stem == shp.stem}
    missing = [s for s in SHAPEFILE_REQUIRED if s not in present]
    if missing:
        raise BoundaryFileError(name, [
            f"the shapefile {shp.name} is missing its {', '.join(missing)} member(s); "
            "a shapefile needs .shp, .shx and .dbf (and .prj for its CRS)"])


def _read_frame(path: Path | str, name: str, layer: str | None, where: str | None = None) -> gpd.GeoDataFrame:
    try:
        if str(path).lower().endswith(".gpkg") and layer is None:
            layers = [row[0] for row in pyogrio.list_layers(path)]
            if len(layers) > 1:
                raise BoundaryFileError(name, [
                    f"the GeoPackage holds {len(layers)} layers ({', '.join(layers)}); name one with layer"])
        return gpd.read_file(path, layer=layer, engine="pyogrio", where=where)
    except BoundaryFileError:
        raise
    except Exception as error:  # GDAL reports corrupt input through many exception types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = reason.split("; It might help")[0]  # GDAL's advice about driver prefixes is for programmers
        raise BoundaryFileError(name, [f"unreadable or corrupt file ({reason})"]) from None


def _with_crs(frame: gpd.GeoDataFrame, crs: str | None, name: str) -> gpd.GeoDataFrame:
    given = _parse_crs(crs, name) if crs else None
    if frame.crs is None:
        if given is None:
            raise BoundaryFileError(name, [
                "the file declares no coordinate reference system (a shapefile needs its .prj); "
                "give one explicitly, e.g. crs=EPSG:27700 for British National Grid"])
        return frame.set_crs(given)
    if given is not None and not CRS.from_user_input(frame.crs).equals(given, ignore_axis_order=True):
        raise BoundaryFileError(name, [
            f"the file declares {frame.crs.to_string()} but {given.to_string()} was given; "
            "leave crs empty to use the file's own"])
    return frame


def _parse_crs(text: str, name: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise BoundaryFileError(name, [f"'{text}' is not a coordinate reference system "
                                       "(use a code such as EPSG:27700)"]) from None


def _check_fields(frame: gpd.GeoDataFrame, code_field: str, name_field: str, name: str) -> None:
    if frame.empty:
        raise BoundaryFileError(name, ["the file has no features"])
    available = [c for c in frame.columns if c != frame.geometry.name]
    missing = [f for f in (code_field, name_field) if f not in available]
    if missing:
        raise BoundaryFileError(name, [
            f"field {', '.join(repr(m) for m in missing)} not found; the file has fields: "
            f"{', '.join(available) or '(none)'}"])


def _feature_label(index: int, code: object) -> str:
    return f"feature {index + 1}" + (f" ({code})" if _present(code) else "")


MAX_CODE_LENGTH, MAX_NAME_LENGTH = 32, 200  # the areas table's columns


def _present(value: object) -> bool:
    return value is not None and str(value).strip() not in ("", "nan", "None")


def _check_features(frame: gpd.GeoDataFrame, code_field: str, name_field: str, name: str) -> None:
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows = zip(frame[code_field], frame[name_field], frame.geometry.values, strict=True)
    for position, (code, area_name, geometry) in enumerate(rows):
        label = _feature_label(position, code)
        if not _present(code):
            problems.append(f"{label}: empty {code_field}")
        else:
            key = str(code).strip()
            if len(key) > MAX_CODE_LENGTH:
                problems.append(f"{label}: {code_field} is {len(key)} characters; at most {MAX_CODE_LENGTH}")
            if key in seen:
                problems.append(f"{label}: duplicate {code_field} (also feature {seen[key] + 1})")
            seen.setdefault(key, position)
        if not _present(area_name):
            problems.append(f"{label}: empty {name_field}")
        elif len(_clean_name(area_name)) > MAX_NAME_LENGTH:
            problems.append(f"{label}: {name_field} is {len(_clean_name(area_name))} characters; "
                            f"at most {MAX_NAME_LENGTH}")
        if geometry is None or geometry.is_empty:
            problems.append(f"{label}: empty or missing geometry")
        elif not isinstance(geometry, Polygon | MultiPolygon):
            problems.append(f"{label}: geometry is a {geometry.geom_type}; only Polygon and "
                            "MultiPolygon boundaries are accepted")
    if problems:
        raise BoundaryFileError(name, problems)


def _check_extent(frame: gpd.GeoDataFrame, code_field: str, name: str, source_crs: str) -> None:
    west, south, east, north = ENGLAND_BOUNDS
    problems = []
    for position, (_, row) in enumerate(frame.iterrows()):
        minx, miny, maxx, maxy = row.geometry.bounds
        if minx < west or maxx > east or miny < south or maxy > north:
            problems.append(
                f"{_feature_label(position, row[code_field])} lies outside England "
                f"(lon {minx:.3f}..{maxx:.3f}, lat {miny:.3f}..{maxy:.3f} after reading it as {source_crs}); "
                "the coordinate reference system is probably wrong")
    if problems:
        raise BoundaryFileError(name, problems)


def _clean_name(value: object) -> str:
    return " ".join(str(value).split())


def _as_multipolygon(geometry: Polygon | MultiPolygon) -> MultiPolygon:
    return MultiPolygon([geometry]) if isinstance(geometry, Polygon) else geometry


def store_boundary_set(session: Session, meta: boundary_store.BoundarySetMeta,
                       data: ValidatedBoundaries) -> boundary_store.LoadReport:
    """Replace (or create) the set in the caller's transaction; BoundaryFileError naming each feature whose polygon
    has no area once PostGIS has made it valid."""
    try:
        return boundary_store.replace_boundary_set(session, meta, data)
    except boundary_store.AreasWithoutArea as error:
        raise BoundaryFileError(data.file, [f"feature ({code}): the polygon has no area once made valid"
                                            for code in error.codes]) from None
