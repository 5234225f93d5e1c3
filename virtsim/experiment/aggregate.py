"""A sweep's tables, rebuilt from its finished points; ``read_results`` for any output folder.

``sweep.json`` (written when a sweep starts) lists its points in order; the
aggregated tables hold one block of rows per point found whole on disk, in
that order, each row prefixed with the point's ``scenario``, ``replication``
and one column per swept field (its value as written in the file).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..analysis.paired import DIFFERENCE_COLUMNS, paired_rows, summarize_differences
from ..analysis.stats import scenario_table, scenario_workload_table
from .folder import RUN_MARKER, SCENARIOS_FILE, SWEEP_MARKER, TABLE_FILES
from .manifest import canonical_json
from .output import _atomic_write as atomic_write  # the same never-half-written files as a run
from .results import Results
from .store import AGGREGATED_TABLES, SMALL_TABLES, CorruptPoint, PointStore

__all__ = ["SweepResults", "read_results", "write_sweep_tables"]

SWEEP_FORMAT = "virtsim-sweep/1"
SWEEP_TABLES = (*AGGREGATED_TABLES, "differences", "scenarios")
"""The tables a sweep writes as CSVs beside its points (those it has: not None)."""
_FILES = {**TABLE_FILES, "scenarios": SCENARIOS_FILE}
EXTRA_SCENARIO_METRICS = ("hosts_used", "cpu_fragmentation", "energy_j", "cost")
"""Averaged per scenario too when the runs have them (placement, power models, prices)."""


@dataclass
class SweepResults:
    """The tables of a sweep: every finished point's rows, stacked, plus per-scenario means.

    ``jobs`` (one row per job of every point) is read from the points when
    first used.
    """

    summary: pd.DataFrame
    """One row per scenario and replication."""
    workloads: pd.DataFrame
    stacks: pd.DataFrame
    consumers: pd.DataFrame
    scenarios: pd.DataFrame
    """One row per scenario and workload: the mean of each metric over its replications and a 95 % CI."""
    differences: pd.DataFrame | None = None
    """With a ``compare`` section: per scenario, compared workload, stack and metric, the mean paired
    difference from the baseline over the replications and its confidence interval."""
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Points that could not be run, with the reason."""
    problems: list[str] = field(default_factory=list)
    """Points listed in ``sweep.json`` that are missing or corrupt on disk."""
    folder: Path | None = None
    axes: tuple[str, ...] = ()
    points: list[dict] = field(default_factory=list, repr=False)
    """The points whose rows are in the tables (from ``sweep.json``)."""
    placement: pd.DataFrame | None = None
    """With a ``placement`` section: each point's usable hosts, prefixed like the other tables; else None."""
    unplaced: pd.DataFrame | None = None
    """With a ``placement`` section: each point's items left out, and why; else None."""
    links: pd.DataFrame | None = None
    """With a ``network`` section: each point's links (``links.csv``), prefixed like the other tables; else None."""
    _jobs: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per job of every point, prefixed like the other tables."""
        if self._jobs is None:
            store = PointStore(self.folder)
            self._jobs = _concat([_prefixed(store.tables(point["key"], ("jobs",))["jobs"], point, self.axes)
                                  for point in self.points])
        return self._jobs

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {name: getattr(self, name) for name in (*SWEEP_TABLES, "jobs")}
        return {name: table for name, table in tables.items() if table is not None}


def _cell(value):
    """An axis value as a table cell: scalars as they are, anything else as canonical JSON."""
    return value if value is None or isinstance(value, (str, int, float, bool)) else canonical_json(value)


def _prefixed(table: pd.DataFrame, point: dict, axes: tuple[str, ...]) -> pd.DataFrame:
    """``table`` with the point's scenario, replication and axis values as its first columns."""
    prefix = {"scenario": point["scenario"], "replication": point["replication"],
              **{axis: _cell(point["values"][axis]) for axis in axes}}
    table = table.copy()
    for position, (column, value) in enumerate(prefix.items()):
        table.insert(position, column, [value] * len(table))
    return table


