"""Reading a result folder: the one place that knows how tables lie on disk.

A folder is what ``virtsim run -o DIR`` writes: for a single run
``manifest.json`` and one CSV per table; for a sweep ``sweep.json`` and a
Parquet folder per point, read through :func:`virtsim.read_results`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["NotAResultFolder", "ResultFolder", "read_result_folder"]

_TABLES = ("summary", "workloads", "stacks", "consumers", "jobs", "timeseries", "placement", "links")
"""The CSVs read when present (others, and columns not drawn, are left alone)."""


class NotAResultFolder(ValueError):
    """The folder is missing, or lacks what ``virtsim run -o DIR`` writes."""


@dataclass
class ResultFolder:
    path: Path
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Each table present in the folder, by name (``summary``, ``stacks``, ``timeseries`` …)."""
    axes: tuple[str, ...] = ()
    """A sweep's swept fields (columns of its tables); empty for a single run."""

    @property
    def config(self) -> dict | None:
        """The resolved experiment the results came from, if the manifest has it."""
        return self.manifest.get("config")


def read_result_folder(folder: str | os.PathLike) -> ResultFolder:
    """Read ``manifest.json`` and every table file of ``folder``; raise :class:`NotAResultFolder` if it is none."""
    path = Path(folder)
    if not path.is_dir():
        raise NotAResultFolder(f"{folder}: not a folder")
    if (path / "sweep.json").is_file():
        return _read_sweep_folder(path)
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise NotAResultFolder(f"{folder}: not a result folder (no manifest.json); "
                               f"make one with: virtsim run FILE -o {folder}")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotAResultFolder(f"{manifest_file}: not a readable manifest: {err}") from None
    if not isinstance(manifest, dict):
        raise NotAResultFolder(f"{manifest_file}: not a manifest (expected a JSON object)")
    tables = {}
    for name in _TABLES:
        table_file = path / f"{name}.csv"
        if table_file.is_file():
            try:
                tables[name] = pd.read_csv(table_file)
            except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
                raise NotAResultFolder(f"{table_file}: not a readable table: {err}") from None
            except pd.errors.EmptyDataError:
                tables[name] = pd.DataFrame()
    if "summary" not in tables:
        raise NotAResultFolder(f"{folder}: not a result folder (no summary.csv beside manifest.json)")
    return ResultFolder(path, manifest, tables)


def _read_sweep_folder(path: Path) -> ResultFolder:
    """A sweep's folder: its stacked tables (a row per scenario and replication, a column per axis).

    The manifest (for the stack diagram) is the first stored point's: every
    point is the same experiment but for the swept values.
    """
    from ..experiment.aggregate import read_results

    results = read_results(path)
    manifest: dict = {}
    for point in results.points:
        point_manifest = path / "points" / point["key"] / "manifest.json"
        if point_manifest.is_file():
            manifest = json.loads(point_manifest.read_text(encoding="utf-8"))
            break
    tables = {"summary": results.summary, "workloads": results.workloads, "stacks": results.stacks,
              "consumers": results.consumers, "scenarios": results.scenarios}
    return ResultFolder(path, manifest, {name: table for name, table in tables.items() if table is not None},
                        axes=tuple(results.axes))
