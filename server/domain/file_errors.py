"""The error of an input file that cannot be loaded: every problem named, the file refused whole."""

from __future__ import annotations

MAX_REPORTED_PROBLEMS = 20


class FileProblems(ValueError):
    def __init__(self, file: str, problems: list[str]):
        self.file = file
        self.problems = problems[:MAX_REPORTED_PROBLEMS]
        self.more = max(0, len(problems) - MAX_REPORTED_PROBLEMS)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        extra = f"; and {self.more} more" if self.more else ""
        return f"{self.file}: {'; '.join(self.problems)}{extra}"

    def as_dict(self) -> dict:
        """The details of an HTTP 400 body (the message goes separately)."""
        return {"file": self.file, "problems": self.problems, "more_problems": self.more}
