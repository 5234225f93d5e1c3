"""Fluid loads: a consumer's demand set from outside (a utilization trace), not made of jobs.

A :class:`FluidLoad` is a child node of the consumer holding one endless
activity; the node's cap is the demanded rate. Changing the rate is one
``set_cap`` (one re-sharing of that host), so replaying a trace costs one event
per change of value. What the fair share does not give the load is steal in
the consumer's integrals: a trace says what the VM *wanted*, so unserved demand
is not carried over as backlog.
"""

from __future__ import annotations

import simpy

from ..components.platform import BACKGROUND_HORIZON_S
from ..engine import Activity, ShareNode


class FluidLoad:
    """A demand of ``rate`` work units per second in ``parent``, changed with :meth:`set_rate`.

    ``max_rate`` bounds any rate it will be given (the parent's size); it
    weighs as one process running directly in ``parent``.
    """

    def __init__(self, parent: ShareNode, name: str, max_rate: float):
        self.name = name
        self.node = parent.add_child(name, weight=parent.task_weight, cap=max_rate)
        self.max_rate = max_rate
        self.rate = 0.0
        self.gain = 1.0
        """Work units in its parent per unit of rate: 1 where it was built; a live migration to a host of
        another core speed (or device bandwidth) changes it, so the replayed series keeps its meaning."""
        self._activity: Activity | None = None

    def set_rate(self, rate: float) -> None:
        rate = min(rate, self.max_rate)
        if rate == self.rate:
            return
        self.rate = rate
        if rate <= 0.0:
            self.node.resource.cancel(self._activity)
            self._activity = None
            return
        self.node.set_cap(rate * self.gain)
        if self._activity is None:
            # Never completes: at most max_rate for longer than any run.
            most = self.max_rate * self.gain
            self._activity = self.node.submit(BACKGROUND_HORIZON_S * most, max_rate=most)

    def move_to(self, parent: ShareNode, gain: float) -> None:
        """Carry on in ``parent`` (its VM's node on another host after a live migration) at ``gain``."""
        rate = self.rate
        if self._activity is not None:
            self.node.resource.cancel(self._activity)
            self._activity = None
        self.node = parent.add_child(self.name, weight=parent.task_weight, cap=self.max_rate * gain)
        self.gain = gain
        self.rate = 0.0
        self.set_rate(rate)


class StepReplay:
    """Sets ``apply(value * scale)`` at each change point of a step series, shifted by ``start_s``.

    The value in effect at ``start_s`` applies at time 0; after the series ends
    the value is 0.
    """

    def __init__(self, env: simpy.Environment, series, apply, scale: float, start_s: float = 0.0):
        self.env = env
        self.apply = apply
        times = series.times_s - start_s
        values = series.values * scale
        first = max(int((times <= 0.0).sum()) - 1, 0)
        self._times = times[first:].tolist()
        self._values = values[first:].tolist()
        self._end_s = series.end_s - start_s
        self._next = 0
        self.changes = 0
        """Change points applied so far (one event each)."""

    def start(self) -> None:
        if not self._times or self._end_s <= 0.0:
            return
        first = self._times[0]
        if first > 0.0:
            self.env.timeout(first).callbacks.append(self._step)
        else:
            self._step(None)

    def _step(self, _event) -> None:
        i = self._next
        times = self._times
        if i == len(times):
            self.apply(0.0)  # the trace is over
            return
        self.apply(self._values[i])
        self.changes += 1
        self._next = i + 1
        later = times[i + 1] if i + 1 < len(times) else self._end_s
        self.env.timeout(later - self.env.now).callbacks.append(self._step)
