"""The one error the data-file readers raise: what is wrong in which file, line by line.

Readers know files, not experiment files: the config layer turns a
:class:`DataFileError` into located problems at the key that named the file
(``workloads[0].arrivals.path: jobs.csv line 7: …``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataFileError", "FileProblem"]


@dataclass(frozen=True)
class FileProblem:
    """One thing wrong in a data file; ``line`` is 1-based when known."""

    message: str
    line: int | None = None

    def __str__(self) -> str:
        return self.message if self.line is None else f"{self.message}  (line {self.line})"


class DataFileError(ValueError):
    """A data file (arrivals, samples, a trace, a pod list) has one or more problems.

    ``file`` names it; ``problems`` lists every problem found (readers stop
    after a bounded number). ``str(err)`` is a readable multi-line report.
    """

    def __init__(self, problems: list[FileProblem], file: str):
        self.problems = list(problems)
        self.file = file
        count = len(self.problems)
        head = f"{file}: {count} problem{'' if count == 1 else 's'}"
        super().__init__("\n".join([head, *(f"  {problem}" for problem in self.problems)]))

    def __reduce__(self):  # keep problems intact when pickled (e.g. from a worker process)
        return (type(self), (self.problems, self.file))
