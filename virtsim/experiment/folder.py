"""An output folder reused by a later run: what virtsim wrote there before, and clearing it.

A folder is virtsim's when it holds the marker a run or a sweep writes:
``manifest.json`` (a run's, with its ``config_sha256``) or ``sweep.json`` (a
sweep's, with its ``format``). Only then are the files virtsim writes under
their known names taken for its own: the tables, the two markers,
``scenarios.csv``, ``points/`` and the pictures of ``virtsim plot``. Anything
else, or any file at all in a folder without a marker, belongs to someone
else and is never deleted; a run refuses such a folder unless forced. (Once
a forced run has marked the folder, a file of someone else's under one of
virtsim's names can no longer be told apart, and a later run replaces it.)

Before a run writes, what an earlier run left and this one will not rewrite
is removed, so a folder never mixes two runs: a single run after a sweep
leaves no ``sweep.json`` or ``points/``, a sweep after a single run no
``jobs.csv``. A sweep keeps the points of its own plan, so an interrupted
sweep resumes; points of another plan are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

__all__ = ["ForeignFiles", "PLOT_FILES", "POINTS_DIR", "POINT_TMP_PREFIX", "RUN_MARKER", "SCENARIOS_FILE",
           "SWEEP_FILES", "SWEEP_MARKER", "TABLE_FILES", "check_folder", "remove_stale", "virtsim_files"]

RUN_MARKER = "manifest.json"
SWEEP_MARKER = "sweep.json"
POINTS_DIR = "points"
POINT_TMP_PREFIX = ".tmp-"
"""A point being written: ``points/.tmp-<key>-<pid>``, renamed to ``points/<key>`` when whole."""
TABLE_FILES = {"summary": "summary.csv", "workloads": "workloads.csv", "stacks": "stacks.csv",
               "consumers": "consumers.csv", "jobs": "jobs.csv", "failures": "failures.csv",
               "scaling": "scaling.csv", "timeseries": "timeseries.csv", "unplaced": "unplaced.csv",
               "placement": "placement.csv", "differences": "differences.csv", "links": "links.csv",
               "migrations": "migrations.csv", "consolidation": "consolidation.csv"}
"""The file of each table a run (or a sweep) writes; a sweep's ``failures.csv`` lists its failed points."""
SCENARIOS_FILE = "scenarios.csv"
SWEEP_FILES = (SCENARIOS_FILE,)
"""Files only a sweep writes besides its tables and marker."""
PLOT_FILES = ("stack-diagram.png", "breakdown.png", "utilization.png", "response-vs-load.png", "heatmap.png",
              "breakdown-by-scenario.png", "energy-by-policy.png", "topology.png")
"""What ``virtsim plot DIR`` writes into DIR (``virtsim.plots.report.PICTURES``; a test keeps them equal)."""
_POINT = re.compile(rf"[0-9a-f]{{64}}|{re.escape(POINT_TMP_PREFIX)}.*")
_ATOMIC_TMP = re.compile(r"\..+\.[^.]+")  # what an atomic write leaves when killed: .summary.csv.k2j3l


class ForeignFiles(OSError):
    """The output folder holds files virtsim did not write."""

    def __init__(self, folder: Path, names: list[str]):
        self.folder, self.names = folder, names
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        super().__init__(f"{folder}: holds files virtsim did not write ({shown}); choose an empty or new folder, "
                         "or pass --force to write beside them (virtsim then replaces only its own files)")


def _is_marked(folder: Path) -> bool:
    """True if ``folder`` holds a run's manifest or a sweep's plan."""
    for name, key in ((RUN_MARKER, "config_sha256"), (SWEEP_MARKER, "format")):
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and key in data:
            return True
    return False


def virtsim_files(folder: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """(what virtsim wrote in ``folder``, the names of everything else); both empty if there is no folder."""
    out = Path(folder)
    if not out.is_dir():
        return [], []
    entries = sorted(out.iterdir())
    if not _is_marked(out):
        return [], [e.name for e in entries]
    known = {*TABLE_FILES.values(), RUN_MARKER, SWEEP_MARKER, *SWEEP_FILES, *PLOT_FILES}
    ours, foreign = [], []
    for entry in entries:
        if entry.name == POINTS_DIR and entry.is_dir():
            inside = sorted(entry.iterdir())
            ours += [p for p in inside if p.is_dir() and _POINT.fullmatch(p.name)]
            foreign += [f"{POINTS_DIR}/{p.name}" for p in inside if not (p.is_dir() and _POINT.fullmatch(p.name))]
        elif entry.is_file() and (entry.name in known or _ATOMIC_TMP.fullmatch(entry.name)
                                  and entry.name[1:].rsplit(".", 1)[0] in known):
            ours.append(entry)
        else:
            foreign.append(entry.name)
    return ours, foreign


def check_folder(folder: str | os.PathLike, *, force: bool = False) -> list[Path]:
    """What virtsim wrote in ``folder`` before; raises :class:`ForeignFiles` if it holds anything else (unless ``force``)."""
    ours, foreign = virtsim_files(folder)
    if foreign and not force:
        raise ForeignFiles(Path(folder), foreign)
    return ours


def remove_stale(folder: str | os.PathLike, previous: list[Path], *, keep: set[str] = frozenset(),
                 keep_points: set[str] = frozenset()) -> None:
    """Remove the ``previous`` files of :func:`check_folder` but those named in ``keep`` and the points in ``keep_points``.

    ``previous`` is taken before the new run writes, so a file of someone else's
    that a forced run found under one of virtsim's names is not taken for its own.
    """
    out = Path(folder)
    for path in previous:
        if path.parent == out:
            if path.name not in keep:
                path.unlink(missing_ok=True)
        elif path.name not in keep_points:
            shutil.rmtree(path, ignore_errors=True)
    points = out / POINTS_DIR
    if points.is_dir() and not any(points.iterdir()):
        points.rmdir()
