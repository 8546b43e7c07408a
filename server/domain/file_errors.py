"""The error of an input file that cannot be loaded: every problem named, the file refused whole."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from server.domain.errors import DomainError

MAX_REPORTED_PROBLEMS = 20
# Where the server keeps files: a reader's message (GDAL names the scratch copy) must not show these directories.
# Paths the user gave (zip member names) are theirs and stay as they are.
_SERVER_DIRS = sorted({tempfile.gettempdir(), "/tmp", "/var/tmp", str(Path(__file__).resolve().parents[2])},
                      key=len, reverse=True)
_SERVER_PATH = re.compile("(?:" + "|".join(re.escape(d) for d in _SERVER_DIRS) + r")(?:[/\\][^\s'\":]*)?[/\\]"
                          r"([^/\\\s'\":]+)")


def without_server_paths(text: str) -> str:
    """`text` with every path under a server directory cut to its file name."""
    return _SERVER_PATH.sub(r"\1", text)


class FileProblems(DomainError, ValueError):
    """A file refused whole: every problem named (text, or {file, row, reason} for files read row by row)."""

    max_reported = MAX_REPORTED_PROBLEMS

    def __init__(self, file: str, problems: Sequence[str | Mapping[str, Any]]):
        self.file = without_server_paths(file)
        self.problems = [_without_server_paths(problem) for problem in problems[:self.max_reported]]
        self.more = max(0, len(problems) - self.max_reported)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        extra = f"; and {self.more} more" if self.more else ""
        return f"{self.file}: {'; '.join(map(str, self.problems))}{extra}"

    def details(self) -> dict[str, Any]:
        return {"file": self.file, "problems": self.problems, "more_problems": self.more}


def _without_server_paths(problem: str | Mapping[str, Any]) -> str | dict[str, Any]:
    if isinstance(problem, str):
        return without_server_paths(problem)
    return {**problem, "reason": without_server_paths(str(problem["reason"]))}
