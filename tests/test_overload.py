"""A host's overload time: how long its consumers wanted more than its capacity, for any kind of work."""

from __future__ import annotations

import pytest
import simpy

from virtsim.engine import RateResource


def test_overload_time_counts_only_demand_beyond_capacity():
    """Two cores. a wants 2 from t=0 (exactly the capacity: not overloaded); b wants 2 more from t=1.

    Each then gets 1: a has 2 units left at t=1, b 2, both end at t=3, so the host
    was overloaded for 2 s.
    """
    env = simpy.Environment()
    cpu = RateResource(env, 2.0)
    a, b = cpu.root.add_child("a"), cpu.root.add_child("b")
    a.submit(4.0, max_rate=2.0)
    env.timeout(1.0).callbacks.append(lambda _e: b.submit(2.0, max_rate=2.0))
    env.run(until=0.5)
    assert cpu.root.overload_time(env.now) == 0.0
    env.run(until=2.0)
    assert cpu.root.overload_time(env.now) == pytest.approx(1.0, rel=1e-12)
    env.run(until=10.0)
    assert cpu.root.overload_time(env.now) == pytest.approx(2.0, rel=1e-12)
    assert cpu.completions == 2
