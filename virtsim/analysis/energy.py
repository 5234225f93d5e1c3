"""Energy, mean power and cost of each host over the measured window."""

from __future__ import annotations

from ..config.power import EnergyInput

__all__ = ["ENERGY_COLUMNS", "currency", "host_energy"]

ENERGY_COLUMNS = ("powered_on", "energy_j", "power_w", "cost")
"""Columns of a host's row (NaN on other consumers; energy NaN without a power model, cost without a price).
``cost`` is in the experiment's currency (``energy.currency``, the summary's ``currency`` column)."""


def currency(spec) -> str:
    """The ISO 4217 code prices and costs are in: ``energy.currency``, else its default (US dollars)."""
    return (spec.energy or EnergyInput()).currency


_S_PER_HOUR = 3600.0


def host_energy(sim, host, utilization_s: float, measured_s: float) -> dict:
    """The energy columns of ``host``'s row.

    ``utilization_s`` is ∫u dt over the window (CPU seconds / cores): the
    energy of a linear power curve is exact from it; a metered curve's (a
    table) is what the host's meter summed over the window. A switched-off host
    draws the curve's ``off_w``.
    """
    power = host.hardware.power
    on = host.name not in sim.off_hosts
    if power is None:
        energy = float("nan")
    else:
        curve = power.curve
        if not on:
            energy = curve.off_energy_j(measured_s)
        elif curve.metered:
            energy = sim.end.energy_j[host.name] - sim.warmup.energy_j[host.name]
        else:
            energy = curve.integral_energy_j(measured_s, utilization_s)
    energy_options = sim.spec.energy
    price = host.hardware.cost_per_hour
    if price is None and energy_options is not None:
        price = energy_options.cost_per_host_hour
    cost = (price * measured_s / _S_PER_HOUR if on else 0.0) if price is not None else float("nan")
    return {"powered_on": on, "energy_j": energy,
            "power_w": energy / measured_s if measured_s > 0 else float("nan"), "cost": cost}

