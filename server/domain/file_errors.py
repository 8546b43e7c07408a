"""The error of an input file that cannot be loaded: every problem named, the file refused whole."""

from __future__ import annotations

import re

MAX_REPORTED_PROBLEMS = 20
# An absolute path in a reader's message (GDAL names the server's scratch copy): only its last part is the user's.
_SERVER_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[/\\][^/\\\s'\":]+)+[/\\]([^/\\\s'\":]+)")


def without_server_paths(text: str) -> str:
    """`text` with every absolute path cut to its file name, so errors never show where the server keeps files."""
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
