"""Writing a benchmark's section of BENCHMARKS.md (shared by the benchmark scripts)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_section(title: str, text: str) -> Path:
    """Replace the section headed `title` (or append it) with `text`, leaving the other sections alone."""
    path = ROOT / "BENCHMARKS.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(existing):
        updated = pattern.sub(lambda _match: text + "\n", existing).rstrip() + "\n"
    else:
        updated = existing.rstrip() + "\n\n" + text
    path.write_text(updated, encoding="utf-8")
    return path


@contextmanager
def worktree_at(commit: str) -> Iterator[Path]:
    """A detached git worktree of `commit` (the code to compare with), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="csp-atlas-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)
