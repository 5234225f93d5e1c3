"""CFS bandwidth control: a container's ``cpu.max`` as a quota per period, not a fluid cap.

Linux lets a cgroup with ``cpu.max = quota period`` run on as many cores as it
has runnable threads until it has used ``quota`` of CPU time in the current
period; then it is throttled (runs nothing) until the period ends. A burst of
threads therefore finishes sooner than under a fluid cap of ``quota / period``
cores, then stalls; a lone thread under a fractional limit advances in
period-sized steps.

:class:`CpuQuota` enforces that on one consumer whose cap is its parent's limit.
It costs events only at changes: it learns every change of the node's
allocation from the engine (``ShareNode.on_alloc``), predicts from the current
rate when the quota runs out and schedules one wake-up then; when it fires it
pauses the node (a cap of 0) and wakes again at the period's end to restore the
cap. Periods lie on a grid from the controller's creation, like the kernel's
per-cgroup period timer. Usage in a period is computed when needed from the
engine's exact ∫allocation, so an idle container, or one that stays under its
quota, schedules nothing; after an idle period the quota is full again.
"""

from __future__ import annotations

import math

import simpy

from ..engine import ShareNode
from ..engine.events import LateCall, late_calls

#: Quota left, as a fraction of the quota, that counts as used up (absorbs rounding).
_REL_TOLERANCE = 1e-9


class CpuQuota:
    """``quota_work`` work units per ``period_s`` for ``node``, whose cap when running is ``open_cap``.

    ``quota_work`` is the limit in cores × core speed × period (work units, as
    the node's ∫allocation). Read ``throttled_s(now)`` and ``throttled_periods``
    for the results.
    """

    def __init__(self, env: simpy.Environment, node: ShareNode, quota_work: float, period_s: float,
                 open_cap: float):
        if not quota_work > 0 or not period_s > 0:
            raise ValueError(f"{node.name}: quota and period must be > 0, got {quota_work!r}, {period_s!r}")
        self.env = env
        self.node = node
        self.quota_work = quota_work
        self.period_s = period_s
        self.open_cap = open_cap
        self.origin_s = env.now
        self.throttled_periods = 0
        """Periods in which the quota ran out, so far."""
        self._throttled_total_s = 0.0
        self._throttled_since: float | None = None  # None while running
        self._period_end = self.origin_s + period_s
        self._used_at_start = 0.0  # the node's ∫allocation when the current period began
        self._rate = node.alloc  # the allocation in force since the last look
        self._late = late_calls(env)
        self._wakeup: LateCall | None = None  # the one scheduled wake-up that counts
        self._wakeup_s = math.inf
        node.on_alloc = self._allocation_changed

    def throttled_s(self, now: float) -> float:
        """Seconds so far during which the node was throttled."""
        total = self._throttled_total_s
        if self._throttled_since is not None:
            total += now - self._throttled_since
        return total

    # -- the engine's calls and the wake-ups ------------------------------------

    def _allocation_changed(self, node: ShareNode, now: float) -> None:
        used = self._used(now)
        if self._throttled_since is None:
            self._plan_exhaustion(now, used)

    def _wake(self, call: LateCall) -> None:
        if call is not self._wakeup:
            return  # superseded by a later plan
        self._wakeup = None
        self._wakeup_s = math.inf
        now = self.env.now
        used = self._used(now)
        if self._throttled_since is not None:  # the period ended: run again with a full quota
            self._throttled_total_s += now - self._throttled_since
            self._throttled_since = None
            self.node.set_cap(self.open_cap)  # re-plans through _allocation_changed
        elif self._exhausted(now, used):
            due = self._completion_due(now)
            if due is not None:  # let the engine complete it first: it was due as the quota ran out
                self._schedule(now, due)
                return
            self._throttled_since = now
            self.throttled_periods += 1
            self._schedule(now, self._period_end)
            self.node.set_cap(0.0)
        else:
            self._plan_exhaustion(now, used)  # the rate changed on the way

    # -- accounting --------------------------------------------------------------

    def _used(self, now: float) -> float:
        """Work used so far in the period that contains ``now``; moves the period on when one ended.

        The allocation was ``self._rate`` since the last look, so the ∫allocation
        at a boundary passed meanwhile follows from the one now.
        """
        integral = self.node.time_integrals(now)[0]
        if now >= self._period_end:
            k = math.floor((now - self.origin_s) / self.period_s)
            start = self.origin_s + k * self.period_s
            if start > now:  # rounding
                k -= 1
                start = self.origin_s + k * self.period_s
            end = self.origin_s + (k + 1) * self.period_s
            if end <= now:
                start, end = end, self.origin_s + (k + 2) * self.period_s
            self._used_at_start = integral - self._rate * (now - start)
            self._period_end = end
        self._rate = self.node.alloc
        return integral - self._used_at_start

    def _exhausted(self, now: float, used: float) -> bool:
        """The quota is used up now, up to rounding (also when what is left is below the clock's resolution)."""
        rate = self.node.alloc
        left = self.quota_work - used
        return rate > 0.0 and (left <= _REL_TOLERANCE * self.quota_work or now + left / rate <= now)

    def _completion_due(self, now: float) -> float | None:
        """When an activity of the node completes, if that is later than ``now`` but within the quota's tolerance.

        A request that needs exactly the quota left ends as the quota runs out;
        the two times, computed along different sums, may differ by rounding
        (1e-15 s after a hundred periods). Throttling first would hold the
        request's last 1e-15 s of work to the next period. Waiting for it costs
        at most ``_REL_TOLERANCE`` of the quota, what :meth:`_exhausted` forgives.
        (Reads the engine's activity groups: ``t_finish`` is current once the
        engine has settled, which it has when this controller wakes.)
        """
        rate = self.node.alloc
        horizon = now + _REL_TOLERANCE * self.quota_work / rate
        soonest = min((group.t_finish for group in self.node.groups.values() if group.n), default=math.inf)
        return soonest if now < soonest <= horizon else None

    def _plan_exhaustion(self, now: float, used: float) -> None:
        """Schedule a wake-up when the quota runs out at the current rate (none if it never does)."""
        rate = self.node.alloc
        if rate <= 0.0:
            self._schedule(now, math.inf)
            return
        at = now + (self.quota_work - used) / rate
        if at >= self._period_end:
            # Not in this period; in a later one only if the rate exceeds the limit.
            at = self._period_end + self.quota_work / rate if rate * self.period_s > self.quota_work else math.inf
        self._schedule(now, at)

    def _schedule(self, now: float, at: float) -> None:
        if at == self._wakeup_s:
            return
        self._wakeup_s = at
        if at == math.inf:
            self._wakeup = None
            return
        # After every engine event of that instant: a completion due exactly
        # when the quota runs out completes rather than being throttled.
        self._wakeup = self._late.call(max(0.0, at - now), self._wake)