def read_sweep(folder: str | os.PathLike, *, known: dict[str, dict] | None = None) -> SweepResults:
    """Rebuild a sweep's tables from ``sweep.json`` and its verified point folders.

    ``known`` holds the small tables of points already in memory (by key), as
    they were stored: those points are not read back.
    """
    out = Path(folder)
    plan = json.loads((out / SWEEP_MARKER).read_text(encoding="utf-8"))
    axes = tuple(plan["axes"])
    store = PointStore(out)
    known = known or {}
    blocks: dict[str, list[pd.DataFrame]] = {name: [] for name in AGGREGATED_TABLES}
    comparisons = plan.get("comparisons", {})
    paired: list[pd.DataFrame] = []
    problems: list[str] = []
    found = []
    for point in plan["points"]:
        try:
            tables = known.get(point["key"]) or store.tables(point["key"], AGGREGATED_TABLES)
        except FileNotFoundError:
            problems.append(f"scenario {point['scenario']} replication {point['replication']}: not run yet")
            continue
        except CorruptPoint as err:
            problems.append(f"scenario {point['scenario']} replication {point['replication']}: {err}")
            continue
        found.append(point)
        for name in AGGREGATED_TABLES:
            if name in tables:
                blocks[name].append(_prefixed(tables[name], point, axes))
        comparison = comparisons.get(str(point["scenario"]))
        if comparison is not None:
            paired.append(_prefixed(paired_rows(tables["workloads"], comparison), point, axes))
    # An optional table is None unless the points have it (a placement study).
    stacked = {name: _concat(frames) if frames or name in SMALL_TABLES else None for name, frames in blocks.items()}
    summary = stacked["summary"]
    keys = ["scenario", *axes]
    host_metrics = ("cpu_utilization", *(m for m in EXTRA_SCENARIO_METRICS if m in summary.columns))
    workloads = stacked["workloads"]
    if len(workloads):  # one row per scenario and workload: unlike workloads are never pooled
        scenarios = scenario_workload_table(summary, workloads, keys, host_metrics)
    elif len(summary):  # a placement study without jobs: the hosts' metrics alone
        scenarios = scenario_table(summary, keys, host_metrics)
    else:
        scenarios = pd.DataFrame(columns=[*keys, "workload"])
    differences = None
    if comparisons:
        level = next(iter(comparisons.values()))["level"]
        differences = (summarize_differences(_concat(paired), keys, level) if paired
                       else pd.DataFrame(columns=[*keys, *DIFFERENCE_COLUMNS]))
    failures_path = out / TABLE_FILES["failures"]
    failures = pd.read_csv(failures_path) if failures_path.exists() else pd.DataFrame()
    return SweepResults(**stacked, scenarios=scenarios, differences=differences, failures=failures,
                        problems=problems, folder=out, axes=axes, points=found)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame()
    # Categorical columns (stack, workload, target) keep their type across points.
    return pd.concat(frames, ignore_index=True)


def write_sweep_tables(results: SweepResults, failures: list[dict]) -> None:
    """Write the aggregated CSVs beside the points (and ``failures.csv`` if any point failed)."""
    out = results.folder
    for name in SWEEP_TABLES:
        table = getattr(results, name)
        if table is not None:
            atomic_write(out / _FILES[name], table.to_csv(index=False))
    failures_path = out / TABLE_FILES["failures"]
    if failures:
        table = pd.DataFrame(failures)
        atomic_write(failures_path, table.to_csv(index=False))
        results.failures = table
    else:
        failures_path.unlink(missing_ok=True)
        results.failures = pd.DataFrame()


def write_sweep_plan(folder: Path, plan: dict) -> None:
    atomic_write(folder / SWEEP_MARKER, json.dumps({"format": SWEEP_FORMAT, **plan}, indent=2) + "\n")


def read_results(folder: str | os.PathLike) -> SweepResults | Results:
    """The tables in an output folder, as DataFrames.

    A sweep's folder gives :class:`SweepResults` (corrupt or missing points are
    left out, listed in ``problems`` and warned about); a single run's folder
    (``virtsim run FILE -o DIR``) gives :class:`Results` read from its CSVs.
    """
    out = Path(folder)
    if (out / SWEEP_MARKER).exists():
        results = read_sweep(out)
        if results.problems:
            warnings.warn(f"{out}: {len(results.problems)} point(s) left out: " + "; ".join(results.problems[:5]),
                          stacklevel=2)
        return results
    if (out / RUN_MARKER).exists() and (out / TABLE_FILES["summary"]).exists():
        tables = {name: pd.read_csv(out / file) for name, file in TABLE_FILES.items() if (out / file).exists()}
        manifest = json.loads((out / RUN_MARKER).read_text(encoding="utf-8"))
        return Results(**tables, manifest=manifest)
    raise FileNotFoundError(f"{out}: no {SWEEP_MARKER} (a sweep) or {RUN_MARKER} and {TABLE_FILES['summary']} "
                            "(a run) here")
