"""Where resolution records problems, and what it needs to place them and to find files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..data.errors import DataFileError
from .errors import Problem
from .translate import path_text
from .yaml_source import LineIndex

__all__ = ["Context"]

T = TypeVar("T")


@dataclass
class Context:
    """Where problems go, and what is needed to place them and to find files."""

    base_dir: Path
    lines: LineIndex | None = None
    problems: list[Problem] = field(default_factory=list)

    def add(self, loc: tuple, message: str) -> None:
        line = self.lines.line(loc) if self.lines else None
        self.problems.append(Problem(path_text(loc), message, line))

    def add_file_problems(self, loc: tuple, shown: str, err: DataFileError) -> None:
        """Problems inside a data file, re-homed at the key that names the file."""
        for problem in err.problems:
            where = f"{shown} line {problem.line}" if problem.line else shown
            self.add(loc, f"{where}: {problem.message}")

    def read(self, loc: tuple, read: Callable[..., T], *args, shown: str | None = None, **kwargs) -> T | None:
        """``read(*args, **kwargs)``, a reader of ``virtsim.data``; None if the file has problems, each then
        re-homed at ``loc`` (the key naming the file) as ``shown`` (default: the file the reader names)."""
        try:
            return read(*args, **kwargs)
        except DataFileError as err:
            self.add_file_problems(loc, err.file if shown is None else shown, err)
            return None

    def file(self, written: str) -> Path:
        path = Path(written).expanduser()
        return path if path.is_absolute() else self.base_dir / path
