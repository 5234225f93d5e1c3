"""The consumers table: one row per host, VM, container and layer consumer of a finished run.

CPU time and steal come from the differences of the engine's time integrals
between the warm-up and end snapshots; the rest from the run's components
(gates, failures, memory in use, CFS quotas, energy meters).
"""

from __future__ import annotations

from ..model.memory import Reclaim, footprints
from .energy import ENERGY_COLUMNS, host_energy

__all__ = ["capacity_per_s", "consumer_rows"]


def consumer_rows(sim) -> list[dict]:
    """The rows of the consumers table of the finished simulation ``sim``, in the platform's order."""
    spec = sim.spec
    start, end = sim.warmup.time_s, sim.end.time_s
    measured = end - start
    memory = {path: b for host in spec.hosts for path, b in footprints(host).items()}
    gates = sim.startup.gates
    downs = sim.failures.downs if sim.failures is not None else {}
    reclaim = _reclaimed(sim.pressure, spec.hosts)
    peaks = dict(sim.memory.peak) if sim.memory is not None else {}
    peaks.update(sim.trace_loads.memory_peaks(start, end))
    kills: dict[str, int] = {}
    for time_s, domain, _layer, event, _n in (sim.failures.events if sim.failures is not None else ()):
        if event == "oom-kill" and start <= time_s <= end:
            kills[domain] = kills.get(domain, 0) + 1
    hosts = {host.name: host for host in spec.hosts}
    nothing = dict.fromkeys(ENERGY_COLUMNS, float("nan"))
    rows = []
    for path, consumer in sim.platform.all_consumers().items():
        a0, d0 = sim.warmup.integrals[path]
        a1, d1 = sim.end.integrals[path]
        alloc_work = a1 - a0
        speed = consumer.core_speed
        cpu_time = alloc_work / speed
        capacity = consumer.size_cores * measured
        rows.append({
            "consumer": path,
            "kind": consumer.kind,
            "host": consumer.host,
            "size_cores": consumer.size_cores,
            "cpu_time_s": cpu_time,
            "cpu_utilization": cpu_time / capacity if capacity > 0 else float("nan"),
            "steal_time_s": max(0.0, (d1 - d0) - alloc_work) / speed,
            "overload_time_s": (sim.end.overload_s[path] - sim.warmup.overload_s[path]
                                if consumer.kind == "host" else float("nan")),
            **_throttling(sim, path),
            "ready_at_s": gates[path].ready_at if path in gates else 0.0,
            "downtime_s": gates[path].closed_s(start, end) if path in gates else 0.0,
            "failures": sum(start <= t <= end for t in downs.get(path, ())),
            "memory_bytes": memory.get(path, 0.0),
            "memory_shared_bytes": reclaim[path].shared if path in reclaim else 0.0,
            "memory_ballooned_bytes": reclaim[path].ballooned if path in reclaim else 0.0,
            "memory_swapped_bytes": reclaim[path].swapped if path in reclaim else 0.0,
            "memory_in_use_peak_bytes": peaks.get(path, float("nan")),
            "oom_kills": kills.get(path, 0),  # in the measured window, like failures
            **(host_energy(sim, hosts[path], cpu_time / consumer.size_cores, measured) if consumer.kind == "host"
               else nothing),
        })
    return rows


def _reclaimed(pressure: dict, hosts) -> dict:
    """What each VM gives up under its host's overcommit, and (a host's row) what the host reclaims in all."""
    reclaim = dict(pressure)
    for host in hosts:
        mine = [r for p, r in pressure.items() if p.startswith(f"{host.name}/")]
        if mine:
            reclaim[host.name] = Reclaim(*(sum(getattr(r, k) for r in mine)
                                           for k in ("shared", "ballooned", "swapped")))
    return reclaim


def _throttling(sim, path: str) -> dict:
    """A container under a CFS quota: time and periods throttled in the measured window (NaN and 0 otherwise)."""
    if path not in sim.end.throttled:
        return {"throttled_time_s": float("nan"), "throttled_periods": 0}
    (s0, n0), (s1, n1) = sim.warmup.throttled[path], sim.end.throttled[path]
    return {"throttled_time_s": s1 - s0, "throttled_periods": n1 - n0}


def capacity_per_s(sim, targets: list[str]) -> float:
    """Reference-core work per second the ``targets`` can serve at most: their cores × core speed."""
    consumers = sim.platform.consumers
    return float(sum(consumers[t].size_cores * consumers[t].core_speed for t in targets if t in consumers))
