"""Partnerships: a Community Safety Partnership is a slug, a name and its districts (ONS local authority district
codes); a deployment's partnerships are described in data (geodata/partnerships/*.json), never in code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from server.domain.errors import DomainError
from server.store import boundaries as boundary_store

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
class PartnershipDefinition:
    slug: str
    name: str
    lad_codes: tuple[str, ...]
    is_default: bool
    default_set: str | None
    sets: tuple[PartnershipSetFile, ...]
    imd_file: str | None = None


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
    """A partnership described in JSON (geodata/partnerships/maidstone.json shows every field)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sets = tuple(_set_file(entry) for entry in data.get("boundary_sets", []))
        definition = PartnershipDefinition(
            slug=check_slug(data["slug"]), name=str(data["name"]).strip(),
            lad_codes=check_lad_codes(list(data["lad_codes"])), is_default=bool(data.get("default", False)),
            default_set=data.get("default_set"), sets=sets, imd_file=data.get("imd_file"))
    except (ValueError, KeyError, TypeError, PartnershipDefinitionError) as error:
        raise PartnershipDefinitionError(f"{path.name}: {error}") from None
    if definition.default_set and definition.default_set not in {s.meta.id for s in sets}:
        raise PartnershipDefinitionError(f"{path.name}: default_set '{definition.default_set}' is not one of its "
                                         "boundary_sets")
    return definition


def _set_file(entry: dict[str, Any]) -> PartnershipSetFile:
    meta = boundary_store.BoundarySetMeta(
        id=entry["id"], kind=entry["kind"], title=entry["title"],
        valid_from=_date(entry.get("valid_from")), valid_to=_date(entry.get("valid_to")),
        code_field=entry["code_field"], name_field=entry["name_field"], source=entry.get("source", ""),
        licence=entry.get("licence", ONS_LICENCE))
    return PartnershipSetFile(meta, entry["file"])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
