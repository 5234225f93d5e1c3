"""Which hosts draw power during a run, and the energy meters of those whose power is a table."""

from __future__ import annotations

from ..model.occupancy import empty_hosts
from .power import EnergyMeter


def switched_off(spec, tables: dict) -> set[str]:
    """Hosts switched off for the whole run: the empty ones, with ``energy.switch_off_empty``."""
    energy = spec.energy
    return empty_hosts(spec, tables) if energy and energy.switch_off_empty else set()


def energy_meters(env, platform, hosts, off_hosts: set[str]) -> dict[str, EnergyMeter]:
    """A meter on each powered host whose curve needs one (a table; a linear one follows from ∫u dt)."""
    meters = {}
    for host in hosts:
        power = host.hardware.power
        if power is not None and power.curve.metered and host.name not in off_hosts:
            cpu = platform.cpu[host.name]
            meters[host.name] = cpu.on_root_alloc = EnergyMeter(power, cpu.max_capacity, env.now, cpu.root.alloc)
    return meters
