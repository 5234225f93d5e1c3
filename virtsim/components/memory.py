"""Memory at run time: container limits and the OOM killer; host swapping under overcommit.

A request's ``memory`` stays resident in its target while it runs. In a
container with a memory limit, a request that would take the container's use
over its limit makes the kernel's OOM killer end the container: every job in it
fails, and its restart policy brings it back after Docker's restart back-off
(100 ms, doubled on each restart that follows a run shorter than 10 s; Docker
documentation, "Restart policies": "an ever increasing delay (double the
previous delay, starting at 100 milliseconds)", reset once the container has
run for 10 s). Nothing is clipped: the job that asked fails too.

A host whose committed memory exceeds its physical memory reclaims it as
``config.footprints.memory_pressure`` computes (page sharing, ballooning, then
swap). What it swaps is real I/O on its first disk: the pages are written out
at the start, and each request in a swapped VM reads back, page by page, the
swapped share of the memory it touches (``RequestPlan``'s swap phase).
"""

from __future__ import annotations

from collections.abc import Callable

FIRST_RESTART_DELAY_S = 0.1
"""Docker's first restart delay (Docker docs, Restart policies)."""
RESET_AFTER_S = 10.0
"""A container that ran this long restarts with the first delay again (Docker docs, Restart policies)."""
PAGE_BYTES = 4096
"""The x86-64 base page: the unit of swapping."""


def swap_out(platform, host, reclaims) -> None:
    """Write what ``host`` swaps out to its first disk, sequentially, from now."""
    swapped = sum(r.swapped for r in reclaims)
    disks = platform.disks[host.name] if swapped > 0 else ()
    if disks:
        disk = disks[0]
        disk.node_for(f"{host.name}/swap").submit(swapped / disk.spec.write_bandwidth_bytes_per_s, max_rate=1.0)


class MemoryUse:
    """Bytes in use per limited container, by the jobs running in it.

    ``limits`` maps a target code to its container's limit in bytes (targets
    without a limit are not tracked). ``kill(code)`` ends the container (and
    fails its jobs, which :meth:`release` their memory).
    """

    def __init__(self, env, limits: dict[int, float], kill: Callable[[int, float], None]):
        self.env = env
        self.limits = limits
        self.used = dict.fromkeys(limits, 0.0)
        self.peak = dict.fromkeys(limits, 0.0)
        """Most bytes in use at once, per target code."""
        self.kills = dict.fromkeys(limits, 0)
        self._held: dict[int, tuple[int, float]] = {}
        self._kill = kill
        self._last_start = dict.fromkeys(limits, 0.0)
        self._delay = dict.fromkeys(limits, FIRST_RESTART_DELAY_S)

    def allocate(self, target: int, nbytes: float, job: int) -> bool:
        """Take ``nbytes`` for ``job`` in ``target``; False if that OOM-killed the container."""
        limit = self.limits.get(target)
        if limit is None:
            return True
        used = self.used[target] + nbytes
        if used > limit:
            self.kills[target] += 1
            self._kill(target, self._restart_delay(target))
            return False
        self.used[target] = used
        if used > self.peak[target]:
            self.peak[target] = used
        self._held[job] = (target, nbytes)
        return True

    def release(self, job: int) -> None:
        held = self._held.pop(job, None)
        if held is not None:
            target, nbytes = held
            self.used[target] -= nbytes

    def _restart_delay(self, target: int) -> float:
        """Docker's back-off: doubled after a short run, reset after a run of 10 s."""
        now = self.env.now
        if now - self._last_start[target] >= RESET_AFTER_S:
            self._delay[target] = FIRST_RESTART_DELAY_S
        delay = self._delay[target]
        self._delay[target] = 2.0 * delay
        self._last_start[target] = now + delay
        return delay
