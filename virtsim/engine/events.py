"""What virtsim assumes of SimPy's event queue, and the one event it makes beyond SimPy's public API.

SimPy (the versions pyproject.toml allows; ``tests/test_engine_wakeup.py`` checks
each assumption) processes the events of one instant by priority (``URGENT`` 0,
then ``NORMAL`` 1, then any larger number), and events of equal time and
priority in the order they were scheduled, including those scheduled during
that instant. The engine's wake-ups are plain ``Timeout`` events (``NORMAL``),
one per planned completion, and share one callbacks list: SimPy reads an
event's list once, when it processes the event, and never changes it.

A controller that must act after every engine event of an instant, also those
that instant's callbacks schedule (a completion due exactly when a CPU quota
runs out completes before the quota throttles), needs a priority after
``NORMAL``. ``Environment.schedule`` takes any priority, but SimPy only
processes an event that is triggered, and its public ways to trigger one
(``Timeout``, ``Event.succeed``/``fail``/``trigger``) all schedule it at
``NORMAL`` themselves: no public call yields that order. :class:`LateTimeout`
is therefore a successful event by declaration, its state given as class
attributes under the names SimPy's own ``Timeout`` sets per instance, then
scheduled publicly. It is the only place that names SimPy's private fields.
"""

from __future__ import annotations

import simpy
from simpy.events import NORMAL, EventPriority

AFTER_NORMAL = EventPriority(NORMAL + 1)
"""Processed after every ``URGENT`` and ``NORMAL`` event of the same instant."""


class LateTimeout(simpy.Event):
    """A timeout ``delay_s`` seconds from now, processed after the instant's ``NORMAL`` events.

    Like a ``Timeout``: triggered when made, successful, value None.
    """

    # SimPy reads these when it processes the event (``Environment.step``) and
    # for ``triggered``/``ok``/``value``; its ``Timeout`` sets them per instance.
    _ok = True
    _value = None

    def __init__(self, env: simpy.Environment, delay_s: float):
        if delay_s < 0:
            raise ValueError(f"negative delay {delay_s!r}")
        super().__init__(env)
        env.schedule(self, AFTER_NORMAL, delay_s)
