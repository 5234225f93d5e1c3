"""Memory in use while requests run, against container limits: the OOM killer.

A request's ``memory`` stays resident in its target while it runs. In a
container with a memory limit, a request that would take the container's use
over its limit makes the kernel's OOM killer end the container: every job in it
fails, and its restart policy brings it back after Docker's restart back-off
(100 ms, doubled on each restart that follows a run shorter than 10 s; Docker
documentation, "Restart policies": "an ever increasing delay (double the
previous delay, starting at 100 milliseconds)", reset once the container has
run for 10 s). Nothing is clipped: the job that asked fails too.
"""

from __future__ import annotations

from collections.abc import Callable

FIRST_RESTART_DELAY_S = 0.1
"""Docker's first restart delay (Docker docs, Restart policies)."""
RESET_AFTER_S = 10.0
"""A container that ran this long restarts with the first delay again (Docker docs, Restart policies)."""


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
