"""The error of an input file that cannot be loaded: every problem named, the file refused whole."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

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


class FileProblems(ValueError):
    def __init__(self, file: str, problems: list[str]):
        self.file = without_server_paths(file)
        self.problems = [without_server_paths(problem) for problem in problems[:MAX_REPORTED_PROBLEMS]]
        self.more = max(0, len(problems) - MAX_REPORTED_PROBLEMS)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        extra = f"; and {self.more} more" if self.more else ""
        return f"{self.file}: {'; '.join(self.problems)}{extra}"

    def as_dict(self) -> dict:
        """The details of an HTTP 400 body (the message goes separately)."""
        return {"file": self.file, "problems": self.problems, "more_problems": self.more}
