"""Setting up a partnership from national or county files: its districts' wards and LSOAs (the features whose
district-code field holds one of its LAD codes) and their deprivation, as boundary sets named after it.

Every file is read and checked before the database is touched, and everything is stored in one transaction, so a
refused set-up leaves nothing half made. The boundary sets go through the same loading path as any boundary file
(validation, repair, placement of the crime records already imported). Running the same set-up again changes
nothing: each set remembers a fingerprint of its file and selection.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pyogrio
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.domain.boundary_files import (
    GZIPPED_SUFFIXES,
    BoundaryFileError,
    ValidatedBoundaries,
    file_checksum,
    gzipped_path,
    read_boundary_file,
    store_boundary_set,
)
from server.domain.errors import DomainError
from server.domain.partnerships import ONS_LICENCE, check_lad_codes, check_slug, definitions
from server.store import boundaries as boundary_store
from server.store import partnerships as partnership_store
from server.store.db import transaction

IMD_COLUMNS = ("lsoa11cd", "IMDRank", "IMDDecil")
IMD_SOURCE = ("English Indices of Deprivation 2019, Ministry of Housing, Communities & Local Government, "
              "Open Government Licence v3.0")
MAX_LISTED_CODES = 20
# WD13CD -> 2013, LSOA11CD -> 2011: ONS code fields name the year of their boundaries.
_FIELD_YEAR = re.compile(r"(\d\d)CD$", re.IGNORECASE)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

Log = Callable[[str], None]


class PartnershipSetupError(DomainError):
    """A set-up that cannot be done as asked; the message says why (nothing was stored)."""


@dataclass(frozen=True)
class DistrictFile:
    """A file of areas of many districts and the fields that say which district, code and name each has."""

    path: Path
    lad_field: str
    code_field: str
    name_field: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class PartnershipSetup:
    slug: str
    name: str
    lad_codes: tuple[str, ...]
    parent_slug: str | None = None
    wards: DistrictFile | None = None
    lsoas: DistrictFile | None = None
    imd: Path | None = None


@dataclass
class SetupReport:
    slug: str
    created: bool
    sets: list[tuple[str, str]]  # (set id, what happened)
    deprivation: str | None
    seconds: float


def checked_setup(slug: str, name: str, lad_codes: Sequence[str], parent_slug: str | None = None,
                  wards: DistrictFile | None = None, lsoas: DistrictFile | None = None,
                  imd: Path | None = None) -> PartnershipSetup:
    """The request with its slug, name and district codes checked."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise PartnershipSetupError("a partnership's name is 1-200 characters, e.g. 'Swale Community Safety "
                                    "Partnership'")
    if wards is None and lsoas is None:
        raise PartnershipSetupError("give --wards or --lsoas (or both): a partnership's area comes from its "
                                    "boundaries")
    if slug in {definition.slug for definition in definitions()}:
        raise PartnershipSetupError(f"'{slug}' is described in geodata/partnerships/{slug}.json: change that file and "
                                    "run 'reference load' instead")
    if imd is not None and lsoas is None:
        raise PartnershipSetupError("--imd needs --lsoas: deprivation is given for the partnership's LSOAs")
    return PartnershipSetup(slug=check_slug(slug), name=name, lad_codes=check_lad_codes(list(lad_codes)),
                            parent_slug=check_slug(parent_slug) if parent_slug else None, wards=wards,
                            lsoas=lsoas, imd=imd)


def ward_set_id(setup: PartnershipSetup) -> str | None:
    return _set_id(setup.slug, "wards", setup.wards)


def lsoa_set_id(setup: PartnershipSetup) -> str | None:
    return _set_id(setup.slug, "lsoa", setup.lsoas)


def _set_id(slug: str, kind: str, source: DistrictFile | None) -> str | None:
    """swale + WD13CD -> swale-wards-2013; swale + LSOA11CD -> swale-lsoa-2011; without a year, swale-wards."""
    if source is None:
        return None
    year = _field_year(source.code_field)
    return f"{slug}-{kind}-{year}" if year else f"{slug}-{kind}"


def _field_year(field: str) -> int | None:
    found = _FIELD_YEAR.search(field)
    return 2000 + int(found.group(1)) if found else None


# --- reading (before anything is stored) ----------------------------------------------------------------------


@dataclass
class _PreparedSet:
    meta: boundary_store.BoundarySetMeta
    fingerprint: str
    source: DistrictFile
    data: ValidatedBoundaries | None = None  # None while the stored set already has this fingerprint


