"""Time series of CPU use: every consumer's time integrals at each interval boundary.

Opt in with the experiment key ``sample_interval``. A SimPy process wakes once
per interval and reads each consumer's (∫alloc, ∫demand); utilization and steal
per interval are differences of those integrals, so they are exact averages
over the interval, never instantaneous rates sampled at a point. The cost is
O(intervals × consumers), independent of the number of events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import simpy

__all__ = ["TIMESERIES_COLUMNS", "Sampler", "timeseries_table"]

TIMESERIES_COLUMNS = ("start_s", "time_s", "consumer", "kind", "host", "cpu_time_s", "cpu_utilization",
                      "steal_time_s", "steal_fraction")


class Sampler:
    """Records the integrals of ``consumers`` (path → consumer) every ``interval_s`` from time 0."""

    def __init__(self, env: simpy.Environment, consumers: dict, interval_s: float):
        self.env = env
        self.consumers = consumers
        self.interval_s = interval_s
        self._nodes = [c.node for c in consumers.values()]
        self.times_s: list[float] = []
        self.alloc: list[np.ndarray] = []
        self.demand: list[np.ndarray] = []

    def record(self) -> None:
        """Record the integrals now; a second record at the same instant replaces the first."""
        now = self.env.now
        pairs = np.array([node.time_integrals(now) for node in self._nodes], dtype=float).reshape(-1, 2)
        if self.times_s and self.times_s[-1] == now:
            self.times_s.pop(), self.alloc.pop(), self.demand.pop()
        self.times_s.append(now)
        self.alloc.append(pairs[:, 0])
        self.demand.append(pairs[:, 1])

    def start(self) -> simpy.Process:
        return self.env.process(self._run())

    def _run(self):
        self.record()
        k = 1
        while True:
            # Boundaries at k × interval, not accumulated sums, so they do not drift.
            yield self.env.timeout(k * self.interval_s - self.env.now)
            self.record()
            k += 1


def timeseries_table(sampler: Sampler) -> pd.DataFrame:
    """One row per interval and consumer (interval-major), from a sampler whose run has ended.

    ``cpu_time_s`` is the CPU the consumer received in the interval (in seconds
    of its cores), ``cpu_utilization`` that over its capacity; ``steal_time_s``
    is the demand left unserved because of contention, ``steal_fraction`` that
    over its capacity (above 1 when it wanted more than twice what it could have).
    The last interval ends with the run and may be shorter.
    """
    times = np.asarray(sampler.times_s)
    alloc = np.vstack(sampler.alloc)
    demand = np.vstack(sampler.demand)
    consumers = list(sampler.consumers.values())
    speed = np.array([c.core_speed for c in consumers], dtype=float)
    size = np.array([c.size_cores for c in consumers], dtype=float)
    dt = np.diff(times)
    d_alloc = np.diff(alloc, axis=0)
    cpu_time = d_alloc / speed
    steal = np.maximum(0.0, np.diff(demand, axis=0) - d_alloc) / speed
    capacity = np.outer(dt, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(capacity > 0, cpu_time / capacity, np.nan)
        steal_fraction = np.where(capacity > 0, steal / capacity, np.nan)
    n_intervals, n_consumers = cpu_time.shape
    return pd.DataFrame({
        "start_s": np.repeat(times[:-1], n_consumers),
        "time_s": np.repeat(times[1:], n_consumers),
        "consumer": np.tile([c.path for c in consumers], n_intervals),
        "kind": np.tile([c.kind for c in consumers], n_intervals),
        "host": np.tile([c.host for c in consumers], n_intervals),
        "cpu_time_s": cpu_time.ravel(),
        "cpu_utilization": utilization.ravel(),
        "steal_time_s": steal.ravel(),
        "steal_fraction": steal_fraction.ravel(),
    }, columns=list(TIMESERIES_COLUMNS))
