"""Reading a result folder: the one place that knows how tables lie on disk.

Today a folder is what ``virtsim run -o DIR`` writes: ``manifest.json`` and
one CSV per table. Keeping the reading here lets another layout (Parquet,
a sweep's folders) be switched in without touching the pictures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["NotAResultFolder", "ResultFolder", "read_result_folder"]

_TABLES = ("summary", "workloads", "stacks", "consumers", "jobs", "timeseries")


class NotAResultFolder(ValueError):
    """The folder is missing, or lacks what ``virtsim run -o DIR`` writes."""


@dataclass
class ResultFolder:
    path: Path
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Each table present in the folder, by name (``summary``, ``stacks``, ``timeseries`` …)."""

    @property
    def config(self) -> dict | None:
        """The resolved experiment the results came from, if the manifest has it."""
        return self.manifest.get("config")


def read_result_folder(folder: str | os.PathLike) -> ResultFolder:
    """Read ``manifest.json`` and every table file of ``folder``; raise :class:`NotAResultFolder` if it is none."""
    path = Path(folder)
    if not path.is_dir():
        raise NotAResultFolder(f"{folder}: not a folder")
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
