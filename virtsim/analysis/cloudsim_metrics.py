"""CloudSim's consolidation metrics, beside virtsim's own: one row per run with a ``consolidation`` section.

The definitions are Beloglazov & Buyya, CCPE 24(13), 2012, §6.2 ("the paper"),
as CloudSim's power package computes them (its ``Helper`` printing a run's
results):

* **energy**: the hosts' energy over the run, in kWh; a switched-off host draws
  its curve's ``off_w`` (CloudSim: nothing at zero utilization), a booting one
  its idle power;
* **migrations**: the moves the controller started (CloudSim counts them when
  it sends them);
* **SLATAH**, SLA violation Time per Active Host: the time active hosts spent
  with their CPU demand above their capacity (100 % utilization) over the time
  they were active, summed over the hosts before the ratio (a host is active in
  an interval when it is on and ran something);
* **PDM**, Performance Degradation due to Migration: for each VM, the CPU it
  demanded and did not get while it migrated over all the CPU it demanded, then
  the mean over the VMs that demanded any. CloudSim's model takes 10 % of the
  migrating VM's demand (the paper's estimate); here it is what the engine
  measured (pre-copy's downtime, the contention on both hosts), and
  ``pdm_paper_estimate`` gives the 10 % figure beside it;
* **SLAV** = SLATAH × PDM; **ESV** = energy (kWh) × SLAV;
* **host shutdowns**: how many times a host was switched off.

virtsim's own: the CPU the tenants demanded and did not get (steal) in intervals
where their host was overloaded and while they migrated, the migrations' total
downtime, and the worst p99 response time of the workloads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

__all__ = ["CONSOLIDATION_COLUMNS", "PAPER_MIGRATION_DEGRADATION", "cloudsim_row", "pdm", "slatah"]

PAPER_MIGRATION_DEGRADATION = 0.1
"""The paper's §6.2 estimate of a migrating VM's performance degradation: 10 % of its CPU utilization."""

CONSOLIDATION_COLUMNS = ["rounds", "energy_kwh", "migrations", "migrations_overload", "migrations_underload",
                         "slatah", "pdm", "pdm_paper_estimate", "slav", "esv", "host_shutdowns",
                         "lost_cpu_overload_core_s", "lost_cpu_migration_core_s", "migration_downtime_s",
                         "response_time_p99_max_s"]

_J_PER_KWH = 3.6e6


def slatah(intervals: Iterable) -> float:
    """Σ overload time / Σ active time over every host's active intervals (``HostInterval`` records)."""
    over = active = 0.0
    for i in intervals:
        if i.state == "on" and i.busy_core_s > 0:
            active += i.end_s - i.start_s
            over += i.overload_s
    return over / active if active > 0 else float("nan")


def pdm(windows: Iterable, demand_by_vm: dict[str, float], speed_by_vm: dict[str, float]) -> float:
    """Mean over VMs with demand of (CPU demanded and not allocated while migrating) / CPU demanded in the run.

    ``windows`` hold work units (``demand``, ``alloc``), converted by the VM's core speed; ``demand_by_vm`` is
    each VM's demand over the run in core-seconds.
    """
    lost: dict[str, float] = defaultdict(float)
    for w in windows:
        lost[w.vm] += max(0.0, w.demand - w.alloc) / speed_by_vm[w.vm]
    ratios = [lost[vm] / total for vm, total in demand_by_vm.items() if total > 0]
    return float(np.mean(ratios)) if ratios else float("nan")


def cloudsim_row(controller, records, workloads) -> dict:
    """The row of ``consolidation.csv`` from a finished controller, the migration records and the workloads
    table (its ``response_time_p99_s``)."""
    intervals = controller.intervals
    energy = sum(i.energy_j for i in intervals) / _J_PER_KWH
    demand_by_vm: dict[str, float] = defaultdict(float)
    for vm, _host, _s, _e, demand, _alloc in controller.vm_intervals:
        demand_by_vm[vm] += demand
    speeds = {w.vm: controller.platform.consumers[w.vm].core_speed for w in controller.windows}
    p = pdm(controller.windows, demand_by_vm, speeds)
    migrating = defaultdict(float)
    for w in controller.windows:
        migrating[w.vm] += w.demand / speeds[w.vm]
    estimates = [PAPER_MIGRATION_DEGRADATION * migrating[vm] / total
                 for vm, total in demand_by_vm.items() if total > 0]
    s = slatah(intervals)
    overloaded = {(i.host, i.start_s) for i in intervals if i.overload_s > 0}
    lost_overload = float(sum(max(0.0, d - a) for vm, host, start, _e, d, a in controller.vm_intervals
                        if (host, start) in overloaded))
    lost_migration = float(sum(max(0.0, w.demand - w.alloc) / speeds[w.vm] for w in controller.windows))
    reasons = [r.reason for r in records]
    p99 = workloads["response_time_p99_s"] if workloads is not None and "response_time_p99_s" in workloads else []
    return {
        "rounds": controller.rounds,
        "energy_kwh": energy,
        "migrations": len(controller.windows),
        "migrations_overload": reasons.count("overload"),
        "migrations_underload": reasons.count("underload"),
        "slatah": s,
        "pdm": p,
        "pdm_paper_estimate": float(np.mean(estimates)) if estimates else float("nan"),
        "slav": s * p,
        "esv": energy * s * p,
        "host_shutdowns": controller.shutdowns,
        "lost_cpu_overload_core_s": lost_overload,
        "lost_cpu_migration_core_s": lost_migration,
        "migration_downtime_s": float(sum(r.downtime_s for r in records)),
        "response_time_p99_max_s": float(np.nanmax(p99)) if len(p99) and not np.all(np.isnan(p99)) else float("nan"),
    }