def _meta(setup: PartnershipSetup, set_id: str, kind: str, source: DistrictFile) -> boundary_store.BoundarySetMeta:
    year = _field_year(source.code_field)
    noun = "electoral wards" if kind == "ward" else "Lower Layer Super Output Areas"
    return boundary_store.BoundarySetMeta(
        id=set_id, kind=kind, title=f"{setup.name}: {noun}" + (f" ({year})" if year else ""),
        valid_from=source.valid_from, valid_to=source.valid_to,
        source=f"{source.path.name}, the features whose {source.lad_field} is {', '.join(setup.lad_codes)}",
        licence=ONS_LICENCE, code_field=source.code_field, name_field=source.name_field)


def _fingerprint(meta: boundary_store.BoundarySetMeta, source: DistrictFile, lad_codes: Sequence[str]) -> str:
    """Changes when the file, the districts selected or anything said about the set changes."""
    described = repr((file_checksum(source.path), source.lad_field, sorted(lad_codes), sorted(meta.__dict__.items())))
    return hashlib.sha256(described.encode()).hexdigest()


def _readable(path: Path) -> str | Path:
    return gzipped_path(path) if path.name.lower().endswith(GZIPPED_SUFFIXES) else path


def _select(source: DistrictFile, lad_codes: Sequence[str], log: Log) -> ValidatedBoundaries:
    """The file's features of these districts, checked like any boundary file, or BoundaryFileError naming the
    file and what is wrong (a missing field with the fields present; a district code with the codes present)."""
    name = source.path.name
    if not source.path.is_file():
        raise BoundaryFileError(name, [f"no such file: {source.path}"])
    readable = _readable(source.path)
    try:
        fields = [str(f) for f in pyogrio.read_info(readable)["fields"]]
        missing = [f for f in (source.lad_field, source.code_field, source.name_field) if f not in fields]
        if missing:
            raise BoundaryFileError(name, [f"field {', '.join(repr(m) for m in missing)} not found; the file has "
                                           f"fields: {', '.join(fields) or '(none)'}"])
        present = pyogrio.read_dataframe(readable, columns=[source.lad_field], read_geometry=False)[source.lad_field]
    except BoundaryFileError:
        raise
    except Exception as error:  # GDAL reports unreadable input through many exception types
        reason = (str(error).splitlines() or [type(error).__name__])[0].split("; It might help")[0]
        raise BoundaryFileError(name, [f"unreadable or corrupt file ({reason})"]) from None
    codes = sorted({str(c).strip() for c in present if c is not None})
    absent = [c for c in lad_codes if c not in codes]
    if absent:
        listed = ", ".join(codes[:MAX_LISTED_CODES]) + (f" and {len(codes) - MAX_LISTED_CODES} more"
                                                        if len(codes) > MAX_LISTED_CODES else "")
        raise BoundaryFileError(name, [f"no feature has {source.lad_field} {code}; the file has "
                                       f"{len(codes)} codes: {listed or '(none)'}" for code in absent])
    if not _FIELD_NAME.fullmatch(source.lad_field):
        raise BoundaryFileError(name, [f"field name {source.lad_field!r} cannot be used to select features"])
    log(f"reading {name}: the features whose {source.lad_field} is {', '.join(lad_codes)}")
    where = f'"{source.lad_field}" IN ({", ".join(repr(c) for c in lad_codes)})'
    return read_boundary_file(source.path, code_field=source.code_field, name_field=source.name_field,
                              where=where, gzipped_ok=True)


def _prepare_set(session: Session, setup: PartnershipSetup, set_id: str, kind: str, source: DistrictFile,
                 log: Log) -> _PreparedSet:
    meta = _meta(setup, set_id, kind, source)
    prepared = _PreparedSet(meta, _fingerprint(meta, source, setup.lad_codes), source)
    if boundary_store.boundary_set_checksum(session, set_id) != prepared.fingerprint:
        prepared.data = replace(_select(source, setup.lad_codes, log), checksum=prepared.fingerprint)
        log(f"{set_id}: {len(prepared.data.records)} areas selected")
    return prepared


