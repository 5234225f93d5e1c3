"""Capacity search: the smallest value of one key (say, a host count) that meets a target, by simulation.

"How many hosts so that the p99 response time stays under 1 s?" Each probe sets
the key in the experiment, runs its replications, and reads the metric: its
mean over the replications and a Student-t confidence interval. A value meets
the target only when the whole interval lies below it, so the answer does not
hang on one lucky seed; bisection over the integer range finds the smallest
value that meets it, assuming more is never worse. The replications use the
seeds ``virtsim run`` gives the same file (the file's seed as is for one
replication, else the children of ``SeedSequence(seed)``), so a probe and a
run of the file with that value agree. Next to it, the M/M/c estimate of the
same question, for a workload of Poisson arrivals (see
:mod:`virtsim.analysis.queueing`).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.jobs import POOLED_ONLY_ALIKE
from ..analysis.queueing import mmc_smallest_servers
from ..analysis.stats import confidence_interval
from ..config import load_experiment
from ..config.errors import ConfigError, Problem
from ..config.sweep_plan import parse_path, run_seeds, set_path
from ..config.yaml_source import read_yaml
from ..workloads.distributions import mean_of
from .runner import run_spec

DEFAULT_REPLICATIONS = 5
"""Replications per probe when neither the caller nor the file (``replications: N > 1``) says."""


@dataclass
class Probe:
    value: int
    metric: float
    """Mean over the replications (NaN if a replication completed no job)."""
    meets: bool
    """The interval's upper end (the mean, with one replication) is below the target."""
    half_width: float = math.nan
    """Half-width of the confidence interval of the mean (NaN with one replication)."""
    values: tuple[float, ...] = ()
    """The metric of each replication."""


@dataclass
class CapacityAnswer:
    """What the search found, and how."""

    path: str
    metric: str
    below: float
    smallest: int | None
    """The smallest value that meets the target; None if even the largest tried does not."""
    probes: list[Probe] = field(default_factory=list)
    mmc_servers: int | None = None
    """The M/M/c answer, in servers (None where it does not apply)."""
    servers_per_step: float | None = None
    """Servers one unit of the key adds (a host's cores, for a host count), to compare the two."""
    mmc_note: str = ""
    replications: int = 1
    level: float = 0.95


def _raw(source) -> tuple[dict, Path]:
    if isinstance(source, dict):
        return copy.deepcopy(source), Path.cwd()
    path = Path(source)
    raw, _ = read_yaml(path)
    return raw, path.resolve().parent


def smallest_meeting(source: str | os.PathLike | dict, path: str, low: int, high: int, *, below: float,
                     metric: str = "response_time_p99_s", workload: str | None = None,
                     replications: int | None = None, seed: int | None = None,
                     level: float = 0.95) -> CapacityAnswer:
    """The smallest integer value of ``path`` in [low, high] for which ``metric`` < ``below``
    with confidence: the upper end of the interval at ``level`` over the replications.

    ``metric`` is a column of the summary table, or of the workloads table when
    ``workload`` names one. ``replications``: default the file's, or
    ``DEFAULT_REPLICATIONS`` when it has one; the seeds are those of ``virtsim run``.
    """
    raw, base = _raw(source)
    parts = parse_path(path)
    if parts is None:
        raise ConfigError([Problem("", f"{path!r} is not a key path such as hosts[0].count")], "capacity search")
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= low <= high, got {low} and {high}")
    if replications is None:
        written = raw.get("replications", 1)
        replications = written if isinstance(written, int) and written > 1 else DEFAULT_REPLICATIONS
    root_seed = raw.get("seed", 0) if seed is None else seed
    seeds = run_seeds(root_seed, replications, single_run=replications == 1)
    answer = CapacityAnswer(path, metric, below, None, replications=replications, level=level)
    cache: dict[int, Probe] = {}

    def probe(value: int) -> Probe:
        if value not in cache:
            scenario = copy.deepcopy(raw)
            try:
                set_path(scenario, parts, value)
            except (KeyError, IndexError, TypeError):
                raise ConfigError([Problem(path, "no such key in the experiment")], "capacity search") from None
            spec = load_experiment(scenario, base_dir=base)
            values = [_read(run_spec(spec, seed=s), metric, workload) for s in seeds]
            mean, half = confidence_interval(values, level)  # NaN, NaN if a replication gave NaN
            upper = mean if math.isnan(half) else mean + half
            cache[value] = Probe(value, mean, upper < below, half, tuple(values))
            answer.probes.append(cache[value])
        return cache[value]

    if probe(high).meets:
        lo, hi = low - 1, high  # invariant: hi meets; lo does not (or is below the range)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if probe(mid).meets:
                hi = mid
            else:
                lo = mid
        answer.smallest = hi
    _mmc(answer, load_experiment(_with(raw, parts, high), base_dir=base), raw, parts, workload)
    return answer


def _with(raw: dict, parts: tuple, value) -> dict:
    scenario = copy.deepcopy(raw)
    set_path(scenario, parts, value)
    return scenario


def _read(results, metric: str, workload: str | None) -> float:
    table = results.summary
    if workload is not None:
        table = results.workloads[results.workloads["workload"] == workload]
        if table.empty:
            raise ValueError(f"no workload {workload!r}; the experiment has "
                             f"{', '.join(results.workloads['workload'])}")
    elif len(results.workloads) > 1 and metric in POOLED_ONLY_ALIKE:
        raise ValueError(f"{metric} is per workload here: name one with --workload "
                         f"({', '.join(results.workloads['workload'])})")
    if metric not in table.columns:
        raise ValueError(f"no column {metric!r}; choose one of {', '.join(table.columns)}")
    return float(table[metric].iloc[0])


def _mmc(answer: CapacityAnswer, spec, raw: dict, parts: tuple, workload: str | None) -> None:
    """The M/M/c answer for the (named or only) Poisson workload, at p99 of response time."""
    if answer.metric not in ("response_time_p99_s", "response_time_p95_s"):
        answer.mmc_note = "no M/M/c estimate for this metric"
        return
    candidates = [w for w in spec.workloads if workload in (None, w.name)]
    if len(candidates) != 1 or candidates[0].poisson_rate_per_s is None:
        answer.mmc_note = "no M/M/c estimate: it needs one workload with Poisson arrivals"
        return
    w = candidates[0]
    speed = spec.hosts[0].hardware.core_speed
    service_s = mean_of(w.demand.cpu) / speed
    q = 0.99 if answer.metric.endswith("p99_s") else 0.95
    try:
        answer.mmc_servers = mmc_smallest_servers(w.poisson_rate_per_s, service_s, below_s=answer.below, q=q)
    except ValueError as err:
        answer.mmc_note = f"no M/M/c estimate: {err}"
        return
    if len(parts) == 3 and parts[0] == "hosts" and parts[2] == "count":
        name = raw["hosts"][parts[1]]["name"]  # its copies are name-1, name-2, …
        host = next(h for h in spec.hosts if h.name in (name, f"{name}-1"))
        answer.servers_per_step = float(host.hardware.cores)
    answer.mmc_note = ("M/M/c: one FCFS queue before identical exponential servers; the simulation has the hosts' "
                       "own queues behind a balancer, processor sharing and the stack's costs")
