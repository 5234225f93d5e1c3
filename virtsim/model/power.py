"""A host's power draw as a function of its CPU utilization, and the energy it adds up to.

A curve draws :meth:`~PowerCurve.watts` at CPU utilization u (clipped to
[0, 1]) and ``off_w`` switched off: linear from the idle to the full-load
draw, or a SPECpower-style table of 11 readings at 0 %, 10 %, …, 100 %,
interpolated linearly between them (as CloudSim's ``PowerModelSpecPower``
does). A host's u is constant between changes of its allocation, so its energy
is exactly ∑ P(u) × the time spent at each u (:meth:`~PowerCurve.energy_j`;
a host's meter adds the same terms as they happen). A linear curve's energy
also follows from ∫u dt alone (:meth:`LinearCurve.integral_energy_j`), which
every host keeps anyway: it needs no meter. The config layer builds the curve
of a hardware profile's ``power``; the meters and the results both use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["LinearCurve", "PowerCurve", "TABLE_POINTS", "TableCurve"]

TABLE_POINTS = 11
"""Readings of a table curve: 0 % (active idle) to 100 % in steps of 10 %."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PowerCurve:
    """Draw in watts of one host against its CPU utilization."""

    off_w: float
    """Draw when switched off (standby), watts."""

    metered: ClassVar[bool] = True
    """Its energy depends on how u varied, not only on ∫u dt: a meter on the host sums it as the run goes."""

    def watts(self, utilization: float) -> float:
        """Draw in watts at a CPU utilization between 0 and 1."""
        raise NotImplementedError

    def energy_j(self, steps: Iterable[tuple[float, float]]) -> float:
        """Joules over a utilization constant between changes: ``steps`` of (u, seconds at u), summed in order."""
        total = 0.0
        for utilization, seconds in steps:
            total += self.watts(utilization) * seconds
        return total

    def off_energy_j(self, seconds: float) -> float:
        """Joules drawn switched off for ``seconds``."""
        return self.off_w * seconds


@dataclass(frozen=True, kw_only=True, slots=True)
class LinearCurve(PowerCurve):
    """Power grows linearly with u: ``idle_w + (max_w - idle_w) · u``."""

    idle_w: float
    """Draw at 0 % utilization (active idle), watts."""
    max_w: float
    """Draw at 100 % utilization, watts."""

    metered: ClassVar[bool] = False

    def watts(self, utilization: float) -> float:
        u = min(1.0, max(0.0, utilization))
        return self.idle_w + (self.max_w - self.idle_w) * u

    def integral_energy_j(self, seconds: float, utilization_s: float) -> float:
        """Joules over ``seconds`` in which ∫u dt is ``utilization_s`` (u within [0, 1] throughout): exact."""
        return self.idle_w * seconds + (self.max_w - self.idle_w) * utilization_s


@dataclass(frozen=True, kw_only=True, slots=True)
class TableCurve(PowerCurve):
    """The draw at 0 %, 10 %, …, 100 % utilization, linear in between."""

    readings_w: tuple[float, ...]
    """Eleven draws in watts, at 0 % (active idle), 10 %, …, 100 % utilization."""

    def __post_init__(self):
        if len(self.readings_w) != TABLE_POINTS:
            raise ValueError(f"a power table has {TABLE_POINTS} readings (0 %, 10 %, …, 100 %), "
                             f"got {len(self.readings_w)}")

    def watts(self, utilization: float) -> float:
        u = min(1.0, max(0.0, utilization))
        readings = self.readings_w
        steps = TABLE_POINTS - 1
        band = min(int(u * steps), steps - 1)
        frac = u * steps - band
        return readings[band] + (readings[band + 1] - readings[band]) * frac
