"""Partnerships: a Community Safety Partnership is a slug, a name and its districts (ONS local authority district
codes); a deployment's partnerships are described in data (geodata/partnerships/*.json), never in code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from server.config import ROOT
from server.domain.errors import DomainError
from server.store import boundaries as boundary_store

DEFINITIONS_DIR = ROOT / "geodata" / "partnerships"

SLUG = re.compile(r"[a-z][a-z0-9-]{1,39}", re.ASCII)
# ONS local authority district codes: E06 unitary, E07 non-metropolitan district, E08 metropolitan district,
# E09 London borough; W06 Welsh unitary authorities.
LAD_CODE = re.compile(r"(E0[6-9]|W06)\d{6}", re.ASCII)
ONS_LICENCE = ("Contains OS data © Crown copyright and database right. Source: Office for National "
               "Statistics licensed under the Open Government Licence v3.0.")


class PartnershipDefinitionError(DomainError):
    """A partnership's description names something invalid; the message says what and where."""


@dataclass(frozen=True)
class PartnershipSetFile:
    meta: boundary_store.BoundarySetMeta
    file: str


@dataclass(frozen=True)
class ClusterSpec:
    """Ward clusters the partnership publishes for one ward set (a CSV in geodata/), derived for other ward sets by
    largest overlap."""

    set_id: str
    file: str
    source: str
    derive_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedSpec:
    """The partnership's own published tables (geodata/seed/): the ward set their ward figures are for, the code of
    its borough-wide series, and the population implied by them (derived by area for other ward sets)."""

    ward_set: str
    district_code: str
    population_year: int
    population_derive_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartnershipDefinition:
    slug: str
    name: str
    lad_codes: tuple[str, ...]
    is_default: bool
    default_set: str | None
    sets: tuple[PartnershipSetFile, ...]
    imd_file: str | None = None
    clusters: ClusterSpec | None = None
    seed: SeedSpec | None = None


def check_slug(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise PartnershipDefinitionError(f"partnership '{slug[:60]}': a slug is 2-40 lower-case letters, digits "
                                         "and hyphens starting with a letter, e.g. swale")
    return slug


def check_lad_codes(codes: list[str]) -> tuple[str, ...]:
    bad = [c for c in codes if not LAD_CODE.fullmatch(c)]
    if not codes or bad:
        shown = ", ".join(repr(c[:20]) for c in bad[:5]) or "none"
        raise PartnershipDefinitionError(f"district codes {shown}: give one or more ONS local authority district "
                                         "codes such as E07000113 (E06, E07, E08, E09 or W06 and six digits)")
    return tuple(dict.fromkeys(codes))


def read_definition(path: Path) -> PartnershipDefinition:
    """A partnership described in JSON (geodata/partnerships/maidstone.json shows every field; "clusters",
    "seed_statistics" and "imd_file" are optional)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sets = tuple(_set_file(entry) for entry in data.get("boundary_sets", []))
        definition = PartnershipDefinition(
            slug=check_slug(data["slug"]), name=str(data["name"]).strip(),
            lad_codes=check_lad_codes(list(data["lad_codes"])), is_default=bool(data.get("default", False)),
            default_set=data.get("default_set"), sets=sets, imd_file=data.get("imd_file"),
            clusters=_clusters(data.get("clusters")), seed=_seed(data.get("seed_statistics")))
    except (ValueError, KeyError, TypeError, PartnershipDefinitionError) as error:
        raise PartnershipDefinitionError(f"{path.name}: {error}") from None
    set_ids = {s.meta.id for s in sets}
    named = {"default_set": [definition.default_set] if definition.default_set else [],
             "clusters": [definition.clusters.set_id, *definition.clusters.derive_to] if definition.clusters else [],
             "seed_statistics": ([definition.seed.ward_set, *definition.seed.population_derive_to]
                                 if definition.seed else [])}
    for key, ids in named.items():
        for set_id in ids:
            if set_id not in set_ids:
                raise PartnershipDefinitionError(f"{path.name}: {key} '{set_id}' is not one of its boundary_sets")
    return definition


def _clusters(entry: dict[str, Any] | None) -> ClusterSpec | None:
    if entry is None:
        return None
    return ClusterSpec(set_id=entry["set"], file=entry["file"], source=entry["source"],
                       derive_to=tuple(entry.get("derive_to", ())))


def _seed(entry: dict[str, Any] | None) -> SeedSpec | None:
    if entry is None:
        return None
    return SeedSpec(ward_set=entry["ward_set"], district_code=check_lad_codes([entry["district_code"]])[0],
                    population_year=int(entry["population_year"]),
                    population_derive_to=tuple(entry.get("population_derive_to", ())))


@lru_cache(maxsize=4)
def definitions(folder: Path = DEFINITIONS_DIR) -> tuple[PartnershipDefinition, ...]:
    """Every partnership described in the folder (geodata/partnerships/*.json), read once per process."""
    return tuple(read_definition(path) for path in sorted(folder.glob("*.json")))


def seed_statistics() -> SeedSpec | None:
    """What the partnership tables loaded from geodata/seed/ are for (one partnership publishes them), or None."""
    return next((d.seed for d in definitions() if d.seed), None)


def _set_file(entry: dict[str, Any]) -> PartnershipSetFile:
    meta = boundary_store.BoundarySetMeta(
        id=entry["id"], kind=entry["kind"], title=entry["title"],
        valid_from=_date(entry.get("valid_from")), valid_to=_date(entry.get("valid_to")),
        code_field=entry["code_field"], name_field=entry["name_field"], source=entry.get("source", ""),
        licence=entry.get("licence", ONS_LICENCE))
    return PartnershipSetFile(meta, entry["file"])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
