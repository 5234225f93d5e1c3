"""What virtsim assumes of SimPy's event queue, and calls run after everything else of an instant.

SimPy (the versions pyproject.toml allows; ``tests/test_engine_wakeup.py`` checks
each assumption) processes the events of one instant by priority (``URGENT`` 0,
then ``NORMAL`` 1), and events of equal time and priority in the order they were
scheduled, including those scheduled during that instant. ``Environment.peek``
gives the time of the next event. The engine's wake-ups are plain ``Timeout``
events, one per planned completion, and share one callbacks list: SimPy reads an
event's list once, when it processes the event, and never changes it.

A controller that must act after every other event of an instant, also those
that instant's callbacks schedule (a completion due exactly when a CPU quota
runs out completes before the quota throttles), needs more than a ``Timeout``:
SimPy's public ways to trigger an event all schedule it at ``NORMAL``.
:class:`LateCalls` gives that order with public calls only. A call due at ``t``
is a ``Timeout`` to ``t``; when it fires, a zero-delay check goes to the back of
the instant's queue, and runs the call only once ``peek()`` shows nothing else
left at ``t`` (else it goes to the back again). One :class:`LateCalls` per
environment (:func:`late_calls`) serves every controller, so late calls of one
instant run one at a time, in the order they fell due, each after whatever the
one before it scheduled for that instant.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable

import simpy
from simpy.events import Timeout


class LateCall:
    """A call that :class:`LateCalls` will make; identifies it to its callback."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[LateCall], None]):
        self.callback = callback


class LateCalls:
    """Calls made ``delay_s`` from now, after every other event of that instant."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self._due: deque[LateCall] = deque()
        """Calls whose time has come, in the order they fell due."""
        self._checking = False
        """A check is queued at the current instant."""

    def call(self, delay_s: float, callback: Callable[[LateCall], None]) -> LateCall:
        """Run ``callback(call)`` at ``now + delay_s``, once nothing else is left at that instant."""
        if delay_s < 0:
            raise ValueError(f"negative delay {delay_s!r}")
        late = LateCall(callback)
        Timeout(self.env, delay_s).callbacks.append(lambda _event: self._fell_due(late))
        return late

    def _fell_due(self, late: LateCall) -> None:
        self._due.append(late)
        if not self._checking:
            self._checking = True
            self._check_later()

    def _check_later(self) -> None:
        Timeout(self.env, 0.0).callbacks.append(self._check)

    def _check(self, _event) -> None:
        env = self.env
        if env.peek() == env.now:  # others of this instant first, also those they schedule
            self._check_later()
            return
        late = self._due.popleft()
        if self._due:
            self._check_later()  # after what this call schedules for the instant
        else:
            self._checking = False
        late.callback(late)


_PER_ENVIRONMENT: weakref.WeakKeyDictionary[simpy.Environment, LateCalls] = weakref.WeakKeyDictionary()


def late_calls(env: simpy.Environment) -> LateCalls:
    """The environment's :class:`LateCalls`: one for all, so that two never wait for each other."""
    calls = _PER_ENVIRONMENT.get(env)
    if calls is None:
        calls = _PER_ENVIRONMENT[env] = LateCalls(env)
    return calls
