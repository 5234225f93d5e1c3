"""Running a sweep: every point once, durably, on the chosen executor; resumable.

Each point is stored as it finishes (``store.py``); a rerun into the same
folder skips the points already there (same resolved scenario, seed and
virtsim version), so an interrupted sweep loses at most the points in flight.
The aggregated tables are rebuilt from the stored points at the end.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import SweepPlan
from .aggregate import SweepResults, read_sweep, write_sweep_plan, write_sweep_tables
from .executors import EXECUTORS, run_dask, run_process_pool, run_serial
from .folder import check_folder, remove_stale
from .manifest import versions
from .points import point_task
from .progress import points_bar
from .store import CorruptPoint, PointStore

__all__ = ["SweepRun", "run_sweep"]


@dataclass
class SweepRun:
    """How a sweep went: its tables and what this call did."""

    results: SweepResults
    points: int
    """Points in the sweep (scenarios × replications)."""
    already_done: int
    """Points found finished on disk and skipped."""
    ran: int
    failed: int
    corrupt: list[str]
    """Point folders found damaged at the start (they were run again)."""


def run_sweep(plan: SweepPlan, output: str | os.PathLike | None = None, *, executor: str = "serial",
              jobs: int = 1, scheduler: str | None = None, progress: bool = False, force: bool = False) -> SweepRun:
    """Run every point of ``plan`` not already finished in ``output``.

    ``executor``: ``serial``, ``process`` (``jobs`` local processes) or ``dask``
    (a LocalCluster of ``jobs`` workers, or the cluster at ``scheduler``).
    Without ``output`` the points go to a temporary folder that is removed.
    What an earlier run wrote in ``output`` is removed first, but the points of
    this plan (``folder.py``); a folder holding files virtsim did not write
    raises :class:`~virtsim.experiment.folder.ForeignFiles` unless ``force``.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if output is None:
        with tempfile.TemporaryDirectory(prefix="virtsim-sweep-") as tmp:
            run = _run(plan, Path(tmp), executor, jobs, scheduler, progress, force)
            run.results.jobs  # read before the folder goes
            run.results.folder = None
            return run
    return _run(plan, Path(output), executor, jobs, scheduler, progress, force)


def _run(plan: SweepPlan, folder: Path, executor: str, jobs: int, scheduler: str | None,
         progress: bool, force: bool) -> SweepRun:
    previous = check_folder(folder, force=force)
    version = versions()["virtsim"]
    tasks = [point_task(point, virtsim_version=version) for point in plan.points()]
    remove_stale(folder, previous, keep_points={task["key"] for task in tasks})
    folder.mkdir(parents=True, exist_ok=True)
    write_sweep_plan(folder, {
        "source": plan.source, "axes": list(plan.axes), "replications": plan.replications,
        "root_seed": plan.root_seed, "virtsim": version,
        "points": [{k: task[k] for k in ("key", "scenario", "replication", "seed", "values")} for task in tasks],
        **_comparisons(plan),
    })
    store = PointStore(folder)
    store.remove_temporaries()
    todo, corrupt, seen = [], [], set()
    for task in tasks:
        if task["key"] in seen:  # the same scenario and seed twice: one run serves both
            continue
        seen.add(task["key"])
        try:
            if store.is_finished(task["key"]):
                continue
        except CorruptPoint as err:
            corrupt.append(str(err))
        todo.append(task)
    unique = len(seen)
    failures: list[dict] = []
    fresh: dict[str, dict] = {}  # the small tables of the points run now, as stored
    with points_bar(unique, done=unique - len(todo), enabled=progress) as bar:
        def on_result(task: dict, result: dict) -> None:
            point = {k: task[k] for k in ("scenario", "replication", "seed", "values")}
            store.write(task["key"], point, result["files"], result["manifest"])
            fresh[task["key"]] = result["tables"]
            bar.update()

        def on_failure(task: dict, reason: str) -> None:
            failures.append({"scenario": task["scenario"], "replication": task["replication"],
                             "seed": task["seed"], "key": task["key"], "error": reason})
            bar.set_postfix(failed=len(failures))
            bar.update()

        if executor == "serial":
            run_serial(todo, on_result, on_failure)
        elif executor == "process":
            run_process_pool(todo, on_result, on_failure, jobs=jobs)
        else:
            run_dask(todo, on_result, on_failure, workers=jobs, scheduler=scheduler)
    results = read_sweep(folder, known=fresh)
    failures.sort(key=lambda row: (row["scenario"], row["replication"]))
    write_sweep_tables(results, failures)
    return SweepRun(results, points=len(tasks), already_done=unique - len(todo), ran=len(todo) - len(failures),
                    failed=len(failures), corrupt=corrupt)


def _comparisons(plan: SweepPlan) -> dict:
    """The stack comparison of each scenario that has one, for paired differences across replications."""
    found = {str(s.index): s.spec.comparison.model_dump(mode="json") for s in plan.scenarios
             if s.spec.comparison is not None}
    return {"comparisons": found} if found else {}
