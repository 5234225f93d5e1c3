"""Sample files for empirical distributions: one time in seconds per line."""

from __future__ import annotations

import math
from pathlib import Path

from ..wording import format_value
from .errors import DataFileError, FileProblem

__all__ = ["load_samples_file"]

MAX_PROBLEMS = 20


def load_samples_file(path: str | Path) -> tuple[float, ...]:
    """Read samples (seconds, finite, ≥ 0), one per line.

    A first line that is not a number is taken as a header; blank lines are
    skipped; in a CSV the first column is used. Raises ``DataFileError`` naming
    each bad line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError([FileProblem(f"file not found: {path}")], str(path))
    samples: list[float] = []
    problems: list[FileProblem] = []
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            cell = line.split(",", 1)[0].strip()
            if not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                if number == 1:
                    continue  # header
                value = math.nan
            if math.isfinite(value) and value >= 0:
                samples.append(value)
                continue
            bad += 1
            if bad <= MAX_PROBLEMS:
                problems.append(FileProblem(f"must be a number of seconds ≥ 0, got {format_value(cell)}", number))
    if bad > MAX_PROBLEMS:
        problems.append(FileProblem(f"... and {bad - MAX_PROBLEMS} more problem(s) in this file"))
    if not samples and not problems:
        problems.append(FileProblem("file has no samples"))
    if problems:
        raise DataFileError(problems, str(path))
    return tuple(samples)
