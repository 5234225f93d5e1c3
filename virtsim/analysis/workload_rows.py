"""The workloads table: one row per workload of the job log, built-in or custom."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..workloads.registry import workload_type
from .availability import all_closed_s, availability, mean_replicas
from .consumers import capacity_per_s
from .jobs import WORKLOAD_COLUMNS, job_stats
from .stability import STABLE_NOTE, stability

__all__ = ["overall_stability", "workload_rows"]


def workload_rows(sim, jobs: dict) -> list[dict]:
    """A row per workload of the finished simulation ``sim``: its jobs, availability, its type's own
    columns and its stability verdict."""
    start, end = sim.warmup.time_s, sim.end.time_s
    measured = end - start
    gates = sim.startup.gates
    workload_codes, target_codes = jobs["workload"].codes, jobs["target"].codes
    specs = {w.name: w for w in sim.spec.workloads}  # custom workloads (contexts) have none
    rows = []
    for code, name in enumerate(sim.log.workload_names):
        mine = np.flatnonzero(workload_codes == code)
        columns = {k: jobs[k][mine] for k in WORKLOAD_COLUMNS}
        w = specs.get(name)
        row = {"workload": name}
        row.update(job_stats(columns, measured))
        targets = (list(w.target_paths) if w is not None else []) \
            or [sim.log.target_names[t] for t in pd.unique(target_codes[mine])]
        if w is not None and w.replicas is not None:  # a service is up while any of its replicas serves
            row["availability"] = 1.0 - all_closed_s(targets, gates, start, end) / measured if measured > 0 \
                else float("nan")
            initial = w.autoscale.min_replicas if w.autoscale is not None else len(w.replicas)
            row["replicas_mean"] = mean_replicas(initial, sim.scaling, name, start, end)
        else:
            row["availability"] = availability(targets, gates, start, end)
        own = workload_type(w.type).columns if w is not None else None
        if own is not None:
            row.update(own(w, columns))
        row.update(stability(w, columns, start, end, capacity_per_s(sim, targets)))
        rows.append(row)
    return rows


def overall_stability(rows: list[dict]) -> dict:
    """The summary's verdict: stable if every workload is; the notes of those that are not."""
    unstable = [f"{row['workload']}: {row['stability_note']}" for row in rows if not row["stable"]]
    return {"stable": not unstable, "stability_note": "; ".join(unstable) or STABLE_NOTE}
