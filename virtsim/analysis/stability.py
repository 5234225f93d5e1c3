"""Is an open workload's queue stable? A run at ρ ≥ 1 has no steady state to report.

Jobs of an open workload arrive whatever the system does; if they come faster
than its target can serve them (utilization ρ ≥ 1) the number in the system
grows through the run and the means it gives depend on the run's length, not
on the model. Two signs, either enough:

* **offered load ≥ capacity**: the CPU work of the jobs that arrived in the
  measured window (and, for Poisson arrivals, the configured rate × mean
  demand) over what the workload's targets can serve, their cores × core
  speed. That capacity ignores overheads and neighbours, so the ratio is a
  lower bound on ρ: ≥ 1 means unstable for certain;
* **the backlog grew**: the jobs in the system at the end of the window
  exceed those at its start by more than ``GROWTH_FRACTION`` of the window's
  arrivals (and ``GROWTH_MIN`` jobs). A stable queue fluctuates around its
  mean; an unstable one gains (1 − 1/ρ) of its arrivals. It also flags a run
  too short to leave its start-up transient, which is as untrustworthy.

Closed and batch workloads have a bounded population: always stable here.
A stable workload's note is ``ok`` (an empty cell would read back from CSV as NaN).
"""

from __future__ import annotations

import numpy as np

from ..workloads.distributions import mean_of

__all__ = ["GROWTH_FRACTION", "GROWTH_MIN", "STABLE_NOTE", "stability"]

STABLE_NOTE = "ok"

GROWTH_FRACTION = 0.05
GROWTH_MIN = 20
"""A backlog growth below this many jobs is noise at any run length."""


def _in_system(arrival_s: np.ndarray, left_s: np.ndarray, t: float) -> int:
    """Jobs that had arrived by ``t`` and not yet left (completed or failed)."""
    return int(((arrival_s <= t) & ~(left_s <= t)).sum())


def stability(workload, jobs: dict, start_s: float, end_s: float, capacity_per_s: float) -> dict:
    """``offered_load``, ``stable`` and ``stability_note`` of one workload over [start_s, end_s].

    ``jobs`` holds the job table's columns of the workload's jobs;
    ``capacity_per_s`` the reference-core work per second its targets can serve.
    ``workload`` is its spec (None for a custom workload: no verdict, stable).
    """
    if workload is None or not workload.open_ended:
        return {"offered_load": float("nan"), "stable": True, "stability_note": STABLE_NOTE}
    arrival = jobs["arrival_s"]
    left = np.where(jobs["failed"], jobs["failed_at_s"], jobs["end_s"])
    window = (arrival > start_s) & (arrival <= end_s)
    measured = end_s - start_s
    offered = float("nan")
    if capacity_per_s > 0 and measured > 0:
        offered = float(jobs["cpu_demand_s"][window].sum()) / measured / capacity_per_s
    configured = _configured_load(workload, capacity_per_s)
    notes = []
    load = max(x for x in (offered, configured, 0.0) if x == x)  # NaN-free
    if load >= 1.0:
        which = "configured" if configured == load else "offered"
        notes.append(f"{which} CPU load {load:.3g} × the targets' capacity (ρ ≥ 1)")
    arrivals = int(window.sum())
    growth = _in_system(arrival, left, end_s) - _in_system(arrival, left, start_s)
    if growth >= GROWTH_MIN and growth > GROWTH_FRACTION * arrivals:
        notes.append(f"{growth} more jobs in the system at the end than at the start "
                     f"({growth / arrivals:.0%} of the {arrivals} arrivals)")
    return {"offered_load": offered, "stable": not notes, "stability_note": "; ".join(notes) or STABLE_NOTE}


def _configured_load(workload, capacity_per_s: float) -> float:
    """Rate × mean CPU demand over capacity for Poisson arrivals; NaN when the file does not fix it."""
    rate, demand = workload.poisson_rate_per_s, workload.demand
    if rate is None or demand is None or demand.cpu is None or capacity_per_s <= 0:
        return float("nan")
    return rate * mean_of(demand.cpu) / capacity_per_s
