"""Arrivals files: one job per CSV row, columns ``time_s,target,cpu_s``.

A file may hold millions of rows, so it is read once with pandas and checked
with vectorised operations; the parsed columns travel with the resolved spec
(``FileArrivals.table``) so the simulator never parses the file again.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..wording import closest, format_value
from .errors import DataFileError, FileProblem

__all__ = ["COLUMNS", "ArrivalsTable", "load_arrivals_file"]

COLUMNS = ("time_s", "target", "cpu_s")
MAX_PROBLEMS = 20


@dataclass(frozen=True, eq=False)
class ArrivalsTable:
    """The jobs of an arrivals file, in file order (times non-decreasing).

    ``target_names[target_codes[i]]`` is the target of job ``i``.
    """

    times_s: np.ndarray  # float64, arrival times in seconds
    target_codes: np.ndarray  # int32, indices into target_names
    target_names: tuple[str, ...]
    cpu_s: np.ndarray  # float64, CPU work per job in seconds at reference speed
    sha256: str  # of the file's bytes

    def __len__(self) -> int:
        return len(self.times_s)

    @property
    def targets(self) -> np.ndarray:
        """The target of each job as strings (built on demand)."""
        return np.asarray(self.target_names, dtype=object)[self.target_codes]


def load_arrivals_file(
    path: str | Path, valid_targets: Collection[str], default_target: str | None = None
) -> ArrivalsTable:
    """Read and check an arrivals file.

    Every row must have a finite ``time_s`` ≥ 0 (non-decreasing down the file),
    a ``target`` among ``valid_targets`` (an empty cell means
    ``default_target`` when one is given) and a finite ``cpu_s`` > 0. Blank
    lines are ignored. Raises ``DataFileError`` listing the bad rows by line
    number (at most 20, then a count of the rest).
    """
    path = Path(path)

    def fail(message: str, line: int | None = None) -> DataFileError:
        return DataFileError([FileProblem(message, line)], str(path))

    if not path.is_file():
        raise fail(f"file not found: {path}")
    header = _header(path)
    if header is None or sorted(header) != sorted(COLUMNS):
        raise fail(f"header must be exactly {','.join(COLUMNS)} (in any order), got {format_value(header)}", 1)
    try:
        frame, raw = _read(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise fail(f"cannot parse CSV: {err}") from None

    times = frame["time_s"].to_numpy(dtype=np.float64)
    cpu = frame["cpu_s"].to_numpy(dtype=np.float64)
    target = frame["target"]
    source = raw if raw is not None else frame
    blank = (source["time_s"].isna() & source["cpu_s"].isna() & target.isna()).to_numpy()
    if default_target is not None and target.isna().any():
        if default_target not in target.cat.categories:
            target = target.cat.add_categories([default_target])
        target = target.fillna(default_target)
    codes = target.cat.codes.to_numpy()
    names = [str(name) for name in target.cat.categories]


    def show(column: str, i: int) -> str:
        return _shown(source[column].iat[i])

    checks: list[tuple[np.ndarray, Callable[[int], str]]] = []
    bad_time = ~blank & ~(np.isfinite(times) & (times >= 0))
    bad_cpu = ~blank & ~(np.isfinite(cpu) & (cpu > 0))
    checks.append((bad_time, lambda i: f"time_s must be a finite number ≥ 0, got {show('time_s', i)}"))
    checks.append((bad_cpu, lambda i: f"cpu_s must be a finite number > 0, got {show('cpu_s', i)}"))
    checks.append((~blank & (codes < 0), lambda i: "target is empty"))
    valid = set(valid_targets)
    for code, name in enumerate(names):
        if name not in valid:
            match = closest(name, valid)
            message = f"unknown target {name!r}" + (f" (did you mean {match!r}?)" if match else "")
            checks.append((codes == code, lambda i, message=message: message))
    kept = np.flatnonzero(~blank)
    earlier = kept[1:][times[kept[1:]] < times[kept[:-1]]]
    checks.append((earlier, lambda i: f"time_s {times[i]:g} is earlier than the previous row's"))

    problems, total = [], 0
    for mask, message in checks:
        rows = mask if mask.dtype != bool else np.flatnonzero(mask)
        total += len(rows)
        problems.extend((int(i) + 2, message(int(i))) for i in rows[:MAX_PROBLEMS])
    if len(kept) == 0:
        raise fail("file has no jobs (only a header)")
    if total:
        problems.sort()
        found = [FileProblem(message, line) for line, message in problems[:MAX_PROBLEMS]]
        if total > MAX_PROBLEMS:
            found.append(FileProblem(f"... and {total - MAX_PROBLEMS} more problem(s) in this file"))
        raise DataFileError(found, str(path))

    return ArrivalsTable(
        times_s=np.ascontiguousarray(times[kept]),
        target_codes=codes[kept].astype(np.int32),
        target_names=tuple(names),
        cpu_s=np.ascontiguousarray(cpu[kept]),
        sha256=_sha256(path),
    )


def _header(path: Path) -> list[str] | None:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        row = next(csv.reader(handle), None)
    return None if row is None else [cell.strip() for cell in row]


def _read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The columns as float64/category, plus the text of the number columns if some cell is not a number."""
    options = dict(skip_blank_lines=False, skipinitialspace=True, encoding="utf-8")
    try:
        frame = pd.read_csv(
            path, dtype={"time_s": np.float64, "cpu_s": np.float64, "target": "category"}, **options
        )
        return frame, None
    except ValueError:
        pass  # some cell is not a number: read the numbers as text to find which
    raw = pd.read_csv(path, dtype={"time_s": object, "cpu_s": object, "target": "category"}, **options)
    frame = pd.DataFrame(
        {
            "time_s": pd.to_numeric(raw["time_s"], errors="coerce"),
            "cpu_s": pd.to_numeric(raw["cpu_s"], errors="coerce"),
            "target": raw["target"],
        }
    )
    return frame, raw


def _shown(value: object) -> str:
    if isinstance(value, float):
        return "an empty cell" if np.isnan(value) else format_value(float(value))
    return format_value(value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
