"""Writing a run's tables and manifest to a folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .folder import RUN_MARKER, TABLE_FILES, check_folder, remove_stale
from .results import Results


def _atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` then rename: never a half file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(results: Results, folder: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``manifest.json`` and one CSV per table into ``folder`` (created if needed).

    ``timeseries.csv`` is written only when the run recorded a time series,
    ``unplaced.csv`` and ``placement.csv`` only when the experiment has a
    ``placement`` section. What an earlier run or sweep wrote there and this
    run does not rewrite is removed (``folder.py``); a folder holding other
    files raises :class:`~virtsim.experiment.folder.ForeignFiles` unless ``force``.
    """
    out = Path(folder)
    previous = check_folder(out, force=force)
    out.mkdir(parents=True, exist_ok=True)
    written = {RUN_MARKER}
    for name, table in results.tables().items():
        _atomic_write(out / TABLE_FILES[name], table.to_csv(index=False))
        written.add(TABLE_FILES[name])
    _atomic_write(out / RUN_MARKER, json.dumps(results.manifest, indent=2, sort_keys=True) + "\n")
    remove_stale(out, previous, keep=written)
    return out
