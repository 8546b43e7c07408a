"""The assessment's statements tied to places (partnership annotations) and the borough-level figures of hotspot
layers, read from geodata/ and loaded by `scripts/atlas reference load` (again only when a file changes).

Each statement keeps its quote exactly as printed, the figure it gives (None where it prints none), its paragraph
and the line of the seed text; tests/test_annotations.py finds every quote and figure at that line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.config import ROOT
from server.domain.boundary_files import file_checksum
from server.domain.csv_cells import csv_bytes
from server.domain.errors import DomainError
from server.store import annotations as store
from server.store import boundaries as boundary_store
from server.store import hotspots as hotspot_store
from server.store.db import transaction

ANNOTATIONS_FILE = ROOT / "geodata" / "partnership_annotations.csv"
LAYER_STATISTICS_FILE = ROOT / "geodata" / "hotspot_layer_statistics.csv"
KINDS = {"lsoa-of-concern": "LSOA of concern", "district-priority": "District priority area"}
ASSESSMENT = "Safer Maidstone Partnership, Strategic Assessment 2024/25"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
AREA_CODE = re.compile(r"^[A-Z][0-9]{8}$")
TEXT_LIMITS = {"title": 200, "paragraph": 40, "quote": 2000, "figure": 200, "note": 1000, "label": 200, "unit": 80,
               "period": 40, "geography": 80}


class AnnotationFileError(DomainError, ValueError):
    """A row of an annotations file that cannot be loaded: names the file, the line and the field."""


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line of the file, row) for each row after the leading `#` lines."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = next((index for index, line in enumerate(lines) if not line.startswith("#")), len(lines))
    reader = csv.DictReader(lines[comments:])
    return [(comments + reader.line_num, row) for row in reader]


def _text(path: Path, line: int, row: dict[str, str], field: str, required: bool = True) -> str:
    value = (row.get(field) or "").strip()
    if required and not value:
        raise AnnotationFileError(f"{path.name} line {line}: '{field}' is empty")
    if len(value) > TEXT_LIMITS.get(field, 80):
        raise AnnotationFileError(f"{path.name} line {line}: '{field}' is longer than {TEXT_LIMITS.get(field, 80)}")
    return value


def _slug(path: Path, line: int, row: dict[str, str], field: str) -> str:
    value = _text(path, line, row, field)
    if not SLUG.match(value):
        raise AnnotationFileError(f"{path.name} line {line}: '{field}' must be lower-case letters, digits and "
                                  f"hyphens, not {value!r}")
    return value


def _line_number(path: Path, line: int, row: dict[str, str]) -> int:
    value = _text(path, line, row, "source_line")
    if not value.isdigit() or int(value) < 1:
        raise AnnotationFileError(f"{path.name} line {line}: 'source_line' must be a line number, not {value!r}")
    return int(value)


def read_annotations(path: Path = ANNOTATIONS_FILE) -> list[dict[str, Any]]:
    result, seen = [], set()
    for line, row in _rows(path):
        kind = _text(path, line, row, "kind")
        if kind not in KINDS:
            raise AnnotationFileError(f"{path.name} line {line}: 'kind' must be one of {', '.join(KINDS)}")
        codes = _text(path, line, row, "area_codes").split()
        bad = [code for code in codes if not AREA_CODE.match(code)]
        if bad:
            raise AnnotationFileError(f"{path.name} line {line}: 'area_codes' has {bad[0]!r}, not an ONS code")
        item = {"id": _slug(path, line, row, "id"), "kind": kind, "title": _text(path, line, row, "title"),
                "boundary_set": _slug(path, line, row, "boundary_set"), "area_codes": codes,
                "paragraph": _text(path, line, row, "paragraph"), "source_line": _line_number(path, line, row),
                "quote": _text(path, line, row, "quote"),
                "figure": _text(path, line, row, "figure", required=False) or None,
                "note": _text(path, line, row, "note", required=False)}
        if item["id"] in seen:
            raise AnnotationFileError(f"{path.name} line {line}: 'id' {item['id']!r} is used twice")
        seen.add(item["id"])
        result.append(item)
    return result


def read_layer_statistics(path: Path = LAYER_STATISTICS_FILE) -> list[dict[str, Any]]:
    result = []
    for line, row in _rows(path):
        value = _text(path, line, row, "value")
        try:
            number = float(value)
        except ValueError:
            raise AnnotationFileError(f"{path.name} line {line}: 'value' must be a number, not {value!r}") from None
        quote = _text(path, line, row, "quote")
        if value not in quote:
            raise AnnotationFileError(f"{path.name} line {line}: the quote does not contain the value {value}")
        result.append({"layer_id": _slug(path, line, row, "layer_id"), "key": _slug(path, line, row, "key"),
                       "label": _text(path, line, row, "label"), "value": number,
                       "unit": _text(path, line, row, "unit"), "period": _text(path, line, row, "period"),
                       "geography": _text(path, line, row, "geography"),
                       "paragraph": _text(path, line, row, "paragraph"),
                       "source_line": _line_number(path, line, row), "quote": quote})
    return result


def _fingerprint(path: Path) -> str:
    return f"{ASSESSMENT} [geodata/{path.name} sha256:{file_checksum(path)[:12]}]"


def load_annotations(engine: Engine, log: Callable[[str], None] = print, path: Path = ANNOTATIONS_FILE) -> None:
    """Replace the annotations when the file changed; skipped (with a message) until their boundary sets exist."""
    rows, source = read_annotations(path), _fingerprint(path)
    with transaction(engine) as session:
        if store.annotations_source(session) == source:
            return
        for row in rows:
            if boundary_store.get_boundary_set(session, row["boundary_set"]) is None:
                log(f"annotations: not loaded, boundary set '{row['boundary_set']}' is missing")
                return
            missing = store.missing_area_codes(session, row["boundary_set"], row["area_codes"])
            if missing:
                raise AnnotationFileError(f"{path.name}: annotation '{row['id']}' names {', '.join(missing)}, "
                                          f"not in '{row['boundary_set']}'")
        count = store.replace_annotations(session, rows, source)
    log(f"annotations: {count} statements from geodata/{path.name}")


def load_layer_statistics(engine: Engine, log: Callable[[str], None] = print,
                          path: Path = LAYER_STATISTICS_FILE) -> None:
    rows, source = read_layer_statistics(path), _fingerprint(path)
    with transaction(engine) as session:
        if store.layer_statistics_source(session) == source:
            return
        unknown = sorted({row["layer_id"] for row in rows if hotspot_store.get_layer(session, row["layer_id"]) is None})
        if unknown:
            raise AnnotationFileError(f"{path.name}: no hotspot layer {', '.join(unknown)}")
        count = store.replace_layer_statistics(session, rows, source)
    log(f"hotspot layer figures: {count} from geodata/{path.name}")


def annotations_collection(session: Session) -> dict[str, Any]:
    features = store.annotation_features(session)
    for feature in features:
        feature["properties"]["kind_title"] = KINDS[feature["properties"]["kind"]]
    return {"type": "FeatureCollection", "features": features,
            "metadata": {"source": f"{ASSESSMENT}; quotes as printed, with paragraph and line of "
                                   "../shared/seeds/002_811f2f14a1d95052.txt", "kinds": KINDS}}


def with_annotations(layer: dict[str, Any], collection: dict[str, Any]) -> dict[str, Any]:
    """The layer with the annotations to outline on a static map, numbered as in its notes (and on the web map)."""
    listed = [f"{number}. {f['properties']['title']} (line {f['properties']['source_line']})"
              for number, f in enumerate(collection["features"], start=1)]
    if listed:
        listed.insert(0, "Outlined: statements of the Strategic Assessment 2024/25 (its line; quotes in "
                         "GET /api/annotations)")
    metadata = {**layer["metadata"], "notes": [*layer["metadata"]["notes"], *listed]}
    return {**layer, "metadata": metadata, "annotations": collection}


def annotations_csv(collection: dict[str, Any]) -> bytes:
    header = ["number", "id", "kind", "title", "figure", "paragraph", "source_line", "boundary_set", "area_codes",
              "quote", "note"]
    rows = [[number, p["id"], p["kind"], p["title"], p["figure"] or "No figure printed", p["paragraph"],
             p["source_line"], p["boundary_set"], " ".join(p["area_codes"]), p["quote"], p["note"]]
            for number, p in enumerate((f["properties"] for f in collection["features"]), start=1)]
    return csv_bytes(header, rows)
