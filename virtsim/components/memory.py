"""Memory at run time: limits and the OOM killer; host swapping under overcommit.

A request's ``memory`` stays resident in its target while it runs. In a
container with a memory limit, a request that would take the container's use
over its limit makes the kernel's OOM killer end the container: every job in it
fails, and its restart policy brings it back after Docker's restart back-off
(100 ms, doubled on each restart that follows a run shorter than 10 s; Docker
documentation, "Restart policies": "an ever increasing delay (double the
previous delay, starting at 100 milliseconds)", reset once the container has
run for 10 s, and at most a minute: moby's restart manager). Nothing is clipped: the job that asked fails too. In a VM (its
RAM less the guest OS and the shims) or on a native host (its memory less
everything committed on it), the OOM killer ends the request that asked.

A host whose committed memory exceeds its physical memory reclaims it as
``model.memory.memory_pressure`` computes (page sharing, ballooning, then
swap). What it swaps is real I/O on its first disk: the pages are written out
at the start, and each request in a swapped VM reads back, page by page, the
swapped share of the memory it touches (``RequestPlan``'s swap phase).
"""

from __future__ import annotations

from collections.abc import Callable

from ..model.memory import memory_domains, memory_pressure
from .devices import DeviceShare

FIRST_RESTART_DELAY_S = 0.1
"""Docker's first restart delay (Docker docs, Restart policies)."""
RESET_AFTER_S = 10.0
"""A container that ran this long restarts with the first delay again (Docker docs, Restart policies)."""
MAX_RESTART_DELAY_S = 60.0
"""The longest delay: moby's restart manager caps the doubling at ``maxRestartTimeout = 1 * time.Minute``."""
PAGE_BYTES = 4096
"""The x86-64 base page: the unit of swapping."""


def swap_out(platform, host, reclaims) -> None:
    """Write what ``host`` swaps out to its first disk, sequentially, from now."""
    swapped = sum(r.swapped for r in reclaims)
    disks = platform.disks[host.name] if swapped > 0 else ()
    if disks:
        disk = disks[0]
        disk.node_for(f"{host.name}/swap").submit(swapped / disk.spec.write_bandwidth_bytes_per_s, max_rate=1.0)


class Swapping:
    """What each overcommitted host reclaims from its VMs (page sharing, ballooning, swap), swapped out from now.

    ``pressure`` maps a VM's path to its :class:`~virtsim.model.memory.Reclaim`.
    """

    def __init__(self, platform, hosts):
        self._vms = {f"{h.name}/{vm.name}": vm for h in hosts for vm in h.vms}
        self.pressure = {path: r for host in hosts for path, r in memory_pressure(host).items()}
        for host in hosts:
            swap_out(platform, host, [r for p, r in self.pressure.items() if p.startswith(f"{host.name}/")])

    def page_ins_per_request(self, path: str, memory_bytes: float) -> float:
        """Pages a request touching ``memory_bytes`` reads back from the host's swap, at ``path``.

        The share of its memory that the host swapped out is the VM's swapped
        fraction of its active memory.
        """
        vm_path = _swapping_vm(path)
        if vm_path is None or not memory_bytes:
            return 0.0
        reclaim = self.pressure.get(vm_path)
        if reclaim is None or not reclaim.swapped:
            return 0.0
        return reclaim.swapped_fraction(self._vms[vm_path]) * memory_bytes / PAGE_BYTES


def swap_share(disk, path: str) -> DeviceShare:
    """The host's ``disk`` as the swap of the VM ``path`` runs in (a nested VM's is its L1 VM's)."""
    vm_path = _swapping_vm(path)
    spec = disk.spec
    return DeviceShare(disk.node_for(f"{vm_path}.swap"), spec.iops, spec.bandwidth_bytes_per_s, spec.latency_s)


def _swapping_vm(path: str) -> str | None:
    """The VM whose memory the host reclaims for ``path``: its L1 VM (a nested VM's memory is part of its
    L1 VM's, a container's of its VM's); None for a host itself."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def memory_chains(hosts, workloads, target_code: dict[str, int]) -> dict[int, tuple]:
    """The memory domains of every target, by target code, if any workload's requests take memory."""
    if not any(w.demand is not None and w.demand.memory_bytes > 0 for w in workloads):
        return {}
    return {target_code[path]: chain for host in hosts for path, chain in memory_domains(host).items()}


def killable_containers(chains: dict[int, tuple]) -> list[str]:
    """The containers of ``chains`` the OOM killer can end (each is down while it restarts)."""
    return [path for chain in chains.values() for path, _, kind in chain if kind == "container"]


class MemoryUse:
    """Bytes in use by the jobs running in each memory domain (container limit, VM, native host).

    ``chains`` maps a target code to the domains its requests count against,
    innermost first, as ``model.memory.memory_domains`` gives them. Over a
    ``container`` domain, ``kill(path, restart_after_s)`` ends the container
    (and fails its jobs, which :meth:`release` their memory); over a
    ``process`` domain only the request that asked fails, and
    ``process_killed(path)`` is told.
    """

    def __init__(self, env, chains: dict[int, tuple[tuple[str, float, str], ...]],
                 kill: Callable[[str, float], None], process_killed: Callable[[str], None]):
        self.env = env
        self.chains = chains
        domains = {key for chain in chains.values() for key, _, _ in chain}
        self.used = dict.fromkeys(domains, 0.0)
        self.peak = dict.fromkeys(domains, 0.0)
        """Most bytes in use at once, per domain path."""
        self._held: dict[int, tuple[tuple[str, ...], float]] = {}
        self._kill = kill
        self._process_killed = process_killed
        self._last_start = dict.fromkeys(domains, 0.0)
        self._delay = dict.fromkeys(domains, FIRST_RESTART_DELAY_S)

    def allocate(self, target: int, nbytes: float, job: int) -> bool:
        """Take ``nbytes`` for ``job`` in ``target``; False if the OOM killer ended it."""
        chain = self.chains.get(target)
        if chain is None:
            return True
        used = self.used
        for key, limit, kind in chain:
            if used[key] + nbytes > limit:
                if kind == "container":
                    self._kill(key, self._restart_delay(key))
                else:
                    self._process_killed(key)
                return False
        keys = tuple(key for key, _, _ in chain)
        for key in keys:
            used[key] += nbytes
            if used[key] > self.peak[key]:
                self.peak[key] = used[key]
        self._held[job] = (keys, nbytes)
        return True

    def release(self, job: int) -> None:
        held = self._held.pop(job, None)
        if held is not None:
            keys, nbytes = held
            for key in keys:
                self.used[key] -= nbytes

    def _restart_delay(self, path: str) -> float:
        """Docker's back-off: doubled after a short run, reset after a run of 10 s."""
        now = self.env.now
        if now - self._last_start[path] >= RESET_AFTER_S:
            self._delay[path] = FIRST_RESTART_DELAY_S
        delay = self._delay[path]
        self._delay[path] = min(2.0 * delay, MAX_RESTART_DELAY_S)
        self._last_start[path] = now + delay
        return delay
