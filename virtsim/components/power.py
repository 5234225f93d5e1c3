"""Energy meters: the exact time integral of a host's power draw.

A host's CPU utilization u is constant between changes of its root
allocation, so ∫P(u(t))dt is a sum of P(u) × the time spent at each u: the
meter adds one term of its power curve's
:meth:`~virtsim.model.power.PowerCurve.energy_j` at every change (the engine
calls it), and costs nothing on hosts without one. A linear curve needs no
meter: its energy follows from ∫u dt, which every node keeps anyway.
"""

from __future__ import annotations

__all__ = ["EnergyMeter"]


class EnergyMeter:
    """∫ P(allocation / capacity) dt in joules for one host, from time ``start_s``.

    ``power`` is the host's power model; P is its ``curve``'s ``watts``.
    """

    __slots__ = ("curve", "_watts", "capacity", "utilization", "t_s", "energy_j")

    def __init__(self, power, capacity: float, start_s: float = 0.0, allocation: float = 0.0):
        self.curve = power.curve
        self._watts = self.curve.watts  # bound once: the engine calls the meter at every change
        self.capacity = capacity
        self.utilization = allocation / capacity
        self.t_s = start_s
        self.energy_j = 0.0

    def __call__(self, now: float, allocation: float) -> None:
        self.energy_j += self._watts(self.utilization) * (now - self.t_s)
        self.t_s = now
        self.utilization = allocation / self.capacity

    def energy_at(self, now: float) -> float:
        """Joules drawn from the start to ``now``."""
        return self.energy_j + self._watts(self.utilization) * (now - self.t_s)
