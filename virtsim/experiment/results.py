"""The tables a run produces (summary, per workload, per stack, per consumer, per job, …), from a finished run.

Each table is computed in ``virtsim.analysis`` from the simulation's state;
:func:`collect` puts them together as :class:`Results`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..analysis.cloudsim_metrics import CONSOLIDATION_COLUMNS, cloudsim_row
from ..analysis.breakdown import add_breakdown, stack_table
from ..analysis.consumers import consumer_rows
from ..analysis.jobs import job_columns
from ..analysis.paired import paired_rows, summarize_differences
from ..analysis.placement import fragmentation, placement_table, unplaced_table
from ..analysis.summary import run_summary
from ..analysis.workload_rows import overall_stability, workload_rows
from ..components.migration import MIGRATION_COLUMNS
from .simulation import Simulation
from .timeseries import timeseries_table


@dataclass
class Results:
    """The outputs of one run, as pandas DataFrames plus the manifest."""

    summary: pd.DataFrame
    """One row for the run."""
    workloads: pd.DataFrame
    """One row per workload."""
    consumers: pd.DataFrame
    """One row per host, VM and container, named by its path."""
    jobs: pd.DataFrame
    """One row per job that arrived (after the warm-up ones too; see ``counted``)."""
    stacks: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per stack and workload: where the counted jobs' time went, on average."""
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))
    """One row per failure and repair event of the experiment's failure domains."""
    scaling: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCALING_COLUMNS))
    """One row per autoscaling decision that changed a workload's replicas."""
    manifest: dict = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    """With ``sample_interval``: one row per interval and consumer (utilization, steal); else None."""
    unplaced: pd.DataFrame | None = None
    """With a ``placement`` section: one row per pool item (or workload, failure) left out, and why; else None."""
    placement: pd.DataFrame | None = None
    """With a ``placement`` section: one row per host the pool could use, its capacities and commitments."""
    differences: pd.DataFrame | None = None
    """With a ``compare`` section: each stack's paired difference from the baseline, per compared workload."""
    links: pd.DataFrame | None = None
    """With a ``network`` section: one row per directed link, its bytes, utilization and time saturated."""
    migrations: pd.DataFrame | None = None
    """With ``migrations``: one row per live migration that ended (``components.migration``); else None."""
    consolidation: pd.DataFrame | None = None
    """With a ``consolidation`` section: one row, CloudSim's metrics and virtsim's (``analysis.cloudsim_metrics``)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {"summary": self.summary, "workloads": self.workloads, "stacks": self.stacks,
                  "consumers": self.consumers, "jobs": self.jobs, "failures": self.failures,
                  "scaling": self.scaling}
        if self.timeseries is not None:
            tables["timeseries"] = self.timeseries
        if self.unplaced is not None:
            tables["unplaced"] = self.unplaced
        if self.placement is not None:
            tables["placement"] = self.placement
        if self.differences is not None:
            tables["differences"] = self.differences
        if self.links is not None:
            tables["links"] = self.links
        if self.migrations is not None:
            tables["migrations"] = self.migrations
        if self.consolidation is not None:
            tables["consolidation"] = self.consolidation
        return tables


# pandas imports parts of pyarrow when it first builds a column of strings (its
# string columns are pyarrow's): made part of importing virtsim here, where
# imports belong, rather than of the first run's time.
pd.Index(["consumer"])

FAILURE_COLUMNS = ["time_s", "domain", "layer", "event", "consumers"]
"""``consumers``: how many consumers the event took down (failure) or brought back (repair)."""
SCALING_COLUMNS = ["time_s", "workload", "replicas_before", "replicas_after", "cpu_utilization"]
"""``cpu_utilization``: the serving replicas' mean over the last period, which asked for the change."""


def collect(sim: Simulation) -> Results:
    """Build the tables of a finished :class:`Simulation`."""
    spec = sim.spec
    jobs = job_columns(sim.log, spec.warmup_s, sim.end.time_s)
    add_breakdown(jobs, sim.log, sim.platform,
                  {w.name: (w.demand.threads if w.demand is not None else 1) for w in spec.workloads})
    rows = consumer_rows(sim)
    consumers = pd.DataFrame({column: [row[column] for row in rows] for column in rows[0]})
    summary = run_summary(sim, jobs, rows)
    workload_table = workload_rows(sim, jobs)
    summary.update(overall_stability(workload_table))
    events = pd.DataFrame(sim.failures.events if sim.failures is not None else [], columns=FAILURE_COLUMNS)
    timeseries = timeseries_table(sim.sampler) if sim.sampler is not None else None
    if timeseries is not None and sim.trace_loads.memory:
        timeseries["memory_in_use_mean_bytes"] = sim.trace_loads.memory_means(timeseries)
    scaling = pd.DataFrame(sim.scaling, columns=SCALING_COLUMNS)
    unplaced = placement = None
    if spec.placement is not None:
        unplaced = unplaced_table(spec.placement)
        placement = placement_table(spec.placement)
        summary.update({"hosts_used": int((placement["items"] > 0).sum()),
                        "cpu_fragmentation": fragmentation(placement)})
    workloads = pd.DataFrame(workload_table)
    differences = None
    if spec.comparison is not None:  # one replication: the differences, without an interval
        paired = paired_rows(workloads, spec.comparison.model_dump(mode="json"))
        differences = summarize_differences(paired, [], spec.comparison.level)
    fabric = sim.platform.fabric
    links = pd.DataFrame(fabric.links_table(sim.warmup.links, sim.end.links)) if fabric is not None else None
    migrations = None
    if sim.migrations is not None:
        migrations = pd.DataFrame([vars(r) for r in sim.migrations.records], columns=MIGRATION_COLUMNS)
    consolidation = None
    if sim.consolidation is not None:
        sim.consolidation.finish(sim.end.time_s)
        consolidation = pd.DataFrame([cloudsim_row(sim.consolidation, sim.migrations.records, workloads)],
                                     columns=CONSOLIDATION_COLUMNS)
    return Results(pd.DataFrame([summary]), workloads, consumers, pd.DataFrame(jobs, copy=False),
                   stack_table(jobs), events, scaling, timeseries=timeseries, unplaced=unplaced, placement=placement,
                   differences=differences, links=links, migrations=migrations, consolidation=consolidation)
