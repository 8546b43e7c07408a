"""The layers of the server: SQL lives in server/store, which knows nothing of the domain; the domain knows nothing of
Flask. Checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.config import ROOT


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("store", ("server.domain", "flask", "server.api")),
                                                    ("domain", ("flask", "server.api"))])
def test_a_layer_imports_nothing_above_it(package, forbidden):
    offenders = {path.name: sorted(m for m in _imported_modules(path) if m.startswith(forbidden))
                 for path in sorted((ROOT / "server" / package).glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}
