"""Energy meters: the exact time integral of a host's power draw.

A host's CPU utilization u is constant between changes of its root
allocation, so ∫P(u(t))dt is a sum of P(u) × the time spent at each u; the
meter adds one term at every change (the engine calls it), and costs nothing
on hosts without one. A linear model needs no meter: its energy follows from
∫u dt, which every node keeps anyway.
"""

from __future__ import annotations

from ..config.power import power_w

__all__ = ["EnergyMeter"]


class EnergyMeter:
    """∫ P(allocation / capacity) dt in joules for one host, from time ``start_s``."""

    __slots__ = ("model", "capacity", "utilization", "t_s", "energy_j")

    def __init__(self, model, capacity: float, start_s: float = 0.0, allocation: float = 0.0):
        self.model = model
        self.capacity = capacity
        self.utilization = allocation / capacity
        self.t_s = start_s
        self.energy_j = 0.0

    def __call__(self, now: float, allocation: float) -> None:
        self.energy_j += power_w(self.model, self.utilization) * (now - self.t_s)
        self.t_s = now
        self.utilization = allocation / self.capacity

    def energy_at(self, now: float) -> float:
        """Joules drawn from the start to ``now``."""
        return self.energy_j + power_w(self.model, self.utilization) * (now - self.t_s)
