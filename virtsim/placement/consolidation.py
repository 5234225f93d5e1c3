"""One consolidation round: overloaded hosts shed VMs, underloaded hosts are emptied. A plain function.

The round of Beloglazov & Buyya, CCPE 24(13), 2012, §5 (CloudSim's
``optimizeAllocation``), from the parts in :mod:`.overload`, :mod:`.selection`
and :mod:`.pabfd`:

1. find the overloaded hosts (§5.1);
2. from each, select VMs until it is no longer overloaded (§5.2);
3. place those VMs by PABFD on the hosts that are not overloaded (§5.3);
4. evacuate underloaded hosts (§5.4), the overloaded ones left out.

The controller that runs it every ``interval`` on a live simulation, turns its
decisions into migrations (:mod:`virtsim.model.migration`) and switches the
emptied hosts off comes with the simulation wiring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .pabfd import HostState, OverloadRule, evacuate_underloaded, pabfd, threshold_rule
from .selection import Selection, vms_to_migrate

__all__ = ["DEFAULT_INTERVAL_S", "Migration", "Round", "consolidation_round"]

DEFAULT_INTERVAL_S = 300.0
"""How often the controller runs: 300 s, the PlanetLab traces' sampling interval the paper's §6 evaluation uses."""


@dataclass(frozen=True, slots=True)
class Migration:
    vm: str
    source: str
    target: str
    reason: str
    """``overload`` or ``underload``."""


@dataclass(frozen=True, slots=True)
class Round:
    """The decisions of one round."""

    overloaded: tuple[str, ...]
    migrations: tuple[Migration, ...]
    unplaced: tuple[str, ...]
    """VMs selected off an overloaded host for which no host had room: they stay where they are."""
    evacuated: tuple[str, ...]
    """Hosts emptied by the underload step: to switch off once their VMs have left."""
    hosts: tuple[HostState, ...]
    """The hosts as the migrations leave them."""


def consolidation_round(hosts: Sequence[HostState], select: Selection, *, overloaded: OverloadRule = threshold_rule,
                        rng: np.random.Generator | None = None, exempt_idle_hosts: bool = False) -> Round:
    """One round over ``hosts`` with the overload rule ``overloaded`` and the selection policy ``select``."""
    states = list(hosts)
    over = [h.id for h in states if h.vms and overloaded(h)]
    sources: dict[int, str] = {}
    leaving = []
    for host in states:
        if host.id not in over:
            continue

        def still(left, host=host):
            return overloaded(replace(host, vms=tuple(left)))

        chosen = vms_to_migrate(host.vms, select, still, rng)
        for vm in chosen:
            sources[id(vm)] = host.id
        leaving.extend(chosen)
    placement = pabfd(leaving, states, exclude=over, overloaded=overloaded, exempt_idle_hosts=exempt_idle_hosts)
    moved = {vm.id for vm in leaving if vm.id in placement.placed}
    states = [h.without([vm for vm in leaving if vm.id in moved and sources[id(vm)] == h.id])
              for h in placement.hosts]
    migrations = [Migration(vm.id, sources[id(vm)], placement.placed[vm.id], "overload")
                  for vm in leaving if vm.id in moved]
    origin = {vm.id: h.id for h in states for vm in h.vms}
    evacuation = evacuate_underloaded(states, overloaded_hosts=over, overloaded=overloaded,
                                      exempt_idle_hosts=exempt_idle_hosts)
    migrations += [Migration(vm, origin[vm], target, "underload") for vm, target in evacuation.migrations.items()]
    return Round(tuple(over), tuple(migrations), placement.unplaced, evacuation.evacuated, evacuation.hosts)
