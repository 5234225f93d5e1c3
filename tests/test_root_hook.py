"""The engine reports every change of a domain's root allocation to ``on_root_alloc``.

An energy meter relies on it: integrating the reported piecewise-constant
allocation must give exactly the root's own ∫alloc dt.
"""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.engine.sharing import RateResource


@settings(max_examples=40, deadline=None)
@given(jobs=st.lists(st.tuples(st.floats(0, 5), st.floats(0.1, 3), st.sampled_from([0, 1])), min_size=1, max_size=12),
       caps=st.tuples(st.floats(0.5, 2), st.floats(0.5, 2)))
def test_the_reported_allocation_integrates_to_the_roots_integral(jobs, caps):
    env = simpy.Environment()
    cpu = RateResource(env, 2.0)
    vms = [cpu.root.add_child(f"v{k}", cap=cap) for k, cap in enumerate(caps)]
    changes: list[tuple[float, float]] = [(0.0, 0.0)]
    cpu.on_root_alloc = lambda now, alloc: changes.append((now, alloc))

    def start(delay, work, vm):
        yield env.timeout(delay)
        vms[vm].submit(work, max_rate=1.0)

    for delay, work, vm in jobs:
        env.process(start(delay, work, vm))
    env.run(until=20.0)
    integral = sum(alloc * (t1 - t0) for (t0, alloc), (t1, _) in zip(changes, [*changes[1:], (20.0, None)]))
    assert integral == pytest.approx(cpu.root.time_integrals(20.0)[0], rel=1e-12, abs=1e-12)
    assert changes[-1][1] == cpu.root.alloc


def test_no_callback_by_default():
    assert RateResource(simpy.Environment(), 1.0).on_root_alloc is None