def read_imd_rows(path: Path, wanted: set[str] | None = None) -> list[dict]:
    """The deprivation rows of a CSV with lsoa11cd, IMDRank and IMDDecil (of the wanted LSOAs only, if given), or
    BoundaryFileError naming the file and each bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise BoundaryFileError(path.name, [f"unreadable file ({error})"]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in IMD_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BoundaryFileError(path.name, [f"column {', '.join(missing)} not found; the file has columns: "
                                            f"{', '.join(reader.fieldnames or []) or '(none)'}"])
    rows, problems = [], []
    for number, row in enumerate(reader, start=2):
        code = (row["lsoa11cd"] or "").strip()
        if wanted is not None and code not in wanted:
            continue
        try:
            rank, decile = int(row["IMDRank"]), int(row["IMDDecil"])
        except (TypeError, ValueError):
            problems.append(f"row {number} ({code}): IMDRank and IMDDecil must be whole numbers")
            continue
        if rank < 1 or not 1 <= decile <= 10:
            problems.append(f"row {number} ({code}): IMDRank must be 1 or more and IMDDecil 1 to 10")
            continue
        rows.append({"code": code, "rank": rank, "decile": decile})
    if problems:
        raise BoundaryFileError(path.name, problems)
    return rows


def _imd_rows(setup: PartnershipSetup, lsoa_codes: set[str]) -> tuple[list[dict], str]:
    assert setup.imd is not None
    if not setup.imd.is_file():
        raise BoundaryFileError(setup.imd.name, [f"no such file: {setup.imd}"])
    rows = read_imd_rows(setup.imd, lsoa_codes)
    if not rows:
        raise BoundaryFileError(setup.imd.name, [f"no row has an lsoa11cd of the partnership's {len(lsoa_codes)} "
                                                 "LSOAs (is it the deprivation of the same LSOAs, 2011 codes?)"])
    return rows, f"{IMD_SOURCE} [{setup.imd.name} sha256:{file_checksum(setup.imd)[:12]}]"


# --- storing (one transaction) --------------------------------------------------------------------------------


def create_partnership(engine: Engine, setup: PartnershipSetup, log: Log = print) -> SetupReport:
    """Read every file, then store the sets, deprivation and partnership in one transaction (all or nothing)."""
    started = time.perf_counter()
    with transaction(engine) as session:
        existing = partnership_store.get_partnership(session, setup.slug)
        _check_parent(session, setup)
        prepared = [_prepare_set(session, setup, set_id, kind, source, log)
                    for set_id, kind, source in ((ward_set_id(setup), "ward", setup.wards),
                                                 (lsoa_set_id(setup), "lsoa", setup.lsoas)) if source and set_id]
        imd = _imd_rows(setup, _lsoa_codes(session, prepared)) if setup.imd else None
        outcomes = [_store_set(session, each, log) for each in prepared]
        deprivation = _store_deprivation(session, *imd, log) if imd else None
        partnership_store.upsert_partnership(session, setup.slug, setup.name, setup.lad_codes, setup.parent_slug,
                                             is_default=bool(existing and existing["is_default"]))
        partnership_store.replace_partnership_sets(session, setup.slug, [p.meta.id for p in prepared],
                                                   prepared[0].meta.id)
    return SetupReport(setup.slug, existing is None, outcomes, deprivation, time.perf_counter() - started)


def _check_parent(session: Session, setup: PartnershipSetup) -> None:
    """The parent exists and is not the partnership itself or one of its own descendants."""
    parent = setup.parent_slug
    seen = {setup.slug}
    while parent is not None:
        if parent in seen:
            raise PartnershipSetupError(f"--parent {setup.parent_slug}: '{parent}' would be its own ancestor")
        found = partnership_store.get_partnership(session, parent)
        if found is None:
            raise PartnershipSetupError(f"--parent {parent}: no such partnership (create it first; "
                                        "'partnership list' shows them)")
        seen.add(parent)
        parent = found["parent_slug"]


def _store_set(session: Session, prepared: _PreparedSet, log: Log) -> tuple[str, str]:
    set_id = prepared.meta.id
    if prepared.data is None:
        log(f"{set_id}: up to date")
        return set_id, "up to date"
    log(f"{set_id}: storing {len(prepared.data.records)} areas and placing the crime records already imported")
    step = time.perf_counter()
    report = store_boundary_set(session, prepared.meta, prepared.data)
    done = (f"{'replaced' if report.replaced else 'created'}: {report.features} areas "
            f"({report.repaired} repaired), {report.unplaced_crimes} crime records outside them")
    log(f"{set_id}: {done} [{time.perf_counter() - step:.1f} s]")
    return set_id, done


def _lsoa_codes(session: Session, prepared: list[_PreparedSet]) -> set[str]:
    """The codes of the partnership's LSOA set, as it will be once stored."""
    lsoas = next(p for p in prepared if p.meta.kind == "lsoa")
    if lsoas.data is None:
        return boundary_store.area_codes(session, lsoas.meta.id)
    return {record.code for record in lsoas.data.records}


def _store_deprivation(session: Session, rows: list[dict], source: str, log: Log) -> str:
    if boundary_store.deprivation_up_to_date(session, [r["code"] for r in rows], source):
        log(f"deprivation: up to date for {len(rows)} LSOAs")
        return "up to date"
    count = boundary_store.upsert_deprivation(session, rows, source)
    log(f"deprivation: IMD 2019 for {count} LSOAs")
    return f"{count} LSOAs"
