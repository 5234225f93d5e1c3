"""VM selection: which VM leaves an overloaded host. Plain functions on plain records.

The policies of Beloglazov & Buyya, CCPE 24(13), 2012 ("the paper"), §5.2, with
the semantics of CloudSim's power package:

* MMT, minimum migration time (§5.2.1): the VM whose RAM crosses soonest;
* RS, random selection (§5.2.2): uniformly at random, from a ``numpy`` generator;
* MC, maximum correlation (§5.2.3): the VM whose utilization the other VMs'
  explain best (the largest R² of a multiple regression on them);
* MU, minimum utilization: the VM using the least of its CPU. Not one of the
  paper's policies: CloudSim's ``PowerVmSelectionPolicyMinimumUtilization``,
  shipped in the same package.

VMs in migration are never chosen. Ties go to the VM listed first. Every policy
returns None when no VM can be chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SELECTIONS", "Selection", "VmRecord", "select_mc", "select_mmt", "select_mu", "select_rs",
           "vms_to_migrate"]


@dataclass(frozen=True, slots=True, eq=False)
class VmRecord:
    """A VM as the consolidation policies see it (compared by identity: its history is an array)."""

    id: str
    ram_bytes: float
    """The RAM a migration moves (the paper's RAM_u: the RAM it uses)."""
    cpu_demand: float
    """Its current CPU demand, in the host's capacity unit (cores, say)."""
    cpu_capacity: float = 1.0
    """Its own CPU size in the same unit (its vCPUs): ``cpu_demand / cpu_capacity`` is its utilization."""
    history: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Its utilization history (fractions of its own CPU), oldest first."""
    migrating: bool = False
    """Already migrating: no policy picks it again."""

    @property
    def utilization(self) -> float:
        return self.cpu_demand / self.cpu_capacity


Selection = Callable[[Sequence[VmRecord], "np.random.Generator | None"], "VmRecord | None"]
"""A selection policy: the VMs of one host (and a random stream, for RS) to the VM to migrate."""


def _candidates(vms: Sequence[VmRecord]) -> list[VmRecord]:
    return [vm for vm in vms if not vm.migrating]


def select_mmt(vms: Sequence[VmRecord], rng: np.random.Generator | None = None) -> VmRecord | None:
    """MMT: the VM of least migration time RAM_u / NET, with NET the host's spare bandwidth (the paper §5.2.1).

    NET is the same for every VM of the host, so the choice is the VM of
    least RAM (as CloudSim's ``PowerVmSelectionPolicyMinimumMigrationTime``).
    """
    candidates = _candidates(vms)
    return min(candidates, key=lambda vm: vm.ram_bytes) if candidates else None


def select_mu(vms: Sequence[VmRecord], rng: np.random.Generator | None = None) -> VmRecord | None:
    """MU: the VM of least current CPU utilization, demand over its own CPU (CloudSim's MinimumUtilization)."""
    candidates = _candidates(vms)
    return min(candidates, key=lambda vm: vm.utilization) if candidates else None


def select_rs(vms: Sequence[VmRecord], rng: np.random.Generator | None = None) -> VmRecord | None:
    """RS: a VM drawn uniformly at random (the paper §5.2.2), from ``rng`` (required: runs stay reproducible)."""
    if rng is None:
        raise ValueError("random selection (RS) needs a numpy random Generator (rng=)")
    candidates = _candidates(vms)
    return candidates[int(rng.integers(len(candidates)))] if candidates else None


def correlation_scores(histories: Sequence[np.ndarray]) -> list[float] | None:
    """R² of each history regressed, with an intercept, on all the others (the paper §5.2.3).

    The histories are aligned on their newest values and cut to the shortest.
    None when the regressions are not determined: fewer than 2 series, not
    more observations than coefficients (n series need at least n + 1 values:
    the residuals keep a degree of freedom), or predictors that are linearly
    dependent. A series without variance scores NaN (it is never chosen).
    CloudSim falls back to MMT in these cases, as :func:`select_mc` does.
    """
    n = len(histories)
    if n < 2:
        return None
    m = min(len(h) for h in histories)
    if m < n + 1:
        return None
    data = np.stack([np.asarray(h, dtype=float)[-m:] for h in histories])
    scores = []
    for i in range(n):
        y = data[i]
        design = np.column_stack([np.ones(m), np.delete(data, i, axis=0).T])
        coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
        if rank < design.shape[1]:
            return None
        total = float(((y - y.mean()) ** 2).sum())
        residual = float(((y - design @ coef) ** 2).sum())
        scores.append(1.0 - residual / total if total > 0 else float("nan"))
    return scores


def select_mc(vms: Sequence[VmRecord], rng: np.random.Generator | None = None, *,
              fallback: Selection = select_mmt) -> VmRecord | None:
    """MC: the VM whose utilization history has the largest multiple correlation with the others' (§5.2.3).

    The score of each VM is the R² of :func:`correlation_scores`; when the
    regressions are not determined (short histories, a single VM), ``fallback``
    decides (MMT, as in CloudSim's power experiments).
    """
    candidates = _candidates(vms)
    if not candidates:
        return None
    scores = correlation_scores([vm.history for vm in candidates])
    if scores is None:
        return fallback(candidates, rng)
    best, best_score = candidates[0], -np.inf
    for vm, score in zip(candidates, scores):
        if score > best_score:  # NaN never wins
            best, best_score = vm, score
    return best


SELECTIONS: dict[str, Selection] = {"mmt": select_mmt, "mc": select_mc, "rs": select_rs, "mu": select_mu}
"""The selection policies by name."""


def vms_to_migrate(vms: Sequence[VmRecord], select: Selection, still_overloaded: Callable[[list[VmRecord]], bool],
                   rng: np.random.Generator | None = None) -> list[VmRecord]:
    """The VMs to take off an overloaded host: select one, take it off, until the host is no longer overloaded.

    ``still_overloaded`` judges the VMs left on the host. At least one VM is
    taken (the host was found overloaded); the loop ends early when no VM can
    be chosen (CloudSim's ``getVmsToMigrateFromHosts``).
    """
    left = list(vms)
    chosen: list[VmRecord] = []
    while True:
        vm = select(left, rng)
        if vm is None:
            break
        chosen.append(vm)
        left = [other for other in left if other is not vm]
        if not still_overloaded(left):
            break
    return chosen
