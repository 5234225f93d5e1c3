"""Problems found in an experiment file, and the error that carries them all."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.errors import DataFileError
from ..wording import format_value

__all__ = ["ConfigError", "Problem", "format_value", "from_data_error"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong.

    ``path`` uses the ``hosts[0].vms[1].vcpus`` form (empty for the whole file);
    ``line`` is the 1-based line in the YAML file when known.
    """

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        line = f"  (line {self.line})" if self.line is not None else ""
        return f"{where}{self.message}{line}"


class ConfigError(Exception):
    """An experiment or catalog file has one or more problems.

    ``problems`` lists every problem found; ``source`` names the file (or
    ``"<dict>"``). ``str(err)`` is a readable multi-line report.
    """

    def __init__(self, problems: list[Problem], source: str = "<dict>"):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._report())

    def __reduce__(self):  # keep problems intact when pickled (e.g. from a worker process)
        return (type(self), (self.problems, self.source))

    def _report(self) -> str:
        count = len(self.problems)
        head = f"{self.source}: {count} problem{'' if count == 1 else 's'}"
        return "\n".join([head, *(f"  {problem}" for problem in self.problems)])

    def __str__(self) -> str:
        return self._report()


def from_data_error(err: DataFileError) -> ConfigError:
    """A data file's problems as a :class:`ConfigError` about that file (when no key names it)."""
    return ConfigError([Problem("", p.message, p.line) for p in err.problems], err.file)
